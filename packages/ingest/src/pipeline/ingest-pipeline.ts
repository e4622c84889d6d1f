import { createHash } from "node:crypto";
import {
  aggregateSpans,
  type GraphEdgeDelta,
  IngestAccumulator,
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
  findIngestReceipts,
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
  decodeTraceRequestJson,
  decodeTraceRequestProtoLazily,
  defaultDecodeLimits,
  type LazyDecodeResult,
  type NormalizedSpan,
  OtlpDecodeError,
} from "@faultline/otlp";
import { decodeSpansFromLog, encodeSpansForLog } from "../durability/spans-log-encoding.ts";
import { type WalRecord, WriteAheadLog } from "../durability/write-ahead-log.ts";
import { type IngestLogger, silentLogger } from "../receivers/ingest-logger.ts";
import type { ExportOutcome, TraceEncoding, TraceSink } from "../receivers/trace-sink.ts";
import { inTimeOrderedPieces } from "./in-time-ordered-pieces.ts";

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
  /**
   * Directory of the write-ahead log. When set, a request is acknowledged once it is synced to the log
   * (shared fdatasync per group), aggregates accumulate in memory across requests, and a checkpoint
   * every `checkpointIntervalMs` writes them to the database with the requests' receipts. Call
   * `start()` before use: it replays what the log holds beyond the last checkpoint. Without it, every
   * group of requests is committed to the database before it is acknowledged.
   */
  writeAheadLogDir?: string;
  /** With a write-ahead log: how often accumulated aggregates are written to the database. Default 1 000. */
  checkpointIntervalMs?: number;
  /**
   * With a write-ahead log: spans acknowledged but not yet checkpointed before new requests get 503
   * (the database is down or slower than ingest). Default 2 000 000.
   */
  maxUncheckpointedSpans?: number;
  /** Test hook: called after the log synced a group and before any of it is acknowledged. */
  onLogSynced?: (records: number) => void;
}

/** A request decoded and aggregated, waiting for its write-ahead log group to be synced. */
interface LoggedRequest {
  record: WalRecord;
  receipt: IngestReceipt;
  aggregate: IngestAggregate;
  spans: number;
  settle: (outcome: ExportOutcome) => void;
}

/** What a checkpoint writes: the accumulator it took over, its requests' receipts, its last segment. */
interface SealedCheckpoint {
  accumulator: IngestAccumulator;
  receipts: IngestReceipt[];
  spans: number;
  segment: number;
}

/** Thrown inside a checkpoint transaction to roll it back when some of its receipts were taken. */
class ReceiptsAlreadyClaimed extends Error {
  constructor(readonly keys: Set<string>) {
    super(`${keys.size} requests were already committed`);
  }
}

interface PendingRequest {
  receipt: IngestReceipt;
  aggregate: IngestAggregate;
  rejectionMessage: string | null;
  settle: (outcome: ExportOutcome) => void;
}

/**
 * Rows a checkpoint writes between two turns of the event loop (PGlite upserts ~8 000 sketch rows per
 * CPU second, so a piece holds the loop for tens of milliseconds).
 */
const checkpointPieceRows = 500;
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
  // Write-ahead log mode (see IngestPipelineOptions.writeAheadLogDir).
  private readonly walDir: string | null;
  private readonly checkpointIntervalMs: number;
  private readonly maxUncheckpointedSpans: number;
  private readonly onLogSynced: ((records: number) => void) | undefined;
  private wal: WriteAheadLog | null = null;
  private started = false;
  /** Serializes log appends and seals, so a seal falls between two groups. */
  private walChain: Promise<void> = Promise.resolve();
  private walQueue: LoggedRequest[] = [];
  private walWriteScheduled = false;
  private queuedSpans = 0;
  private accumulator = new IngestAccumulator();
  private accumulatedReceipts: IngestReceipt[] = [];
  /** Spans (accepted and rejected) acknowledged and not yet checkpointed. */
  private uncheckpointedSpans = 0;
  private checkpointRunning: Promise<void> | null = null;
  private checkpointQueued: Promise<void> | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
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
    /** Write-ahead log mode: synced groups, and spans replayed from the log at start. */
    logSyncs: 0,
    recoveredSpans: 0,
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
    this.walDir = options.writeAheadLogDir ?? null;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 1_000;
    this.maxUncheckpointedSpans = options.maxUncheckpointedSpans ?? 2_000_000;
    this.onLogSynced = options.onLogSynced;
  }

  /** Whether requests are being decoded, queued or committed right now (detection waits for them). */
  hasPendingWork(): boolean {
    return (
      this.inFlight.size > 0 ||
      this.queue.length > 0 ||
      this.flushing !== null ||
      this.walQueue.length > 0 ||
      this.accumulatedReceipts.length > 0 ||
      this.checkpointRunning !== null
    );
  }

  isOverloaded(): boolean {
    if (this.closed) return true;
    if (this.walDir === null) return this.pendingSpans >= this.options.maxPendingSpans;
    return (
      !this.started ||
      this.queuedSpans >= this.options.maxPendingSpans ||
      this.uncheckpointedSpans >= this.maxUncheckpointedSpans
    );
  }

  /**
   * With a write-ahead log: opens it and replays every request it holds that no checkpoint committed
   * (a receipt in the database marks a committed request), then starts the checkpoint timer. Requests
   * are refused with 503 until this resolves, so start it before the receivers listen. Without a log
   * it does nothing.
   */
  async start(): Promise<void> {
    if (this.walDir === null || this.started) return;
    const wal = await WriteAheadLog.open(this.walDir);
    this.wal = wal;
    const earlier = (await wal.segmentsOnDisk()).filter((segment) => segment < wal.currentSegment);
    const replayed = new Set<string>();
    for (const segment of earlier) {
      const records = (await wal.readSegment(segment)).filter((record) => {
        // A request can be in the log twice (a failed sync, then the client's retry): count it once.
        if (replayed.has(record.key)) return false;
        replayed.add(record.key);
        return true;
      });
      const committed = await this.findReceipts(records.map((record) => record.key));
      for (const record of records) {
        const known = committed.get(record.key);
        if (known) {
          this.rememberReceipt(known);
          continue;
        }
        const replay = this.aggregateRecord(record, this.joinIndex);
        if (replay === null) continue;
        this.accumulator.add(replay.aggregate);
        this.accumulatedReceipts.push(replay.receipt);
        this.uncheckpointedSpans += replay.spans;
        this.stats.recoveredSpans += replay.receipt.acceptedSpans;
        this.rememberReceipt(replay.receipt);
      }
    }
    if (this.accumulatedReceipts.length === 0 && earlier.length > 0) {
      await wal.deleteThrough(wal.currentSegment - 1);
    }
    this.started = true;
    if (this.accumulatedReceipts.length > 0) {
      this.logger.info(
        { requests: this.accumulatedReceipts.length, spans: this.stats.recoveredSpans },
        "replayed acknowledged requests from the ingest write-ahead log",
      );
      await this.requestCheckpoint();
    }
    this.checkpointTimer = setInterval(() => {
      if (this.accumulatedReceipts.length === 0) return;
      this.requestCheckpoint().catch(() => {
        // Logged by the checkpoint; the data stays in the log and the accumulator for the next one.
      });
    }, this.checkpointIntervalMs);
    this.checkpointTimer.unref();
  }

  /**
   * Resolves once everything acknowledged before the call is in the database: readers of series
   * buckets call it first, so they see every 2xx. Immediate when nothing waits for a checkpoint.
   */
  async flushAcknowledged(): Promise<void> {
    if (this.walDir === null) {
      while (this.flushing) await this.flushing;
      return;
    }
    if (this.accumulatedReceipts.length === 0) {
      if (this.checkpointRunning) await this.checkpointRunning;
      return;
    }
    await this.requestCheckpoint();
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
   * identifies the request for deduplication; without one the spans are always counted. `source`: the
   * OTLP request body the spans were decoded from, if any; the log keeps it as received (replay decodes
   * it again) instead of the spans' own, larger encoding, and without a `key` the body's SHA-256 is the
   * key, as for {@link exportTraces}.
   */
  exportSpans(
    spans: NormalizedSpan[],
    key?: string,
    source?: { encoding: TraceEncoding; body: Uint8Array },
  ): Promise<ExportOutcome> {
    const decoded = { spans, rejected: { count: 0, reasons: [] } };
    if (source !== undefined) {
      const keyIsBodySha256 = key === undefined;
      const requestKey = key ?? createHash("sha256").update(source.body).digest("hex");
      return this.accept(requestKey, decoded, this.walDir === null ? null : { ...source, keyIsBodySha256 });
    }
    const requestKey =
      key ??
      `spans:${createHash("sha256").update(String(this.clock())).update(String(Math.random())).digest("hex")}`;
    const payload =
      this.walDir === null
        ? null
        : { encoding: "spans" as const, body: encodeSpansForLog(spans), keyIsBodySha256: false };
    return this.accept(requestKey, decoded, payload);
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
    // Protobuf is decoded lazily: aggregation reads a few fields of each span, the rest stays bytes.
    let decoded: LazyDecodeResult;
    try {
      decoded =
        encoding === "proto"
          ? decodeTraceRequestProtoLazily(body, this.options.decodeLimits)
          : decodeTraceRequestJson(body, this.options.decodeLimits);
    } catch (error) {
      if (error instanceof OtlpDecodeError) return { status: "invalid", message: error.message };
      throw error;
    }
    return this.accept(key, decoded, this.walDir === null ? null : { encoding, body, keyIsBodySha256: true });
  }

  /** Aggregates decoded spans at `nowMs`; the receipt says what the request's answer reports. */
  private aggregateDecoded(
    key: string,
    decoded: LazyDecodeResult,
    nowMs: number,
    joinIndex: SpanJoinIndex,
  ): { aggregate: IngestAggregate; receipt: IngestReceipt; spans: number } {
    const aggregate = aggregateSpans(decoded.spans, {
      defaultEnvironment: this.options.defaultEnvironment,
      nowMs,
      maxAgeMs: this.options.maxAgeMs,
      maxFutureSkewMs: this.options.maxFutureSkewMs,
      maxExemplarsPerBucket: this.options.maxExemplarsPerBucket,
      joinIndex,
    });
    const rejectedSpans = decoded.rejected.count + aggregate.rejected.count;
    const reasons = [...decoded.rejected.reasons, ...aggregate.rejected.reasons];
    const rejectionMessage =
      rejectedSpans > 0 ? `${rejectedSpans} spans rejected: ${reasons.join("; ")}` : null;
    return {
      aggregate,
      receipt: {
        key,
        receivedAtMs: nowMs,
        acceptedSpans: aggregate.accepted,
        rejectedSpans,
        rejectionMessage,
      },
      spans: decoded.spans.length + decoded.rejected.count,
    };
  }

  /** Decodes and aggregates a logged request again, as it was when accepted; null if it is unreadable. */
  private aggregateRecord(
    record: WalRecord,
    joinIndex: SpanJoinIndex,
  ): { aggregate: IngestAggregate; receipt: IngestReceipt; spans: number } | null {
    let decoded: LazyDecodeResult;
    try {
      decoded =
        record.encoding === "proto"
          ? decodeTraceRequestProtoLazily(record.payload, this.options.decodeLimits)
          : record.encoding === "json"
            ? decodeTraceRequestJson(record.payload, this.options.decodeLimits)
            : { spans: decodeSpansFromLog(record.payload), rejected: { count: 0, reasons: [] } };
    } catch (error) {
      // It decoded when it was accepted, so only a changed decoder can get here: say so, keep going.
      this.logger.error(
        { err: error, key: record.key },
        "a logged ingest request no longer decodes; skipped",
      );
      return null;
    }
    return this.aggregateDecoded(record.key, decoded, record.receivedAtMs, joinIndex);
  }

  private accept(
    key: string,
    decoded: LazyDecodeResult,
    /** What the log keeps; `keyIsBodySha256`: the key is the body's SHA-256 (see WalRecord). */
    logged: { encoding: WalRecord["encoding"]; body: Uint8Array; keyIsBodySha256: boolean } | null,
  ): Promise<ExportOutcome> {
    if (this.closed) return Promise.resolve({ status: "overloaded", retryAfterSeconds: 5 });
    this.stats.requests += 1;
    const nowMs = this.clock();
    const { aggregate, receipt, spans } = this.aggregateDecoded(key, decoded, nowMs, this.joinIndex);
    if (logged !== null) {
      return new Promise<ExportOutcome>((settle) => {
        this.walQueue.push({
          record: {
            key,
            receivedAtMs: nowMs,
            encoding: logged.encoding,
            payload: logged.body,
            keyIsPayloadSha256: logged.keyIsBodySha256,
          },
          receipt,
          aggregate,
          spans,
          settle,
        });
        this.queuedSpans += spans;
        this.scheduleLogWrite();
      });
    }
    const { rejectionMessage } = receipt;
    return new Promise<ExportOutcome>((settle) => {
      this.queue.push({
        receipt,
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

  /**
   * Appends queued requests to the log on the next turn (requests whose bodies arrived in the same I/O
   * phase share the group and its fdatasync), then acknowledges each once its group is synced.
   */
  private scheduleLogWrite(): void {
    if (this.walWriteScheduled) return;
    this.walWriteScheduled = true;
    setImmediate(() => {
      this.walWriteScheduled = false;
      void this.onWalChain(() => this.writeLogGroups());
    });
  }

  /** Runs `work` after every log operation queued before it. */
  private onWalChain<T>(work: () => Promise<T>): Promise<T> {
    const run = this.walChain.then(work);
    this.walChain = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private async writeLogGroups(): Promise<void> {
    const wal = this.wal;
    if (wal === null) throw new Error("the ingest write-ahead log is not open; call start() first");
    while (this.walQueue.length > 0) {
      const group = this.walQueue;
      this.walQueue = [];
      try {
        await wal.append(group.map((request) => request.record));
      } catch (error) {
        // Not acknowledged, so not counted; whatever reached the file is skipped by key on replay
        // (each key counts once) and the client's retry is logged again.
        this.logger.error({ err: error, requests: group.length }, "ingest write-ahead log append failed");
        for (const request of group) {
          this.queuedSpans -= request.spans;
          request.settle({ status: "overloaded", retryAfterSeconds: retryAfterFailedCommitSeconds });
        }
        continue;
      }
      this.stats.logSyncs += 1;
      this.onLogSynced?.(group.length);
      for (const request of group) {
        this.queuedSpans -= request.spans;
        this.uncheckpointedSpans += request.spans;
        this.accumulator.add(request.aggregate);
        this.accumulatedReceipts.push(request.receipt);
        this.stats.acceptedSpans += request.receipt.acceptedSpans;
        this.stats.rejectedSpans += request.receipt.rejectedSpans;
        this.rememberReceipt(request.receipt);
        request.settle(acceptedOutcome(request.receipt.rejectedSpans, request.receipt.rejectionMessage));
      }
    }
  }

  /**
   * Asks for a checkpoint and resolves when one that started after this call has committed. Calls
   * during a running checkpoint share the single next one.
   */
  private requestCheckpoint(): Promise<void> {
    if (this.checkpointRunning === null) {
      this.checkpointRunning = this.checkpoint().finally(() => {
        this.checkpointRunning = null;
      });
      return this.checkpointRunning;
    }
    this.checkpointQueued ??= this.checkpointRunning
      .catch(() => {})
      .then(() => {
        this.checkpointQueued = null;
        return this.requestCheckpoint();
      });
    return this.checkpointQueued;
  }

  /**
   * Writes everything acknowledged so far to the database in one transaction: the accumulated
   * aggregates and the requests' receipts. The current log segment is sealed between two appends, so
   * the checkpoint covers exactly the segments up to it; they are deleted once it commits. A failed
   * checkpoint loses nothing: its aggregates go back into the accumulator and its segments stay.
   */
  private async checkpoint(): Promise<void> {
    const wal = this.wal;
    if (wal === null) return;
    const sealed = await this.onWalChain(async (): Promise<SealedCheckpoint | null> => {
      if (this.accumulatedReceipts.length === 0) return null;
      const segment = await wal.seal();
      const taken: SealedCheckpoint = {
        accumulator: this.accumulator,
        receipts: this.accumulatedReceipts,
        spans: this.uncheckpointedSpans,
        segment,
      };
      this.accumulator = new IngestAccumulator();
      this.accumulatedReceipts = [];
      this.uncheckpointedSpans = 0;
      return taken;
    });
    if (sealed === null) return;
    let batch: MergedIngestBatch;
    try {
      batch = await this.commitCheckpoint(sealed);
    } catch (error) {
      this.stats.failedCommits += 1;
      this.logger.error(
        { err: error, requests: sealed.receipts.length },
        "ingest checkpoint failed; the write-ahead log keeps the data and the next checkpoint retries",
      );
      this.accumulator.add(sealed.accumulator.toPart());
      this.accumulatedReceipts = [...sealed.receipts, ...this.accumulatedReceipts];
      this.uncheckpointedSpans += sealed.spans;
      throw error;
    }
    this.stats.commits += 1;
    this.onCommitted?.(batch);
    await wal.deleteThrough(sealed.segment);
    this.scheduleFold();
    await this.cleanUpReceipts();
  }

  /**
   * One checkpoint transaction. If some receipts are already in the database (a retry of a request
   * committed before a restart, or by another replica), the transaction is rolled back and the
   * aggregates are rebuilt from the log without those requests, so nothing counts twice.
   */
  private async commitCheckpoint(sealed: SealedCheckpoint): Promise<MergedIngestBatch> {
    let receipts = sealed.receipts;
    let batch = sealed.accumulator.toBatch(this.options.maxExemplarsPerBucket);
    for (let attempt = 0; ; attempt += 1) {
      try {
        const newSeriesIds = await this.db.transaction(async (query) => {
          const fresh = await claimIngestReceipts(query, receipts);
          if (fresh.size !== receipts.length) {
            throw new ReceiptsAlreadyClaimed(
              new Set(receipts.filter((receipt) => !fresh.has(receipt.key)).map((receipt) => receipt.key)),
            );
          }
          const ids = await this.resolveSeriesIds(query, batch.seriesBuckets);
          // In pieces with a turn of the event loop between them: PGlite runs each statement on this
          // thread, and one statement for a whole checkpoint held every acknowledgement back for
          // seconds. The transaction stays one, so what a checkpoint commits is unchanged.
          const pieces = inTimeOrderedPieces(this.toRows(batch, ids), checkpointPieceRows);
          for (let at = 0; at < pieces.length; at += 1) {
            if (at > 0) await new Promise((resolve) => setImmediate(resolve));
            await upsertIngestRows(query, pieces[at] as IngestRows);
          }
          return ids;
        });
        for (const [seriesKey, id] of newSeriesIds) this.seriesIds.set(seriesKey, id);
        return batch;
      } catch (error) {
        if (!(error instanceof ReceiptsAlreadyClaimed) || attempt >= 3) throw error;
        for (const receipt of receipts) {
          if (!error.keys.has(receipt.key)) continue;
          this.stats.duplicates += 1;
          this.stats.acceptedSpans -= receipt.acceptedSpans;
          this.stats.rejectedSpans -= receipt.rejectedSpans;
        }
        receipts = receipts.filter((receipt) => !error.keys.has(receipt.key));
        batch = await this.rebuildFromLog(sealed.segment, receipts);
      }
    }
  }

  /** The aggregates of `receipts`' requests, decoded again from the log segments up to `segment`. */
  private async rebuildFromLog(
    segment: number,
    receipts: readonly IngestReceipt[],
  ): Promise<MergedIngestBatch> {
    const wal = this.wal;
    if (wal === null) throw new Error("the ingest write-ahead log is not open");
    const wanted = new Set(receipts.map((receipt) => receipt.key));
    const rebuilt = new IngestAccumulator();
    // A private join index: the live one already holds these spans, and must not see them twice.
    const joinIndex = new SpanJoinIndex();
    for (const sequence of await wal.segmentsOnDisk()) {
      if (sequence > segment) break;
      for (const record of await wal.readSegment(sequence)) {
        if (!wanted.delete(record.key)) continue;
        const replay = this.aggregateRecord(record, joinIndex);
        if (replay !== null) rebuilt.add(replay.aggregate);
      }
    }
    if (wanted.size > 0) throw new Error(`${wanted.size} acknowledged requests are missing from the log`);
    return rebuilt.toBatch(this.options.maxExemplarsPerBucket);
  }

  /** Receipts already in the database among `keys`, looked up in chunks. */
  private async findReceipts(keys: readonly string[]): Promise<Map<string, IngestReceipt>> {
    const found = new Map<string, IngestReceipt>();
    for (let at = 0; at < keys.length; at += 1000) {
      for (const [key, receipt] of await findIngestReceipts(this.db, keys.slice(at, at + 1000))) {
        found.set(key, receipt);
      }
    }
    return found;
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
        for (let round = 0; ; round += 1) {
          // A turn of the event loop between folds: each is a transaction PGlite runs on this thread,
          // and a backlog of many bucket times is several of them back to back.
          if (round > 0) await new Promise((resolve) => setImmediate(resolve));
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
    // In pieces with a turn of the event loop between them, like the checkpoint's rows: a burst of new
    // series (a deploy, a restart) is thousands of them, one long statement on PGlite's thread.
    const identities = [...missing.values()];
    const ids: number[] = [];
    for (let at = 0; at < identities.length; at += checkpointPieceRows) {
      if (at > 0) await new Promise((resolve) => setImmediate(resolve));
      ids.push(...(await ensureSeriesIds(query, identities.slice(at, at + checkpointPieceRows))));
    }
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
    if (this.wal !== null) {
      if (this.checkpointTimer) clearInterval(this.checkpointTimer);
      this.checkpointTimer = null;
      // A group may still be waiting for its turn (scheduled, not yet on the chain): let it be written.
      while (this.walWriteScheduled || this.walQueue.length > 0) {
        await new Promise((resolve) => setImmediate(resolve));
        await this.walChain;
      }
      try {
        await this.flushAcknowledged();
      } catch {
        // Logged by the checkpoint; the log keeps the data for the next start.
      }
      await this.onWalChain(() => this.wal?.close() ?? Promise.resolve());
    }
    if (this.foldTimer) clearTimeout(this.foldTimer);
    this.foldTimer = null;
    if (this.folding) await this.folding;
  }
}

function acceptedOutcome(rejectedSpans: number, errorMessage: string | null): ExportOutcome {
  return { status: "accepted", rejectedSpans, errorMessage };
}
