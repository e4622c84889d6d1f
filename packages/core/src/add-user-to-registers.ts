import { hashString64, lastLowHashWord } from "./hash-string.ts";
import type { SketchBins } from "./sketch-bins.ts";

/**
 * HyperLogLog precision: 2^12 = 4096 registers, a standard error of 1.04 / √4096 ≈ 1.6% on distinct
 * users. A bucket's sparse map holds at most one entry per distinct user seen, and a fully populated
 * rollup at most 4096 entries (~40 KB of JSON), which the database merge handles comfortably.
 */
export const userHllPrecision = 12;

/** Number of HyperLogLog registers (m = 2^precision). */
export const userRegisterCount = 1 << userHllPrecision;

const indexShift = 32 - userHllPrecision;
const restMask = (1 << indexShift) - 1;
// The hash has 64 bits; the rank is 1 + the leading zeros of the 52 bits left after the index.
const maxRank = 64 - userHllPrecision + 1;

// Register keys are fixed decimal strings, built once so the hot path builds none.
const registerKeys: string[] = [];
for (let i = 0; i < userRegisterCount; i++) registerKeys.push(`r${i}`);

/**
 * The register a user id falls into and the rank it proposes, packed as `index * 64 + rank`
 * (index < 4096, 1 ≤ rank ≤ 53), so the hot path allocates nothing.
 */
export function userRegisterOf(userId: string): number {
  const high = hashString64(userId);
  const low = lastLowHashWord();
  const index = high >>> indexShift;
  const rest = high & restMask;
  let rank: number;
  if (rest !== 0) rank = Math.clz32(rest) - userHllPrecision + 1;
  else if (low !== 0) rank = indexShift + Math.clz32(low) + 1;
  else rank = maxRank;
  return index * 64 + rank;
}

/**
 * Adds a user id to a sparse HyperLogLog register map (mutating it; keys `r0`..`r4095`, see SketchBins):
 * the register's rank becomes the
 * max of its stored and proposed rank, the merge `faultline_sketch_max` does in the database. Adding the
 * same id again changes nothing. An empty id is still counted as one user (decoders send null instead).
 */
export function addUserToRegisters(registers: SketchBins, userId: string): void {
  const packed = userRegisterOf(userId);
  const key = registerKeys[packed >>> 6] ?? `r${packed >>> 6}`;
  const rank = packed & 63;
  const current = registers[key];
  if (current === undefined || current < rank) registers[key] = rank;
}
