/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson, 2013): keeps the first and last point
 * and, from each of `maxPoints - 2` equal buckets between them, the point forming the largest triangle
 * with the point kept before it and the average of the next bucket. Spikes survive, flat stretches
 * thin out, so a chart of 1,000 points looks like the chart of all of them.
 *
 * Returns the indexes of the kept items, ascending. Items must be sorted by x. A missing y (null or
 * NaN, e.g. a latency with no spans) counts as 0 for the choice. With `maxPoints` ≥ the item count,
 * or below 3, every index (respectively the first and last) is kept.
 */
export function lttbIndexes(
  xs: readonly number[],
  ys: readonly (number | null)[],
  maxPoints: number,
): number[] {
  const count = xs.length;
  if (maxPoints >= count || count <= 2) return xs.map((_, index) => index);
  if (maxPoints < 3) return [0, count - 1];
  const y = (index: number): number => {
    const value = ys[index];
    return value === null || value === undefined || Number.isNaN(value) ? 0 : value;
  };
  const x = (index: number): number => xs[index] as number;
  const kept = [0];
  const bucketSize = (count - 2) / (maxPoints - 2);
  let previous = 0;
  for (let bucket = 0; bucket < maxPoints - 2; bucket++) {
    const start = Math.floor(bucket * bucketSize) + 1;
    const end = Math.floor((bucket + 1) * bucketSize) + 1;
    const nextStart = end;
    const nextEnd = Math.min(Math.floor((bucket + 2) * bucketSize) + 1, count);
    let averageX = 0;
    let averageY = 0;
    for (let index = nextStart; index < nextEnd; index++) {
      averageX += x(index);
      averageY += y(index);
    }
    const nextCount = Math.max(nextEnd - nextStart, 1);
    averageX /= nextCount;
    averageY /= nextCount;
    let bestArea = -1;
    let best = start;
    for (let index = start; index < end; index++) {
      const area = Math.abs(
        (x(previous) - averageX) * (y(index) - y(previous)) -
          (x(previous) - x(index)) * (averageY - y(previous)),
      );
      if (area > bestArea) {
        bestArea = area;
        best = index;
      }
    }
    kept.push(best);
    previous = best;
  }
  kept.push(count - 1);
  return kept;
}

/**
 * Downsamples items (sorted by `x`) to at most `maxPoints` with LTTB on the chosen `y`. Several series
 * that share one time axis can be thinned together by choosing on the most telling one (e.g. errors),
 * so their points stay aligned.
 */
export function downsampleLttb<T>(
  items: readonly T[],
  maxPoints: number,
  x: (item: T) => number,
  y: (item: T) => number | null,
): T[] {
  return lttbIndexes(items.map(x), items.map(y), maxPoints).map((index) => items[index] as T);
}
