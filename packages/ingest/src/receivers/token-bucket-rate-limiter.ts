/** The answer of a rate limiter for one request. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface TokenBucketOptions {
  /** Sustained requests per second per key. */
  ratePerSecond: number;
  /** Requests a key may make at once after being idle. */
  burst: number;
  /** Epoch milliseconds; injected so tests control time. */
  clock: () => number;
  /** Keys tracked at once (default 10 000); past it the least recently refilled key is forgotten. */
  maxKeys?: number;
}

/** Per-key token buckets: `take(key)` spends one token or says how long until one is back. */
export interface TokenBucketLimiter {
  take(key: string): RateDecision;
}

/**
 * Creates a token-bucket limiter with one bucket per key (an app key, an origin or an address), so one
 * noisy app cannot starve the others — unlike a single global bucket. Memory is bounded by `maxKeys`:
 * a forgotten key starts again with a full bucket, which only ever errs on the side of accepting.
 */
export function createTokenBucketLimiter(options: TokenBucketOptions): TokenBucketLimiter {
  const rate = Math.max(options.ratePerSecond, 1e-6);
  const burst = Math.max(1, options.burst);
  const maxKeys = options.maxKeys ?? 10_000;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take(key) {
      const now = options.clock();
      const bucket = buckets.get(key) ?? { tokens: burst, atMs: now };
      // Re-inserting keeps the map in least-recently-used order for eviction.
      buckets.delete(key);
      const elapsedMs = Math.max(0, now - bucket.atMs);
      bucket.tokens = Math.min(burst, bucket.tokens + (elapsedMs * rate) / 1000);
      bucket.atMs = now;
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) {
        const oldest = buckets.keys().next();
        if (!oldest.done) buckets.delete(oldest.value);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
    },
  };
}
