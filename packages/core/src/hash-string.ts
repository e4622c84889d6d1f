/**
 * A 64-bit non-cryptographic string hash, computed as two 32-bit lanes with `Math.imul` so that it
 * stays in small integers (no BigInt, no allocation) on the hot path. Deterministic across runtimes: it
 * reads UTF-16 code units, which every JavaScript engine agrees on.
 *
 * Each lane folds one code unit per step with its own odd multiplier and rotation; the lanes are then
 * cross-mixed and each finished with the MurmurHash3 32-bit finalizer so every input bit reaches every
 * output bit. It is not meant to resist adversarial collisions (it only feeds HyperLogLog registers and
 * exemplar fingerprints, where a crafted collision merely merges two counts).
 */

// One scratch slot for the low lane, so hashString64 can return two words without allocating. Safe:
// the hash is synchronous and re-entrancy free.
const lowLane = new Uint32Array(1);

function finalize32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes `text`; returns the high 32 bits and leaves the low 32 bits for {@link lastLowHashWord}.
 * Prefer {@link hashStringHex} outside the hot path.
 */
export function hashString64(text: string): number {
  const length = text.length;
  let a = 0x243f6a88 ^ length;
  let b = Math.imul(0x9e3779b9, length + 1) ^ 0x13198a2e;
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x2545f491);
    a = (a << 13) | (a >>> 19);
    b = Math.imul(b ^ unit, 0x7feb352d);
    b = (b << 17) | (b >>> 15);
  }
  a ^= Math.imul(b ^ (b >>> 15), 0x2c1b3c6d);
  b ^= Math.imul(a ^ (a >>> 13), 0x297a2d39);
  lowLane[0] = finalize32(b);
  return finalize32(a);
}

/** The low 32 bits of the last {@link hashString64} call. */
export function lastLowHashWord(): number {
  return lowLane[0] ?? 0;
}

/** The 64-bit hash of `text` as 16 lower-case hex characters (stable across releases: stored keys use it). */
export function hashStringHex(text: string): string {
  const high = hashString64(text);
  const low = lastLowHashWord();
  return high.toString(16).padStart(8, "0") + low.toString(16).padStart(8, "0");
}
