import { createHash } from "node:crypto";
import {
  aggregateSpans,
  type GraphEdgeDelta,
  type IngestAggregate,
  type MergedIngestBatch,
  mergeIngestAggregates,
  type SeriesBucketDelta,
  SpanJoinIndex,
} from "@faultline/core";
import {
  claimIngestReceipts,
  type DbHandle,
  deleteIngestReceiptsBefore,
  ensureSeriesIds,
  foldRollups,
  type GraphEdgeRow,
  type IngestReceipt,
  type IngestRows,
  type RawQuery,
  type SeriesBucketRow,
  upsertIngestRows,
} from "@faultline/db";
import {
  type DecodeLimits,
  type DecodeResult,
  decodeTraceRequestJson,
  decodeTraceRequestProto,
  defaultDecodeLimits,
  type NormalizedSpan,
  OtlpDecodeError,
} from "@faultline/otlp";
import { type IngestLogger, silentLogger } from "../receivers/ingest-logger.ts";
import type { ExportOutcome, TraceEncoding, TraceSink } from "../receivers/trace-sink.ts";

export interface IngestPipelineOptions {
  db: DbHandle;
  /** Wall clock in ms since the epoch; bounds accepted event times and stamps receipts. */
  clock?: () => number;
  logger?: IngestLogger;
  /** Environment of spans whose resource names none. Default "production". */
  defaultEnvironment?: string;
  /** Spans accepted but not yet committed before new requests get 503. Default 250 000. */
  maxPendingSpans?: number;
  /** Oldest accepted span start, as an age in ms. Default 7 days. */
  maxAgeMs?: number;
  /** Latest accepted span start after now, in ms. Default 5 minutes. */
  maxFutureSkewMs?: number;
  /** How long request receipts are kept for retry deduplication. Default 1 hour (clients retry ≤ 5 min). */
  receiptRetentionMs?: number;
  /** Error fingerprints per series and bucket. Default 5. */
  maxExemplarsPerBucket?: number;
  decodeLimits?: DecodeLimits;
  /**
   * How often queued raw buckets are folded into the 1-minute and 1-hour rollups, in ms. Default
   * 5 000. Reads of rollup steps include what is not folded yet, so this only trades write batching
   * against the size of that tail.
   */
  rollupIntervalMs?: number;
  /** Called after each commit with what it added (detection and version inference hook in here). */
  onCommitted?: (batch: MergedIngestBatch) => void;
}

interface PendingRequest {
  receipt: IngestReceipt;
  aggregate: IngestAggregate;
  rejectionMessage: string | null;
  settle: (outcome: ExportOutcome) => void;
}

/** Retry-After for a commit that failed: clients retry soon, and the retry is deduplicated. */
const retryAfterFailedCommitSeconds = 1;
/** Receipt keys of recent commits remembered in memory, so a quick retry costs no decoding. */
const recentReceiptCapacity = 50_000;

/**
 * The ingest pipeline: decode → aggregate (event time) → durable group commit. It is the receivers'
 * TraceSink, and resolves an export only after its aggregates are committed, so a 2xx means durable.
 *
 * - **Group commit:** while one transaction runs, new requests queue; the next transaction takes all of
 *   them, so commits grow with load instead of multiplying.
 * - **Exactly once:** each request is keyed by the SHA-256 of its decompressed body. The key is claimed
 *   as a receipt in the same transaction as the aggregates; a retry of an acknowledged request (even
 *   after a crash and restart, or on another replica) finds its receipt and counts nothing.
 * - **Bounded memory:** once `maxPendingSpans` spans wait for a commit, new requests get 503 with a
 *   short Retry-After (checked by the receivers before they read a body).
 */
export class IngestPipeline implements TraceSink {
  private readonly db: DbHandle;
  private readonly clock: () => number;
  private readonly logger: IngestLogger;
  private readonly options: Required<
    Pick<
      IngestPipelineOptions,
      | "defaultEnvironment"
      | "maxPendingSpans"
      | "maxAgeMs"
      | "maxFutureSkewMs"
      | "receiptRetentionMs"
      | "maxExemplarsPerBucket"
      | "decodeLimits"
      | "rollupIntervalMs"
    >
  >;
  private readonly onCommitted: ((batch: MergedIngestBatch) => void) | undefined;
  private readonly joinIndex = new SpanJoinIndex();
  private readonly seriesIds = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<ExportOutcome>>();
  private readonly recentReceipts = new Map<string, IngestReceipt>();
  private queue: PendingRequest[] = [];
  private pendingSpans = 0;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private lastReceiptCleanupMs = 0;
  private folding: Promise<void> | null = null;
  private foldTimer: NodeJS.Timeout | null = null;
  /** Totals since start, for logs and benchmarks. */
  readonly stats = {
    requests: 0,
    acceptedSpans: 0,
    rejectedSpans: 0,
    duplicates: 0,
    commits: 0,
    failedCommits: 0,
    folds: 0,
    foldedRows: 0,
  };

  constructor(options: IngestPipelineOptions) {
    this.db = options.db;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.onCommitted = options.onCommitted;
    this.options = {
      defaultEnvironment: options.defaultEnvironment ?? "production",
      maxPendingSpans: options.maxPendingSpans ?? 250_000,
      maxAgeMs: options.maxAgeMs ?? 7 * 24 * 3_600_000,
      maxFutureSkewMs: options.maxFutureSkewMs ?? 5 * 60_000,
      receiptRetentionMs: options.receiptRetentionMs ?? 3_600_000,
      maxExemplarsPerBucket: options.maxExemplarsPerBucket ?? 5,
      decodeLimits: options.decodeLimits ?? defaultDecodeLimits,
      rollupIntervalMs: options.rollupIntervalMs ?? 5_000,
    };
  }

  /** Whether requests are being decoded, queued or committed right now (detection waits for them). */
  hasPendingWork(): boolean {
    return this.inFlight.size > 0 || this.queue.length > 0 || this.flushing !== null;
  }

  isOverloaded(): boolean {
    return this.closed || this.pendingSpans >= this.options.maxPendingSpans;
  }

  exportTraces(request: { body: Uint8Array; encoding: TraceEncoding }): Promise<ExportOutcome> {
    const key = createHash("sha256").update(request.body).digest("hex");
    const running = this.inFlight.get(key);
    if (running) return running;
    const outcome = this.acceptEncoded(key, request.body, request.encoding);
    this.inFlight.set(key, outcome);
    void outcome.finally(() => this.inFlight.delete(key));
    return outcome;
  }

  /**
   * Adds already-decoded spans (the Faro receiver's browser signals), with the same durability. `key`
   * identifies the request for deduplication; without one the spans are always counted.
   */
  exportSpans(spans: NormalizedSpan[], key?: string): Promise<ExportOutcome> {
    const requestKey =
      key ??
      `spans:${createHash("sha256").update(String(this.clock())).update(String(Math.random())).digest("hex")}`;
    return this.accept(requestKey, { spans, rejected: { count: 0, reasons: [] } });
  }

  private async acceptEncoded(
    key: string,
    body: Uint8Array,
    encoding: TraceEncoding,
  ): Promise<ExportOutcome> {
    const known = this.recentReceipts.get(key);
    if (known) {
      this.stats.duplicates += 1;
      return acceptedOutcome(known.rejectedSpans, known.rejectionMessage);
    }
    let decoded: DecodeResult;
    try {
      decoded =
        encoding === "proto"
          ? decodeTraceRequestProto(body, this.options.decodeLimits)
          : decodeTraceRequestJson(body, this.options.decodeLimits);
    } catch (error) {
      if (error instanceof OtlpDecodeError) return { status: "invalid", message: error.message };
      throw error;
    }
    return this.accept(key, decoded);
  }

  private accept(key: string, decoded: DecodeResult): Promise<ExportOutcome> {
    if (this.closed) return Promise.resolve({ status: "overloaded", retryAfterSeconds: 5 });
    this.stats.requests += 1;
    const nowMs = this.clock();
    const aggregate = aggregateSpans(decoded.spans, {
      defaultEnvironment: this.options.defaultEnvironment,
      nowMs,
      maxAgeMs: this.options.maxAgeMs,
      maxFutureSkewMs: this.options.maxFutureSkewMs,
      maxExemplarsPerBucket: this.options.maxExemplarsPerBucket,
      joinIndex: this.joinIndex,
    });
    const rejectedSpans = decoded.rejected.count + aggregate.rejected.count;
    const reasons = [...decoded.rejected.reasons, ...aggregate.rejected.reasons];
    const rejectionMessage =
      rejectedSpans > 0 ? `${rejectedSpans} spans rejected: ${reasons.join("; ")}` : null;
    return new Promise<ExportOutcome>((settle) => {
      this.queue.push({
        receipt: {
          key,
          receivedAtMs: nowMs,
          acceptedSpans: aggregate.accepted,
          rejectedSpans,
          rejectionMessage,
        },
        aggregate,
        rejectionMessage,
        settle,
      });
      this.pendingSpans += decoded.spans.length;
      // Start the commit on the next turn, not now: requests whose bodies arrived in the same I/O
      // phase then join it. Started at once, the first request would commit alone, and on PGlite
      // (which holds the event loop for a whole transaction) every request became its own commit.
      this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushQueue());
    });
  }

  /** Commits queued requests until none are left; requests arriving meanwhile join the next commit. */
  private async flushQueue(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.commit(batch);
      }
    } finally {
      this.flushing = null;
    }
  }

  private async commit(batch: PendingRequest[]): Promise<void> {
    const spansInBatch = batch.reduce(
      (sum, request) => sum + request.aggregate.accepted + request.receipt.rejectedSpans,
      0,
    );
    let committed:
      | { fresh: Set<string>; merged: MergedIngestBatch; newSeriesIds: Map<string, number> }
      | undefined;
    try {
      committed = await this.db.transaction(async (query) => {
        const fresh = await claimIngestReceipts(
          query,
          batch.map((request) => request.receipt),
        );
        const merged = mergeIngestAggregates(
          batch.filter((request) => fresh.has(request.receipt.key)).map((request) => request.aggregate),
          this.options.maxExemplarsPerBucket,
        );
        const newSeriesIds = await this.resolveSeriesIds(query, merged.seriesBuckets);
        await upsertIngestRows(query, this.toRows(merged, newSeriesIds));
        return { fresh, merged, newSeriesIds };
      });
    } catch (error) {
      this.stats.failedCommits += 1;
      this.logger.error({ err: error, requests: batch.length }, "ingest commit failed; clients will retry");
      for (const request of batch)
        request.settle({ status: "overloaded", retryAfterSeconds: retryAfterFailedCommitSeconds });
      return;
    } finally {
      this.pendingSpans -= Math.min(this.pendingSpans, spansInBatch);
    }
    this.stats.commits += 1;
    for (const [seriesKey, id] of committed.newSeriesIds) this.seriesIds.set(seriesKey, id);
    for (const request of batch) {
      const { receipt } = request;
      if (committed.fresh.has(receipt.key)) {
        this.stats.acceptedSpans += receipt.acceptedSpans;
        this.stats.rejectedSpans += receipt.rejectedSpans;
      } else {
        this.stats.duplicates += 1;
      }
      this.rememberReceipt(receipt);
      request.settle(acceptedOutcome(receipt.rejectedSpans, request.rejectionMessage));
    }
    this.onCommitted?.(committed.merged);
    this.scheduleFold();
    await this.cleanUpReceipts();
  }

  /**
   * Folds marked raw buckets into the rollups `rollupIntervalMs` after a commit, in a transaction of
   * its own: off the acknowledgement path, and one fold covers every commit of the interval, so a
   * rollup row is written once per interval instead of once per commit.
   */
  private scheduleFold(): void {
    if (this.foldTimer || this.closed) return;
    this.foldTimer = setTimeout(() => {
      this.foldTimer = null;
      void this.fold();
    }, this.options.rollupIntervalMs);
    this.foldTimer.unref();
  }

  /** Folds until nothing is marked (each fold takes at most 5 minutes of raw bucket times). */
  private fold(): Promise<void> {
    this.folding ??= (async () => {
      try {
        for (;;) {
          const result = await foldRollups(this.db);
          if (result.bucketTimes === 0) break;
          this.stats.folds += 1;
          this.stats.foldedRows += result.seriesRows;
        }
      } catch (error) {
        // Nothing is lost: the marks stay, readers still see the raw tail, the next fold retries.
        this.logger.warn({ err: error }, "rollup fold failed; will retry after the next commit");
      } finally {
        this.folding = null;
      }
    })();
    return this.folding;
  }

  private async resolveSeriesIds(
    query: RawQuery,
    deltas: readonly SeriesBucketDelta[],
  ): Promise<Map<string, number>> {
    const missing = new Map<string, SeriesBucketDelta["series"]>();
    for (const delta of deltas) {
      if (!this.seriesIds.has(delta.seriesKey)) missing.set(delta.seriesKey, delta.series);
    }
    if (missing.size === 0) return new Map();
    const ids = await ensureSeriesIds(query, [...missing.values()]);
    const found = new Map<string, number>();
    let index = 0;
    for (const seriesKey of missing.keys()) {
      const id = ids[index];
      if (id === undefined) throw new Error("series id missing");
      found.set(seriesKey, id);
      index += 1;
    }
    return found;
  }

  private toRows(merged: MergedIngestBatch, newSeriesIds: Map<string, number>): IngestRows {
    const idOf = (seriesKey: string): number => {
      const id = this.seriesIds.get(seriesKey) ?? newSeriesIds.get(seriesKey);
      if (id === undefined) throw new Error("series id was not resolved before writing");
      return id;
    };
    const bucketRow = (delta: SeriesBucketDelta): SeriesBucketRow => ({
      seriesId: idOf(delta.seriesKey),
      stepSeconds: delta.stepMs / 1000,
      bucketStartMs: delta.bucketStartMs,
      spans: delta.spans,
      errors: delta.errors,
      durationSumMs: delta.durationSumMs,
      latencyBins: delta.latencyBins,
      userRegisters: delta.userRegisters,
    });
    const edgeRow = (edge: GraphEdgeDelta): GraphEdgeRow => ({
      environment: edge.environment,
      kind: edge.kind,
      source: edge.source,
      target: edge.target,
      stepSeconds: edge.stepMs / 1000,
      bucketStartMs: edge.bucketStartMs,
      count: edge.count,
      errors: edge.errors,
      delaySumMs: edge.delaySumMs,
      delayMaxMs: edge.delayMaxMs,
      delayCount: edge.delayCount,
    });
    // Only raw rows: the rollup fold adds them to the 1-minute and 1-hour rows later (see scheduleFold).
    const seriesBuckets = merged.seriesBuckets.map(bucketRow);
    const edges = merged.edges.map(edgeRow);
    return {
      seriesBuckets,
      edges,
      exemplars: merged.exemplars.map((exemplar) => ({
        seriesId: idOf(exemplar.seriesKey),
        bucketStartMs: exemplar.bucketStartMs,
        fingerprint: exemplar.fingerprint,
        exceptionType: exemplar.exceptionType,
        message: exemplar.message,
        stack: exemplar.stack,
        traceId: exemplar.traceId,
        spanId: exemplar.spanId,
        count: exemplar.count,
      })),
      instanceVersions: merged.instanceVersions,
      services: merged.services.map((service) => ({
        environment: service.environment,
        name: service.service,
        sdkLanguage: service.sdkLanguage,
        firstSeenMs: service.firstSeenMs,
        lastSeenMs: service.lastSeenMs,
      })),
    };
  }

  private rememberReceipt(receipt: IngestReceipt): void {
    this.recentReceipts.set(receipt.key, receipt);
    if (this.recentReceipts.size > recentReceiptCapacity) {
      const oldest = this.recentReceipts.keys().next().value;
      if (oldest !== undefined) this.recentReceipts.delete(oldest);
    }
  }

  /** At most once a minute: forget receipts past every client's retry window. */
  private async cleanUpReceipts(): Promise<void> {
    const nowMs = this.clock();
    if (nowMs - this.lastReceiptCleanupMs < 60_000) return;
    this.lastReceiptCleanupMs = nowMs;
    try {
      await deleteIngestReceiptsBefore(this.db, nowMs - this.options.receiptRetentionMs);
    } catch (error) {
      this.logger.warn({ err: error }, "could not clean up old ingest receipts");
    }
  }

  /** Stops taking requests (503 from now on) and waits until everything accepted is committed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    if (this.foldTimer) clearTimeout(this.foldTimer);
    this.foldTimer = null;
    if (this.folding) await this.folding;
  }
}

function acceptedOutcome(rejectedSpans: number, errorMessage: string | null): ExportOutcome {
  return { status: "accepted", rejectedSpans, errorMessage };
}
