import type { IngestLogger } from "./ingest-logger.ts";

/**
 * Says when a receiver turns exports away because ingest is overloaded (HTTP 503, gRPC UNAVAILABLE).
 * Clients retry, so nothing is lost yet, but an operator has to know the server is at its limit
 * before the Collector's queue overflows. Under overload every request would be refused, so the log
 * speaks at most once per interval, with how many were refused since it last spoke.
 */
export class LoadSheddingLog {
  private refusedSinceLastLine = 0;
  private lastLineAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: IngestLogger,
    private readonly transport: "otlp/http" | "otlp/grpc",
    private readonly intervalMs = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts one refused export; logs when the last line is at least an interval old. */
  refused(retryAfterSeconds: number): void {
    this.refusedSinceLastLine += 1;
    const now = this.clock();
    if (now - this.lastLineAtMs < this.intervalMs) return;
    this.logger.warn(
      {
        transport: this.transport,
        refused: this.refusedSinceLastLine,
        sinceMs: Number.isFinite(this.lastLineAtMs) ? now - this.lastLineAtMs : null,
        retryAfterSeconds,
      },
      "ingest overloaded: exports refused with retry-after; clients retry, but sustained refusals mean this server is at its limit",
    );
    this.refusedSinceLastLine = 0;
    this.lastLineAtMs = now;
  }
}
