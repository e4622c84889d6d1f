export interface BackoffPolicy {
  /** The first retry's delay, ms. Default 5 s. */
  baseMs: number;
  /** Cap on any one delay, ms. Default 15 min. */
  maxMs: number;
  /** Attempts before a delivery is given up as failed. Default 10 (about 50 minutes of trying). */
  maxAttempts: number;
}

export const defaultBackoffPolicy: BackoffPolicy = { baseMs: 5_000, maxMs: 15 * 60_000, maxAttempts: 10 };

/**
 * Exponential backoff with "equal jitter": after the n-th failed attempt (n ≥ 1) wait between half and
 * all of min(maxMs, baseMs·2^(n−1)), so receivers that come back are not hit by every sender at once.
 * `random` returns [0, 1) and is injected so tests are deterministic.
 */
export function retryDelayMs(
  failedAttempts: number,
  policy: BackoffPolicy = defaultBackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * How long a receiver asked us to wait (Retry-After: seconds or an HTTP date), or null when absent
 * or unreadable. Capped at an hour.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  const seconds = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - nowMs;
  if (!Number.isFinite(seconds) || seconds < 0) return null;
  return Math.min(seconds, 3_600_000);
}
