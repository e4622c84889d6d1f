import { latencyBinIndexOf, latencyIndexValueOf, zeroLatencyBinKey } from "../latency-bin-key-of.ts";
import type { LatencyIndexBins } from "../latency-index-bins.ts";
import type { SketchBins } from "../sketch-bins.ts";

// Dense scratch histogram over DDSketch indices [denseMin, denseMin + denseSize): at 2% accuracy that is
// far beyond 1 µs .. 1 day (about -175 .. 460). Only the cells one quantile touched are read and cleared.
const denseMin = -2048;
const denseSize = 4096;
const dense = new Float64Array(denseSize);
/** Marks of cells already summed, for the general total. */
const seen = new Uint8Array(denseSize);
/** The representative value of each dense cell's index (the same numbers latencyIndexValueOf gives). */
const denseValues = Float64Array.from({ length: denseSize }, (_, cell) =>
  latencyIndexValueOf(cell + denseMin),
);

/**
 * The DDSketch index of a bin key, like {@link latencyBinIndexOf} (NaN for anything but a canonical
 * `b<integer>`), without building substrings: this runs for every bin of every series and bucket.
 */
export function binIndexOf(key: string): number {
  const length = key.length;
  if (length > 11) return latencyBinIndexOf(key);
  if (length < 2 || key.charCodeAt(0) !== 98 /* b */) return Number.NaN;
  let at = 1;
  const negative = key.charCodeAt(1) === 45; /* - */
  if (negative) {
    at = 2;
    if (length === 2) return Number.NaN;
  }
  // Canonical decimals only: "b0", never "b-0", "b01" or "b+1" (keys latencyBinKeyOf never writes).
  if (key.charCodeAt(at) === 48 /* 0 */) return length === 2 ? 0 : Number.NaN;
  let value = 0;
  for (; at < length; at += 1) {
    const digit = key.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

const valid = (count: number): boolean => count > 0 && Number.isFinite(count);

/**
 * The latency bins of one series and bucket in numeric form: (DDSketch index, count) pairs in the order
 * they were added, plus the zero bin. Several sketches added one after the other count as their merge
 * (`addLatencyBinsInto`). Reading a `SketchBins` object is the costly part (its keys are strings in a
 * dictionary-mode object); quantiles afterwards need no strings, objects or sorting. Reusable: `clear()`
 * keeps the arrays.
 */
export class LatencyBinCounts {
  private indices = new Float64Array(16);
  private counts = new Float64Array(16);
  private length = 0;
  private zero = 0;
  /** How many bins were added before the zero bin first was (its place among the merged keys). */
  private zeroAt = Number.POSITIVE_INFINITY;
  /**
   * Whether every count added so far is a positive integer: then every merged bin is valid and sums are
   * exact in any order, so the quick walk gives the very same answer.
   */
  private allCounts = true;

  clear(): void {
    this.length = 0;
    this.zero = 0;
    this.zeroAt = Number.POSITIVE_INFINITY;
    this.allCounts = true;
  }

  /** Adds a sketch's counts; keys that are not bin keys are skipped (quantiles ignore them). */
  add(bins: Readonly<SketchBins>): void {
    for (const key in bins) {
      const count = bins[key];
      if (count === undefined) continue;
      if (key === zeroLatencyBinKey) {
        this.zero += count;
        if (this.zeroAt > this.length) this.zeroAt = this.length;
        continue;
      }
      const index = binIndexOf(key);
      if (Number.isNaN(index)) continue;
      if (!(count > 0 && Number.isSafeInteger(count))) this.allCounts = false;
      if (this.length === this.indices.length) this.grow();
      this.indices[this.length] = index;
      this.counts[this.length] = count;
      this.length += 1;
    }
  }

  /**
   * Adds a sketch already in numeric form: the same as {@link add} of the `SketchBins` object built
   * alongside it, without reading any string key. (Bins come in index order rather than the object's
   * key order, which only matters to sums of non-integer counts, which aggregation never makes.)
   */
  addIndexBins(bins: LatencyIndexBins): void {
    const { indices, counts } = bins;
    const length = indices.length;
    if (bins.zero !== 0 || !bins.integral) {
      this.zero += bins.zero;
      if (this.zeroAt > this.length) this.zeroAt = this.length;
    }
    if (!bins.integral) this.allCounts = false;
    while (this.length + length > this.indices.length) this.grow();
    for (let at = 0; at < length; at += 1) {
      this.indices[this.length] = indices[at] ?? 0;
      this.counts[this.length] = counts[at] ?? 0;
      this.length += 1;
    }
  }

  /**
   * The `q`-quantile in ms, exactly as `quantileFromLatencyBins` gives it for the merge of the added
   * sketches (the DDSketch rule: the bin holding rank q·(n − 1), read back as its value); null when
   * they hold no counts.
   * @throws RangeError when q is outside [0, 1].
   */
  quantile(q: number): number | null {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
    let low = denseSize;
    let high = -1;
    let outside: Map<number, number> | null = null;
    let total = valid(this.zero) ? this.zero : 0;
    for (let at = 0; at < this.length; at += 1) {
      const index = this.indices[at] ?? 0;
      const count = this.counts[at] ?? 0;
      total += count;
      const cell = index - denseMin;
      if (cell >= 0 && cell < denseSize) {
        dense[cell] = (dense[cell] ?? 0) + count;
        if (cell < low) low = cell;
        if (cell > high) high = cell;
      } else {
        outside ??= new Map();
        outside.set(index, (outside.get(index) ?? 0) + count);
      }
    }
    const zero = valid(this.zero) ? this.zero : 0;
    const result = outside
      ? this.sortedQuantile(q, low, high, outside, zero)
      : this.allCounts && Number.isSafeInteger(total)
        ? countsQuantile(q, low, high, zero, total)
        : this.denseQuantile(q, low, high, zero);
    // Clear only the cells this call touched.
    for (let at = 0; at < this.length; at += 1) {
      const cell = (this.indices[at] ?? 0) - denseMin;
      if (cell >= 0 && cell < denseSize) dense[cell] = 0;
    }
    return result;
  }

  /** The general case (indices beyond the dense range: corrupt or absurd durations): sort the bins. */
  private sortedQuantile(
    q: number,
    low: number,
    high: number,
    outside: Map<number, number>,
    zero: number,
  ): number | null {
    const keyed: { index: number; count: number }[] = [];
    for (let cell = low; cell <= high; cell += 1) {
      const count = dense[cell] ?? 0;
      if (valid(count)) keyed.push({ index: cell + denseMin, count });
    }
    for (const [index, count] of outside) if (valid(count)) keyed.push({ index, count });
    let total = zero;
    for (const { count } of keyed) total += count;
    if (total === 0) return null;
    const rank = q * (total - 1);
    let cumulative = zero;
    if (cumulative > rank) return 0;
    keyed.sort((x, y) => x.index - y.index);
    for (const { index, count } of keyed) {
      cumulative += count;
      if (cumulative > rank) return latencyIndexValueOf(index);
    }
    const last = keyed[keyed.length - 1];
    return last === undefined ? 0 : latencyIndexValueOf(last.index);
  }

  /**
   * The quantile over the dense scratch cells [low, high] and the zero bin's count, any counts: the
   * total is summed over merged bins in order of first appearance, as the merged object's keys would be.
   */
  private denseQuantile(q: number, low: number, high: number, zero: number): number | null {
    let total = 0;
    for (let at = 0; at < this.length; at += 1) {
      if (at === this.zeroAt) total += zero;
      const cell = (this.indices[at] ?? 0) - denseMin;
      if (seen[cell] === 1) continue;
      seen[cell] = 1;
      const count = dense[cell] ?? 0;
      if (valid(count)) total += count;
    }
    for (let at = 0; at < this.length; at += 1) seen[(this.indices[at] ?? 0) - denseMin] = 0;
    if (this.zeroAt >= this.length) total += zero;
    if (total === 0) return null;
    const rank = q * (total - 1);
    let cumulative = zero;
    if (cumulative > rank) return 0;
    let last = -1;
    for (let cell = low; cell <= high; cell += 1) {
      const count = dense[cell] ?? 0;
      if (!valid(count)) continue;
      last = cell;
      cumulative += count;
      if (cumulative > rank) break;
    }
    // As in quantileFromLatencyBins: rounding that leaves rank past the end answers with the top bin.
    return last < 0 ? 0 : (denseValues[last] ?? 0);
  }

  private grow(): void {
    const indices = new Float64Array(this.indices.length * 2);
    indices.set(this.indices);
    this.indices = indices;
    const counts = new Float64Array(this.counts.length * 2);
    counts.set(this.counts);
    this.counts = counts;
  }
}

/**
 * The quantile over the dense scratch cells [low, high] when every cell holds a valid count or none
 * (0) and `total` is known: walks down from the top, since high quantiles lie there. The bin answering
 * is the lowest whose cumulative count from below exceeds the rank.
 */
function countsQuantile(q: number, low: number, high: number, zero: number, total: number): number | null {
  if (total === 0) return null;
  const rank = q * (total - 1);
  if (zero > rank) return 0;
  // cumulative(cell) = total − (counts above cell); find the lowest cell with cumulative > rank.
  let above = 0;
  let answer = -1;
  for (let cell = high; cell >= low; cell -= 1) {
    const count = dense[cell] ?? 0;
    if (count === 0) continue;
    if (total - above > rank) answer = cell;
    else break;
    above += count;
  }
  return answer < 0 ? (high >= low ? (denseValues[high] ?? 0) : 0) : (denseValues[answer] ?? 0);
}
