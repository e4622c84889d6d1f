/**
 * A sliding one-minute window of sends per destination. Pure: the caller passes the time. The state is
 * per process; after a restart a destination may get up to one extra window's worth.
 */
export class DestinationRateLimiter {
  private readonly sent = new Map<string, number[]>();

  /**
   * Records a send to `destinationId` at `nowMs` if fewer than `perMinute` went out in the last minute;
   * otherwise returns when the next one may go.
   */
  take(
    destinationId: string,
    perMinute: number,
    nowMs: number,
  ): { allowed: true } | { allowed: false; retryAtMs: number } {
    const windowStart = nowMs - 60_000;
    const times = (this.sent.get(destinationId) ?? []).filter((at) => at > windowStart);
    if (times.length >= Math.max(1, perMinute)) {
      this.sent.set(destinationId, times);
      return { allowed: false, retryAtMs: (times[0] ?? nowMs) + 60_000 };
    }
    times.push(nowMs);
    this.sent.set(destinationId, times);
    return { allowed: true };
  }
}
