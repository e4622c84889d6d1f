import { latencyBinIndexOf, latencyIndexValueOf, zeroLatencyBinKey } from "./latency-bin-key-of.ts";
import type { SketchBins } from "./sketch-bins.ts";

/**
 * Estimates the `q`-quantile (0 ≤ q ≤ 1, e.g. 0.99 for p99) of the durations in a latency sketch, in ms.
 * Uses the DDSketch rule: the bin holding the sample of rank q·(n − 1) in ascending order, read back as
 * its representative value, so the result is within the sketch's relative accuracy (±2%) of a real
 * sample's duration. Returns null for an empty sketch. Bins with non-positive or non-finite counts and
 * keys that are not bin keys are ignored (a hand-edited or corrupt row degrades, it does not throw).
 * @throws RangeError when q is outside [0, 1].
 */
export function quantileFromLatencyBins(bins: Readonly<SketchBins>, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  let zeroCount = 0;
  let total = 0;
  const keyed: Array<{ index: number; count: number }> = [];
  for (const key in bins) {
    const count = bins[key];
    if (count === undefined || !(count > 0) || !Number.isFinite(count)) continue;
    if (key === zeroLatencyBinKey) {
      zeroCount += count;
    } else {
      const index = latencyBinIndexOf(key);
      if (Number.isNaN(index)) continue;
      keyed.push({ index, count });
    }
    total += count;
  }
  if (total === 0) return null;
  const rank = q * (total - 1);
  let cumulative = zeroCount;
  if (cumulative > rank) return 0;
  keyed.sort((x, y) => x.index - y.index);
  for (const { index, count } of keyed) {
    cumulative += count;
    if (cumulative > rank) return latencyIndexValueOf(index);
  }
  // Floating-point rounding of a huge total can leave rank at the very end: the top bin answers.
  const last = keyed[keyed.length - 1];
  return last === undefined ? 0 : latencyIndexValueOf(last.index);
}
