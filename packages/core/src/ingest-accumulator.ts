import type {
  ErrorExemplar,
  GraphEdgeDelta,
  IngestAggregate,
  InstanceVersionSeen,
  SeriesBucketDelta,
  ServiceSeen,
} from "./ingest-aggregate.ts";
import type { MergedIngestBatch } from "./merge-ingest-aggregates.ts";
import { addLatencyBinsInto } from "./merge-latency-bins.ts";
import { maxUserRegistersInto } from "./merge-user-registers.ts";

const sep = "\u001f";

/** What {@link IngestAccumulator.add} takes: an aggregate, or another accumulator's batch. */
export type AccumulatedPart = Pick<
  IngestAggregate,
  "accepted" | "seriesBuckets" | "exemplars" | "edges" | "instanceVersions" | "services"
>;

/**
 * Many requests' aggregates merged in memory into one row per storage key, so the database sees each
 * open (series, bucket) once per checkpoint instead of once per request. The merge is the database's
 * own commutative math (see mergeIngestAggregates), so writing the accumulated batch stores exactly
 * what writing every aggregate on its own would.
 *
 * `add` takes ownership of the aggregate's objects (they are mutated by later adds): pass aggregates
 * nobody reads afterwards. Exemplars are capped per series and bucket only when the batch is taken, so
 * the kept fingerprints are the most frequent over everything added.
 */
export class IngestAccumulator {
  private acceptedSpans = 0;
  private readonly buckets = new Map<string, Map<number, SeriesBucketDelta>>();
  private readonly bucketList: SeriesBucketDelta[] = [];
  private readonly edges = new Map<string, GraphEdgeDelta>();
  private readonly exemplars = new Map<string, ErrorExemplar>();
  private readonly instances = new Map<string, InstanceVersionSeen>();
  private readonly services = new Map<string, ServiceSeen>();

  /** Spans accepted into the accumulator so far. */
  get accepted(): number {
    return this.acceptedSpans;
  }

  /** Whether nothing was added (also true after adding only empty aggregates). */
  get isEmpty(): boolean {
    return this.acceptedSpans === 0 && this.bucketList.length === 0 && this.instances.size === 0;
  }

  /** Storage rows the batch would write now (series buckets, edges, exemplars). */
  get rowCount(): number {
    return this.bucketList.length + this.edges.size + this.exemplars.size;
  }

  add(part: AccumulatedPart): void {
    this.acceptedSpans += part.accepted;
    for (const delta of part.seriesBuckets) this.addBucket(delta);
    for (const edge of part.edges) this.addEdge(edge);
    for (const exemplar of part.exemplars) {
      const key = `${exemplar.seriesKey}${sep}${exemplar.bucketStartMs}${sep}${exemplar.fingerprint}`;
      const known = this.exemplars.get(key);
      if (known) known.count += exemplar.count;
      else this.exemplars.set(key, exemplar);
    }
    for (const seen of part.instanceVersions) {
      const key = `${seen.environment}${sep}${seen.service}${sep}${seen.instanceId}${sep}${seen.version}`;
      const known = this.instances.get(key);
      if (!known) this.instances.set(key, seen);
      else {
        known.firstSeenMs = Math.min(known.firstSeenMs, seen.firstSeenMs);
        known.lastSeenMs = Math.max(known.lastSeenMs, seen.lastSeenMs);
        known.region = seen.region ?? known.region;
      }
    }
    for (const seen of part.services) {
      const key = `${seen.environment}${sep}${seen.service}`;
      const known = this.services.get(key);
      if (!known) this.services.set(key, seen);
      else {
        known.firstSeenMs = Math.min(known.firstSeenMs, seen.firstSeenMs);
        known.lastSeenMs = Math.max(known.lastSeenMs, seen.lastSeenMs);
        known.sdkLanguage = seen.sdkLanguage ?? known.sdkLanguage;
      }
    }
  }

  /**
   * Everything added, one row per key, with at most `maxExemplarsPerBucket` fingerprints per series and
   * bucket (the most frequent; ties keep first-seen order). Exemplars are returned uncapped by
   * `uncappedExemplars`, for merging this batch into another accumulator.
   */
  toBatch(maxExemplarsPerBucket: number): MergedIngestBatch {
    return {
      accepted: this.acceptedSpans,
      seriesBuckets: this.bucketList,
      edges: [...this.edges.values()],
      exemplars: capExemplars(this.exemplars.values(), maxExemplarsPerBucket),
      instanceVersions: [...this.instances.values()],
      services: [...this.services.values()],
    };
  }

  /** Everything added, exemplars uncapped: what another accumulator's `add` needs to take this one in. */
  toPart(): AccumulatedPart {
    return {
      accepted: this.acceptedSpans,
      seriesBuckets: this.bucketList,
      edges: [...this.edges.values()],
      exemplars: [...this.exemplars.values()],
      instanceVersions: [...this.instances.values()],
      services: [...this.services.values()],
    };
  }

  private addBucket(delta: SeriesBucketDelta): void {
    let byStart = this.buckets.get(delta.seriesKey);
    if (byStart === undefined) {
      byStart = new Map();
      this.buckets.set(delta.seriesKey, byStart);
    }
    const known = byStart.get(delta.bucketStartMs);
    if (known === undefined) {
      byStart.set(delta.bucketStartMs, delta);
      this.bucketList.push(delta);
      return;
    }
    if (known.stepMs !== delta.stepMs) {
      throw new RangeError(`cannot merge ${delta.stepMs} ms and ${known.stepMs} ms deltas of one series`);
    }
    known.spans += delta.spans;
    known.errors += delta.errors;
    known.durationSumMs += delta.durationSumMs;
    addLatencyBinsInto(known.latencyBins, delta.latencyBins);
    // The numeric bins follow only while every merged delta has them (else they would undercount).
    if (known.latencyIndexBins) {
      if (delta.latencyIndexBins) known.latencyIndexBins.addAll(delta.latencyIndexBins);
      else delete known.latencyIndexBins;
    }
    maxUserRegistersInto(known.userRegisters, delta.userRegisters);
  }

  private addEdge(edge: GraphEdgeDelta): void {
    const key = `${edge.kind}${sep}${edge.environment}${sep}${edge.source}${sep}${edge.target}${sep}${edge.stepMs}${sep}${edge.bucketStartMs}`;
    const known = this.edges.get(key);
    if (known === undefined) {
      this.edges.set(key, edge);
      return;
    }
    known.count += edge.count;
    known.errors += edge.errors;
    known.delaySumMs += edge.delaySumMs;
    known.delayCount += edge.delayCount;
    if (edge.delayMaxMs > known.delayMaxMs) known.delayMaxMs = edge.delayMaxMs;
  }
}

function capExemplars(exemplars: Iterable<ErrorExemplar>, cap: number): ErrorExemplar[] {
  const bySeriesBucket = new Map<string, ErrorExemplar[]>();
  for (const exemplar of exemplars) {
    const key = `${exemplar.seriesKey}${sep}${exemplar.bucketStartMs}`;
    const group = bySeriesBucket.get(key);
    if (group) group.push(exemplar);
    else bySeriesBucket.set(key, [exemplar]);
  }
  const kept: ErrorExemplar[] = [];
  for (const group of bySeriesBucket.values()) {
    if (group.length > cap) group.sort((a, b) => b.count - a.count);
    for (let at = 0; at < group.length && at < cap; at += 1) {
      const exemplar = group[at];
      if (exemplar) kept.push(exemplar);
    }
  }
  return kept;
}
