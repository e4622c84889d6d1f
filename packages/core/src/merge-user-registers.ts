import { emptySketchBins, type SketchBins } from "./sketch-bins.ts";

/**
 * Takes, register by register, the max rank of `source` into `target` (mutating it) and returns
 * `target`: the database's `faultline_sketch_max`. Used by rollups to avoid one copy per merged row.
 */
export function maxUserRegistersInto(target: SketchBins, source: Readonly<SketchBins>): SketchBins {
  for (const key in source) {
    const rank = source[key];
    if (rank === undefined) continue;
    const current = target[key];
    if (current === undefined || current < rank) target[key] = rank;
  }
  return target;
}

/**
 * Merges two HyperLogLog register maps into a new one (register-wise max): the sketch of the union of
 * both user sets. Commutative, associative and idempotent, so re-merging a retried batch is harmless.
 * Inputs are not changed.
 */
export function mergeUserRegisters(a: Readonly<SketchBins>, b: Readonly<SketchBins>): SketchBins {
  return maxUserRegistersInto(maxUserRegistersInto(emptySketchBins(), a), b);
}
