/** Width of a raw aggregation bucket, in milliseconds. */
export const rawBucketMs = 10_000;

/**
 * The start of the bucket of width `stepMs` that contains `timeMs` (both in ms since the epoch).
 * Buckets are aligned to the epoch, so every writer agrees on them; times before 1970 round down too.
 */
export function bucketStartOf(timeMs: number, stepMs: number = rawBucketMs): number {
  if (!(stepMs > 0)) throw new RangeError(`bucket width must be positive, got ${stepMs}`);
  return Math.floor(timeMs / stepMs) * stepMs;
}
