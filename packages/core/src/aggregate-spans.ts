import type { NormalizedResource, NormalizedSpan, SpanKind } from "@faultline/otlp";
import { addUserToRegisters } from "./add-user-to-registers.ts";
import type { EdgeKind } from "./edge-kinds.ts";
import { errorFingerprintOf } from "./error-fingerprint-of.ts";
import type {
  ErrorExemplar,
  GraphEdgeDelta,
  IngestAggregate,
  InstanceVersionSeen,
  SeriesBucketDelta,
  ServiceSeen,
} from "./ingest-aggregate.ts";
import { isErrorSpan } from "./is-error-span.ts";
import { latencyBinKeyAt, latencyIndexOf } from "./latency-bin-key-of.ts";
import { LatencyIndexBins } from "./latency-index-bins.ts";
import { type SeriesIdentity, seriesKeyOf } from "./series-key-of.ts";
import { emptySketchBins } from "./sketch-bins.ts";
import { SpanJoinIndex, type WaitingSpan } from "./span-join-index.ts";
import { rawBucketMs } from "./time-buckets.ts";

/** Spans starting more than this before `nowMs` are rejected by default: 7 days, in ms. */
export const defaultMaxAgeMs = 7 * 24 * 60 * 60 * 1000;
/** Spans starting more than this after `nowMs` are rejected by default: 5 minutes, in ms. */
export const defaultMaxFutureSkewMs = 5 * 60 * 1000;
/** Error fingerprints kept per series and bucket by default. */
export const defaultMaxExemplarsPerBucket = 5;

/** Short reasons reported in OTLP partial success. */
export const spanRejectionReasons = {
  tooOld: "span start older than the accepted age",
  tooNew: "span start too far in the future",
  invalid: "span has an invalid start time or duration",
} as const;

export interface AggregationContext {
  /** Environment of spans whose resource names none. */
  defaultEnvironment: string;
  /** The injected clock: "now" in ms since the epoch, only used to bound accepted event times. */
  nowMs: number;
  /** Oldest accepted span start, as an age before `nowMs` in ms; default {@link defaultMaxAgeMs}. */
  maxAgeMs?: number;
  /** Latest accepted span start, as a skew after `nowMs` in ms; default {@link defaultMaxFutureSkewMs}. */
  maxFutureSkewMs?: number;
  /** Error fingerprints kept per series and bucket; default {@link defaultMaxExemplarsPerBucket}. */
  maxExemplarsPerBucket?: number;
  /**
   * Cross-batch memory for graph edges; pass the pipeline's long-lived instance (it is mutated). Without
   * one, a fresh index joins spans within this batch only.
   */
  joinIndex?: SpanJoinIndex;
}

interface SeriesGroup {
  environment: string;
  service: string;
  version: string | null;
  byOperation: Map<string, SeriesState[]>;
}

interface SeriesState {
  kind: SpanKind;
  destination: string | null;
  identity: SeriesIdentity;
  key: string;
  last: BucketState | null;
  // Created only when a series sees a second bucket in one batch: most see one.
  buckets: Map<number, BucketState> | null;
}

interface BucketState {
  delta: SeriesBucketDelta;
  exemplars: Map<string, ErrorExemplar> | null;
}

interface ServiceState {
  seen: ServiceSeen;
  /** By version ("" for none). */
  versions: Map<string, { group: SeriesGroup; instances: Map<string, InstanceVersionSeen> }>;
}

interface ResourceState {
  group: SeriesGroup;
  instance: InstanceVersionSeen;
  service: ServiceSeen;
}

const sep = "\u001f";

/**
 * The spans aggregateSpans takes: an array, or a sequence that may hand out one reused view object per
 * step (the lazy protobuf decoder's). Aggregation reads each span's fields during its step only and
 * keeps nothing but strings and the shared resource object, so a reused view is safe here.
 */
export type SpanBatch = Iterable<NormalizedSpan> & { readonly length: number };

/**
 * Aggregates a batch of decoded spans into what storage needs, entirely in event time:
 *
 * - **Series buckets**: one delta per (series, 10 s bucket of the span start) with spans, errors
 *   (see isErrorSpan), duration sum (ms), latency sketch bins and distinct-user registers. Every accepted
 *   span counts in exactly one delta, so Σ spans over the deltas = `accepted`.
 * - **Error exemplars**: error spans grouped by errorFingerprintOf(type, message); per series and
 *   bucket the `maxExemplarsPerBucket` most frequent fingerprints of this batch are kept (ties: first
 *   seen), each with its count and the first span's ids, message and stack.
 * - **Graph edges** per 10 s bucket: `call` (a SERVER span's caller CLIENT span in another service;
 *   bucket and environment of the callee; an error when either side is), `publish` (PRODUCER spans with
 *   a destination; bucket of the producer), `consume` (CONSUMER spans; bucket of the consumer; delay =
 *   consumer start − producer end, clamped at 0, for each producer found through the parent or a link).
 *   Joins across batches go through `context.joinIndex`, which emits each edge once, whichever side
 *   arrives first.
 * - **Versions and services seen**, with first/last span start.
 *
 * Acceptance: spans starting before `nowMs − maxAgeMs` or after `nowMs + maxFutureSkewMs`, or with a
 * non-finite start or duration, are rejected and counted by reason; nothing else is filtered. Late data
 * within the age bound always lands in its original event-time bucket: core closes no windows, the
 * database's commutative upserts make a late delta safe to add at any time.
 *
 * Environment: the resource's, else `defaultEnvironment` (an empty name counts as absent); empty
 * destinations and versions count as absent (null). Output order follows first appearance in the input,
 * so the result is deterministic for a given input and join-index state.
 * @throws RangeError when `nowMs` is not finite or a bound is negative.
 */
export function aggregateSpans(spans: SpanBatch, context: AggregationContext): IngestAggregate {
  const { nowMs, defaultEnvironment } = context;
  const maxAgeMs = context.maxAgeMs ?? defaultMaxAgeMs;
  const maxFutureSkewMs = context.maxFutureSkewMs ?? defaultMaxFutureSkewMs;
  const maxExemplars = context.maxExemplarsPerBucket ?? defaultMaxExemplarsPerBucket;
  if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs must be finite, got ${nowMs}`);
  if (!(maxAgeMs >= 0) || !(maxFutureSkewMs >= 0) || !(maxExemplars >= 0)) {
    throw new RangeError("maxAgeMs, maxFutureSkewMs and maxExemplarsPerBucket must not be negative");
  }
  const oldestMs = nowMs - maxAgeMs;
  const newestMs = nowMs + maxFutureSkewMs;
  // A one-off index only has to hold this batch: sizing it to the batch keeps callers without a
  // long-lived index (tests, tools) from allocating the full default tables on every call.
  const batchCapacity = Math.max(1024, spans.length);
  const index =
    context.joinIndex ?? new SpanJoinIndex({ maxSpans: batchCapacity, maxWaiting: batchCapacity });

  const seriesBuckets: SeriesBucketDelta[] = [];
  const bucketsWithErrors: BucketState[] = [];
  // source → target → the few edges between them (by kind, environment, bucket): no key strings built.
  const edgeIndex = new Map<string, Map<string, GraphEdgeDelta[]>>();
  const edges: GraphEdgeDelta[] = [];
  const servicesByEnvironment = new Map<string, Map<string, ServiceState>>();
  const instances: InstanceVersionSeen[] = [];
  const services: ServiceSeen[] = [];
  const resources = new Map<NormalizedResource, ResourceState>();
  const fingerprints = new Map<string, string>();
  const byReason: Record<string, number> = {};
  const reasons: string[] = [];
  let rejectedCount = 0;
  let accepted = 0;
  let lastResource: NormalizedResource | null = null;
  let lastResourceState: ResourceState | null = null;

  const reject = (reason: string): void => {
    rejectedCount++;
    const seen = byReason[reason];
    if (seen === undefined) {
      byReason[reason] = 1;
      reasons.push(reason);
    } else {
      byReason[reason] = seen + 1;
    }
  };

  const resourceStateOf = (resource: NormalizedResource): ResourceState => {
    // Nested maps keyed by the resource's own strings: no key is concatenated per resource.
    const environment = resource.environment || defaultEnvironment;
    const service = resource.serviceName;
    const version = resource.serviceVersion || null;
    let byService = servicesByEnvironment.get(environment);
    if (byService === undefined) {
      byService = new Map();
      servicesByEnvironment.set(environment, byService);
    }
    let serviceState = byService.get(service);
    if (serviceState === undefined) {
      const seen: ServiceSeen = {
        environment,
        service,
        sdkLanguage: resource.sdkLanguage,
        firstSeenMs: Number.POSITIVE_INFINITY,
        lastSeenMs: Number.NEGATIVE_INFINITY,
      };
      serviceState = { seen, versions: new Map() };
      byService.set(service, serviceState);
      services.push(seen);
    } else if (resource.sdkLanguage !== null) {
      serviceState.seen.sdkLanguage = resource.sdkLanguage;
    }
    let versionState = serviceState.versions.get(version ?? "");
    if (versionState === undefined) {
      versionState = {
        group: { environment, service, version, byOperation: new Map() },
        instances: new Map(),
      };
      serviceState.versions.set(version ?? "", versionState);
    }
    const instanceId = resource.serviceInstanceId ?? "";
    let instance = versionState.instances.get(instanceId);
    if (instance === undefined) {
      instance = {
        environment,
        service,
        instanceId,
        version: version ?? "",
        region: resource.region,
        firstSeenMs: Number.POSITIVE_INFINITY,
        lastSeenMs: Number.NEGATIVE_INFINITY,
      };
      versionState.instances.set(instanceId, instance);
      instances.push(instance);
    } else if (resource.region !== null) {
      instance.region = resource.region;
    }
    const state: ResourceState = { group: versionState.group, instance, service: serviceState.seen };
    resources.set(resource, state);
    return state;
  };

  const addEdge = (
    kind: EdgeKind,
    environment: string,
    source: string,
    target: string,
    bucketStartMs: number,
    count: number,
    errors: number,
    delayMs: number,
  ): void => {
    let byTarget = edgeIndex.get(source);
    if (byTarget === undefined) {
      byTarget = new Map();
      edgeIndex.set(source, byTarget);
    }
    let between = byTarget.get(target);
    if (between === undefined) {
      between = [];
      byTarget.set(target, between);
    }
    let edge: GraphEdgeDelta | undefined;
    for (let i = 0; i < between.length; i++) {
      const candidate = between[i];
      if (
        candidate !== undefined &&
        candidate.bucketStartMs === bucketStartMs &&
        candidate.kind === kind &&
        candidate.environment === environment
      ) {
        edge = candidate;
        break;
      }
    }
    if (edge === undefined) {
      edge = {
        environment,
        kind,
        source,
        target,
        stepMs: rawBucketMs,
        bucketStartMs,
        count: 0,
        errors: 0,
        delaySumMs: 0,
        delayMaxMs: 0,
        delayCount: 0,
      };
      between.push(edge);
      edges.push(edge);
    }
    edge.count += count;
    edge.errors += errors;
    // NaN marks "no delay sample"; the comparison below is false for it.
    if (delayMs >= 0) {
      edge.delaySumMs += delayMs;
      edge.delayCount++;
      if (delayMs > edge.delayMaxMs) edge.delayMaxMs = delayMs;
    }
  };

  const joinCall = (
    environment: string,
    service: string,
    bucketStartMs: number,
    error: boolean,
    parent: number,
  ): void => {
    // Only a CLIENT parent makes a call; a same-service parent is an in-process hop, not an edge.
    const caller = index.serviceAt(parent);
    if (index.kindAt(parent) !== "client" || caller === service) return;
    addEdge(
      "call",
      environment,
      caller,
      service,
      bucketStartMs,
      1,
      error || index.errorAt(parent) ? 1 : 0,
      NaN,
    );
  };

  // Returns whether this join emitted the consumer's `consume` count (for a consumer without a
  // destination of its own).
  const joinConsume = (
    environment: string,
    service: string,
    startMs: number,
    bucketStartMs: number,
    error: boolean,
    ownDestination: string | null,
    countPending: boolean,
    producer: number,
  ): boolean => {
    if (index.kindAt(producer) !== "producer") return false;
    const destination = ownDestination ?? index.destinationAt(producer);
    if (destination === null) return false;
    const delayMs = Math.max(0, startMs - index.endMsAt(producer));
    const count = countPending ? 1 : 0;
    addEdge(
      "consume",
      environment,
      destination,
      service,
      bucketStartMs,
      count,
      count === 1 && error ? 1 : 0,
      delayMs,
    );
    return countPending;
  };

  const resolveWaiting = (waiting: WaitingSpan, parent: number): void => {
    if (waiting.edge === "call") {
      joinCall(waiting.environment, waiting.service, waiting.bucketStartMs, waiting.error, parent);
    } else if (
      joinConsume(
        waiting.environment,
        waiting.service,
        waiting.startMs,
        waiting.bucketStartMs,
        waiting.error,
        waiting.destination,
        waiting.countPending,
        parent,
      )
    ) {
      waiting.countPending = false;
    }
  };

  for (const span of spans) {
    const startMs = span.startTimeMs;
    const durationMs = span.durationMs;
    if (!Number.isFinite(startMs) || !Number.isFinite(durationMs) || durationMs < 0) {
      reject(spanRejectionReasons.invalid);
      continue;
    }
    if (startMs < oldestMs) {
      reject(spanRejectionReasons.tooOld);
      continue;
    }
    if (startMs > newestMs) {
      reject(spanRejectionReasons.tooNew);
      continue;
    }
    accepted++;

    const resource = span.resource;
    let state: ResourceState;
    if (resource === lastResource && lastResourceState !== null) {
      state = lastResourceState;
    } else {
      state = resources.get(resource) ?? resourceStateOf(resource);
      lastResource = resource;
      lastResourceState = state;
    }
    const { group, instance } = state;
    if (startMs < instance.firstSeenMs) instance.firstSeenMs = startMs;
    if (startMs > instance.lastSeenMs) instance.lastSeenMs = startMs;
    const seen = state.service;
    if (startMs < seen.firstSeenMs) seen.firstSeenMs = startMs;
    if (startMs > seen.lastSeenMs) seen.lastSeenMs = startMs;

    const kind = span.kind;
    const attributes = span.attributes;
    const destination = attributes.messagingDestination || null;
    const bucketStartMs = Math.floor(startMs / rawBucketMs) * rawBucketMs;
    const error = isErrorSpan(span);

    // Series lookup without building a key: only a few kinds/destinations ever share one operation name.
    let candidates = group.byOperation.get(span.name);
    if (candidates === undefined) {
      candidates = [];
      group.byOperation.set(span.name, candidates);
    }
    let series: SeriesState | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i];
      if (candidate !== undefined && candidate.kind === kind && candidate.destination === destination) {
        series = candidate;
        break;
      }
    }
    if (series === undefined) {
      const identity: SeriesIdentity = {
        environment: group.environment,
        service: group.service,
        operation: span.name,
        spanKind: kind,
        destination,
        version: group.version,
      };
      series = { kind, destination, identity, key: seriesKeyOf(identity), last: null, buckets: null };
      candidates.push(series);
    }
    let bucket: BucketState | undefined = series.last ?? undefined;
    if (bucket === undefined || bucket.delta.bucketStartMs !== bucketStartMs) {
      if (bucket !== undefined && series.buckets === null) {
        series.buckets = new Map([[bucket.delta.bucketStartMs, bucket]]);
      }
      bucket = series.buckets?.get(bucketStartMs);
      if (bucket === undefined) {
        const delta: SeriesBucketDelta = {
          seriesKey: series.key,
          series: series.identity,
          stepMs: rawBucketMs,
          bucketStartMs,
          spans: 0,
          errors: 0,
          durationSumMs: 0,
          latencyBins: emptySketchBins(),
          latencyIndexBins: new LatencyIndexBins(),
          userRegisters: emptySketchBins(),
        };
        bucket = { delta, exemplars: null };
        series.buckets?.set(bucketStartMs, bucket);
        seriesBuckets.push(delta);
      }
      series.last = bucket;
    }
    const delta = bucket.delta;
    delta.spans++;
    delta.durationSumMs += durationMs;
    const latencyIndex = latencyIndexOf(durationMs);
    const binKey = latencyBinKeyAt(latencyIndex);
    delta.latencyBins[binKey] = (delta.latencyBins[binKey] ?? 0) + 1;
    if (Number.isNaN(latencyIndex)) delta.latencyIndexBins?.addZero(1);
    else delta.latencyIndexBins?.add(latencyIndex, 1);
    const userId = attributes.userId;
    if (userId !== null) addUserToRegisters(delta.userRegisters, userId);

    if (error) {
      delta.errors++;
      if (maxExemplars > 0) {
        const exception = span.exception;
        const exceptionType = exception?.type ?? attributes.errorType;
        const message = exception?.message ?? span.statusMessage;
        const cacheKey = `${exceptionType ?? "\u0000"}${sep}${message ?? "\u0000"}`;
        let fingerprint = fingerprints.get(cacheKey);
        if (fingerprint === undefined) {
          fingerprint = errorFingerprintOf(exceptionType, message);
          fingerprints.set(cacheKey, fingerprint);
        }
        let exemplars = bucket.exemplars;
        if (exemplars === null) {
          exemplars = new Map();
          bucket.exemplars = exemplars;
          bucketsWithErrors.push(bucket);
        }
        const existing = exemplars.get(fingerprint);
        if (existing === undefined) {
          exemplars.set(fingerprint, {
            seriesKey: series.key,
            series: series.identity,
            bucketStartMs,
            fingerprint,
            exceptionType,
            message,
            stack: exception?.stack ?? null,
            traceId: span.traceId,
            spanId: span.spanId,
            count: 1,
          });
        } else {
          existing.count++;
        }
      }
    }

    // Graph edges.
    if (kind === "client" || kind === "producer") {
      const spanId = span.spanId;
      const slot = index.remember(
        spanId,
        group.environment,
        group.service,
        kind,
        startMs + durationMs,
        destination,
        error,
      );
      if (kind === "producer" && destination !== null) {
        addEdge(
          "publish",
          group.environment,
          group.service,
          destination,
          bucketStartMs,
          1,
          error ? 1 : 0,
          NaN,
        );
      }
      const waiting = index.takeWaiting(spanId);
      if (waiting !== undefined) {
        if (Array.isArray(waiting)) for (const child of waiting) resolveWaiting(child, slot);
        else resolveWaiting(waiting, slot);
      }
    } else if (kind === "server") {
      const parentId = span.parentSpanId;
      if (parentId !== null) {
        const parent = index.slotOf(parentId);
        if (parent >= 0) {
          joinCall(group.environment, group.service, bucketStartMs, error, parent);
        } else {
          index.wait(parentId, {
            edge: "call",
            environment: group.environment,
            service: group.service,
            startMs,
            bucketStartMs,
            error,
            destination: null,
            countPending: false,
          });
        }
      }
    } else if (kind === "consumer") {
      if (destination !== null) {
        addEdge(
          "consume",
          group.environment,
          destination,
          group.service,
          bucketStartMs,
          1,
          error ? 1 : 0,
          NaN,
        );
      }
      let countPending = destination === null;
      let shared: WaitingSpan | null = null;
      const links = span.links;
      const parentId = span.parentSpanId;
      // Candidates: the parent, then each link; a link repeating the parent or an earlier link is one
      // producer, not two delay samples.
      for (let i = parentId === null ? 0 : -1; i < links.length; i++) {
        const candidateId = i < 0 ? parentId : links[i]?.spanId;
        if (candidateId === undefined || candidateId === null) continue;
        if (i >= 0 && isRepeatedCandidate(candidateId, parentId, links, i)) continue;
        const producer = index.slotOf(candidateId);
        if (producer >= 0) {
          const emitted = joinConsume(
            group.environment,
            group.service,
            startMs,
            bucketStartMs,
            error,
            destination,
            countPending,
            producer,
          );
          if (emitted) {
            countPending = false;
            if (shared !== null) shared.countPending = false;
          }
        } else {
          if (shared === null) {
            shared = {
              edge: "consume",
              environment: group.environment,
              service: group.service,
              startMs,
              bucketStartMs,
              error,
              destination,
              countPending,
            };
          }
          index.wait(candidateId, shared);
        }
      }
    }
  }

  const exemplars: ErrorExemplar[] = [];
  for (const bucket of bucketsWithErrors) {
    const groupExemplars = bucket.exemplars;
    if (groupExemplars === null) continue;
    if (groupExemplars.size <= maxExemplars) {
      for (const exemplar of groupExemplars.values()) exemplars.push(exemplar);
    } else {
      // Array.prototype.sort is stable: equal counts keep first-seen order.
      const ranked = [...groupExemplars.values()].sort((a, b) => b.count - a.count);
      for (let i = 0; i < maxExemplars; i++) {
        const exemplar = ranked[i];
        if (exemplar !== undefined) exemplars.push(exemplar);
      }
    }
  }

  return {
    accepted,
    rejected: { count: rejectedCount, reasons, byReason },
    seriesBuckets,
    exemplars,
    edges,
    // Entries exist only for resources of accepted spans, so their first/last times are all set.
    instanceVersions: instances,
    services,
  };
}

function isRepeatedCandidate(
  spanId: string,
  parentId: string | null,
  links: NormalizedSpan["links"],
  position: number,
): boolean {
  if (spanId === parentId) return true;
  for (let j = 0; j < position; j++) if (links[j]?.spanId === spanId) return true;
  return false;
}
