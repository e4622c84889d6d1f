import type {
  ErrorExemplar,
  GraphEdgeDelta,
  IngestAggregate,
  InstanceVersionSeen,
  SeriesBucketDelta,
  ServiceSeen,
} from "./ingest-aggregate.ts";
import { rollUpBuckets } from "./roll-up-buckets.ts";
import { rollUpEdges } from "./roll-up-edges.ts";
import { rawBucketMs } from "./time-buckets.ts";

/** What one group commit writes: several requests' aggregates folded together, one row per key. */
export interface MergedIngestBatch {
  accepted: number;
  /** Raw 10 s series deltas, at most one per (series, bucket). */
  seriesBuckets: SeriesBucketDelta[];
  /** At most `maxExemplarsPerBucket` fingerprints per series and bucket, counts summed. */
  exemplars: ErrorExemplar[];
  /** Raw 10 s edge deltas, at most one per (environment, kind, source, target, bucket). */
  edges: GraphEdgeDelta[];
  instanceVersions: InstanceVersionSeen[];
  services: ServiceSeen[];
}

const sep = "\u001f";

/**
 * Folds the aggregates of several requests into one batch with a single row per storage key — a
 * database upsert may touch each row only once per statement. Merging uses the same commutative math
 * as the database (counts and latency bins add, user registers and maxima take the max, first/last
 * seen take the min/max), so the stored result is the same as writing each aggregate on its own.
 * Exemplars keep the most frequent fingerprints per series and bucket (ties: first seen).
 */
export function mergeIngestAggregates(
  aggregates: readonly IngestAggregate[],
  maxExemplarsPerBucket: number,
): MergedIngestBatch {
  if (aggregates.length === 1 && aggregates[0]) {
    const only = aggregates[0];
    return {
      accepted: only.accepted,
      seriesBuckets: only.seriesBuckets,
      exemplars: only.exemplars,
      edges: only.edges,
      instanceVersions: only.instanceVersions,
      services: only.services,
    };
  }
  let accepted = 0;
  const buckets: SeriesBucketDelta[] = [];
  const edges: GraphEdgeDelta[] = [];
  const exemplarsByKey = new Map<string, ErrorExemplar>();
  const instances = new Map<string, InstanceVersionSeen>();
  const services = new Map<string, ServiceSeen>();
  for (const aggregate of aggregates) {
    accepted += aggregate.accepted;
    for (const delta of aggregate.seriesBuckets) buckets.push(delta);
    for (const edge of aggregate.edges) edges.push(edge);
    for (const exemplar of aggregate.exemplars) {
      const key = `${exemplar.seriesKey}${sep}${exemplar.bucketStartMs}${sep}${exemplar.fingerprint}`;
      const known = exemplarsByKey.get(key);
      if (known) known.count += exemplar.count;
      else exemplarsByKey.set(key, { ...exemplar });
    }
    for (const seen of aggregate.instanceVersions) {
      const key = `${seen.environment}${sep}${seen.service}${sep}${seen.instanceId}${sep}${seen.version}`;
      const known = instances.get(key);
      if (!known) instances.set(key, { ...seen });
      else {
        known.firstSeenMs = Math.min(known.firstSeenMs, seen.firstSeenMs);
        known.lastSeenMs = Math.max(known.lastSeenMs, seen.lastSeenMs);
        known.region = seen.region ?? known.region;
      }
    }
    for (const seen of aggregate.services) {
      const key = `${seen.environment}${sep}${seen.service}`;
      const known = services.get(key);
      if (!known) services.set(key, { ...seen });
      else {
        known.firstSeenMs = Math.min(known.firstSeenMs, seen.firstSeenMs);
        known.lastSeenMs = Math.max(known.lastSeenMs, seen.lastSeenMs);
        known.sdkLanguage = seen.sdkLanguage ?? known.sdkLanguage;
      }
    }
  }
  return {
    accepted,
    // Rolling raw deltas up into raw-width buckets merges equal keys and keeps everything else as is.
    seriesBuckets: rollUpBuckets(buckets, rawBucketMs),
    edges: rollUpEdges(edges, rawBucketMs),
    exemplars: capExemplars([...exemplarsByKey.values()], maxExemplarsPerBucket),
    instanceVersions: [...instances.values()],
    services: [...services.values()],
  };
}

function capExemplars(exemplars: ErrorExemplar[], cap: number): ErrorExemplar[] {
  const bySeriesBucket = new Map<string, ErrorExemplar[]>();
  for (const exemplar of exemplars) {
    const key = `${exemplar.seriesKey}${sep}${exemplar.bucketStartMs}`;
    const group = bySeriesBucket.get(key);
    if (group) group.push(exemplar);
    else bySeriesBucket.set(key, [exemplar]);
  }
  const kept: ErrorExemplar[] = [];
  for (const group of bySeriesBucket.values()) {
    // Stable sort: equal counts keep first-seen order.
    group.sort((a, b) => b.count - a.count);
    for (const exemplar of group.slice(0, cap)) kept.push(exemplar);
  }
  return kept;
}
