import { emptySketchBins, type SketchBins } from "./sketch-bins.ts";

/**
 * Adds every count of `source` into `target` (mutating it) and returns `target`: the same merge the
 * database's `faultline_sketch_add` does. Used by rollups to avoid one copy per merged row.
 */
export function addLatencyBinsInto(target: SketchBins, source: Readonly<SketchBins>): SketchBins {
  for (const key in source) {
    const count = source[key];
    if (count === undefined) continue;
    target[key] = (target[key] ?? 0) + count;
  }
  return target;
}

/**
 * Merges two latency sketches into a new one: counts of the same bin add. Commutative and associative,
 * so partial sketches from any writers, batches or rollups combine in any order. Inputs are not changed.
 */
export function mergeLatencyBins(a: Readonly<SketchBins>, b: Readonly<SketchBins>): SketchBins {
  return addLatencyBinsInto(addLatencyBinsInto(emptySketchBins(), a), b);
}
