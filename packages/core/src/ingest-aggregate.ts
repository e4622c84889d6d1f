import type { EdgeKind } from "./edge-kinds.ts";
import type { LatencyIndexBins } from "./latency-index-bins.ts";
import type { SeriesIdentity } from "./series-key-of.ts";
import type { SketchBins } from "./sketch-bins.ts";

/**
 * What one series gained in one event-time bucket. Every field merges commutatively (counts and latency
 * bins add, user registers take the max), so a delta can be upserted in any order, retried after later
 * batches, or rolled up.
 */
export interface SeriesBucketDelta {
  /** {@link seriesKeyOf} of `series`. */
  seriesKey: string;
  series: SeriesIdentity;
  /** Bucket width in ms: 10 000 for raw deltas, 60 000 / 3 600 000 for rollups. */
  stepMs: number;
  /** Bucket start, ms since the epoch, aligned to `stepMs`. */
  bucketStartMs: number;
  spans: number;
  errors: number;
  /** Sum of span durations, ms. */
  durationSumMs: number;
  /** DDSketch bins, key → count (see latencyBinKeyOf). */
  latencyBins: SketchBins;
  /**
   * The same bins in numeric form, when the producer kept them (aggregation and raw merges do; rows read
   * back from storage do not). Detection reads quantiles from it without enumerating `latencyBins`.
   */
  latencyIndexBins?: LatencyIndexBins;
  /** HyperLogLog registers, index → rank, of the spans' `enduser.id`/`user.id`. */
  userRegisters: SketchBins;
}

/** One group of similar errors in one series and bucket, with one example span. */
export interface ErrorExemplar {
  seriesKey: string;
  series: SeriesIdentity;
  /** Raw bucket start, ms since the epoch. */
  bucketStartMs: number;
  /** See errorFingerprintOf. */
  fingerprint: string;
  /** The span's exception type, else its `error.type` attribute, else null. */
  exceptionType: string | null;
  /** The example's exception message, else its status message, else null (not normalized). */
  message: string | null;
  stack: string | null;
  traceId: string;
  spanId: string;
  /** Error spans of this fingerprint in this series and bucket (in this batch). */
  count: number;
}

/** What an edge of the service/messaging graph gained in one event-time bucket. */
export interface GraphEdgeDelta {
  environment: string;
  kind: EdgeKind;
  /** Caller service (`call`), producer service (`publish`) or destination (`consume`). */
  source: string;
  /** Callee service (`call`), destination (`publish`) or consumer service (`consume`). */
  target: string;
  stepMs: number;
  bucketStartMs: number;
  /** Calls, published messages or consumer spans. */
  count: number;
  errors: number;
  /** `consume` only: sum of publish-to-process delays (consumer start − producer end, ≥ 0), ms. */
  delaySumMs: number;
  /** `consume` only: the largest of those delays, ms (0 when none); merges by max. */
  delayMaxMs: number;
  /**
   * `consume` only: producer/consumer pairs behind `delaySumMs`. Can differ from `count` (a producer never
   * seen, a batch consumer linking to several producers, a producer joined in a later batch), so a mean
   * delay is `delaySumMs / delayCount`, not `/ count`.
   */
  delayCount: number;
}

/** A (service, instance, version) seen in the batch, over event time. */
export interface InstanceVersionSeen {
  environment: string;
  service: string;
  /** `service.instance.id` (or pod/host name); "" when the resource names no instance. */
  instanceId: string;
  /** `service.version`; "" when the resource carries none (the storage convention). */
  version: string;
  region: string | null;
  /** Earliest accepted span start, ms since the epoch. */
  firstSeenMs: number;
  /** Latest accepted span start, ms since the epoch. */
  lastSeenMs: number;
}

/** A service seen in the batch. */
export interface ServiceSeen {
  environment: string;
  service: string;
  /** `telemetry.sdk.language` of the last resource in the batch that had one, else null. */
  sdkLanguage: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** Spans refused by aggregation, for OTLP partial success. */
export interface SpanRejections {
  count: number;
  /** Short English reasons, deduplicated, in first-seen order. */
  reasons: string[];
  /** Count per reason. */
  byReason: Record<string, number>;
}

/** Everything one batch of spans adds to storage; see aggregateSpans. */
export interface IngestAggregate {
  accepted: number;
  rejected: SpanRejections;
  seriesBuckets: SeriesBucketDelta[];
  exemplars: ErrorExemplar[];
  edges: GraphEdgeDelta[];
  instanceVersions: InstanceVersionSeen[];
  services: ServiceSeen[];
}
