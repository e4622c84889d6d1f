import { latencyIndexOf } from "./latency-bin-key-of.ts";

/**
 * A latency sketch in numeric form, kept by aggregation beside the `SketchBins` object the database
 * stores: the same bins as (DDSketch index, count) pairs sorted by index, plus the zero bin and the
 * total. Readers that only need quantiles (detection) use it instead of enumerating the string-keyed
 * object, which for dictionary-mode objects costs far more than the arithmetic that follows; being
 * sorted, a high quantile is a short walk down from the top, with no scratch histogram.
 */
export class LatencyIndexBins {
  /** DDSketch indices of the non-zero bins, ascending. */
  readonly indices: number[] = [];
  /** Count of each bin in `indices`. */
  readonly counts: number[] = [];
  /** Count of the zero bin (durations under 1 µs). */
  zero = 0;
  /** Sum of every count, the zero bin's included. */
  total = 0;
  /**
   * Whether every count added is a positive integer: then sums are exact in any order and
   * {@link quantileOfIndexBins} applies.
   */
  integral = true;
  /** Position of the last bin incremented: spans of one series cluster in a few bins. */
  private lastAt = 0;

  /** Counts one span of `durationMs` in its bin (the bin `latencyBinKeyOf` names). */
  addDuration(durationMs: number): void {
    const index = latencyIndexOf(durationMs);
    if (Number.isNaN(index)) this.addZero(1);
    else this.add(index, 1);
  }

  /** Adds `count` to bin `index`. */
  add(index: number, count: number): void {
    if (!(count > 0 && Number.isSafeInteger(count))) this.integral = false;
    this.total += count;
    const { indices, counts } = this;
    const last = this.lastAt;
    if (indices[last] === index) {
      counts[last] = (counts[last] ?? 0) + count;
      return;
    }
    // Binary search for the first bin not below `index`.
    let low = 0;
    let high = indices.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((indices[middle] ?? 0) < index) low = middle + 1;
      else high = middle;
    }
    this.lastAt = low;
    if (indices[low] === index) {
      counts[low] = (counts[low] ?? 0) + count;
    } else if (low === indices.length) {
      indices.push(index);
      counts.push(count);
    } else {
      indices.splice(low, 0, index);
      counts.splice(low, 0, count);
    }
  }

  /** Adds `count` to the zero bin. */
  addZero(count: number): void {
    if (!(count > 0 && Number.isSafeInteger(count))) this.integral = false;
    this.zero += count;
    this.total += count;
  }

  /** Adds every bin of `source` (the numeric twin of `addLatencyBinsInto`). */
  addAll(source: LatencyIndexBins): void {
    if (source.zero !== 0 || !source.integral) this.addZero(source.zero);
    const length = source.indices.length;
    for (let at = 0; at < length; at += 1) this.add(source.indices[at] ?? 0, source.counts[at] ?? 0);
  }
}

/**
 * Position cursors into each source's bins, reused across calls (detection asks for millions of
 * quantiles a minute).
 */
let cursors = new Int32Array(8);

/**
 * The `q`-quantile index of the merge of `sources`, all {@link LatencyIndexBins.integral}: the DDSketch
 * rule (the lowest bin whose cumulative count exceeds rank q·(total − 1)), found by walking down from
 * the top bins, where high quantiles lie. Returns NaN for the zero bin, null when the sources hold no
 * counts. Read a bin's value with `latencyIndexValueOf`.
 * @throws RangeError when q is outside [0, 1] or a source is not integral.
 */
export function quantileIndexOfIndexBins(sources: readonly LatencyIndexBins[], q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  let total = 0;
  let zero = 0;
  if (cursors.length < sources.length) cursors = new Int32Array(sources.length * 2);
  for (let at = 0; at < sources.length; at += 1) {
    const source = sources[at] as LatencyIndexBins;
    if (!source.integral) throw new RangeError("quantileIndexOfIndexBins needs integral counts");
    total += source.total;
    zero += source.zero;
    cursors[at] = source.indices.length - 1;
  }
  if (total === 0) return null;
  const rank = q * (total - 1);
  if (zero > rank) return Number.NaN;
  // cumulative(index) = total − (counts above index): the answer is the lowest index still above rank.
  let above = 0;
  let answer: number | null = null;
  for (;;) {
    // The highest bin not walked yet, over every source (few sources, so a scan beats a heap).
    let top = Number.NEGATIVE_INFINITY;
    for (let at = 0; at < sources.length; at += 1) {
      const cursor = cursors[at] ?? -1;
      if (cursor >= 0) {
        const index = (sources[at] as LatencyIndexBins).indices[cursor] ?? 0;
        if (index > top) top = index;
      }
    }
    if (top === Number.NEGATIVE_INFINITY) break;
    if (total - above <= rank) break;
    answer = top;
    for (let at = 0; at < sources.length; at += 1) {
      const cursor = cursors[at] ?? -1;
      const source = sources[at] as LatencyIndexBins;
      if (cursor >= 0 && source.indices[cursor] === top) {
        above += source.counts[cursor] ?? 0;
        cursors[at] = cursor - 1;
      }
    }
  }
  // Only the zero bin below rank's reach: the DDSketch rule answers with the zero bin.
  return answer ?? Number.NaN;
}
