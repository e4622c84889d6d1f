import type { GraphEdgeDelta, SeriesBucketDelta } from "../ingest-aggregate.ts";
import { mergeLatencyBins } from "../merge-latency-bins.ts";
import { mergeUserRegisters } from "../merge-user-registers.ts";

/**
 * Folds deltas the way the database upserts them (counts add, bins add, registers max), keyed by
 * series, step and bucket; returns a map for order-independent comparisons. Like storage, rows keep no
 * numeric latency bins (`latencyIndexBins`).
 */
export function upsertBucketsLikeDb(deltas: readonly SeriesBucketDelta[]): Map<string, SeriesBucketDelta> {
  const rows = new Map<string, SeriesBucketDelta>();
  for (const { latencyIndexBins: _notStored, ...d } of deltas) {
    const key = `${d.seriesKey}|${d.stepMs}|${d.bucketStartMs}`;
    const row = rows.get(key);
    rows.set(
      key,
      row === undefined
        ? { ...d, latencyBins: { ...d.latencyBins }, userRegisters: { ...d.userRegisters } }
        : {
            ...row,
            spans: row.spans + d.spans,
            errors: row.errors + d.errors,
            durationSumMs: row.durationSumMs + d.durationSumMs,
            latencyBins: mergeLatencyBins(row.latencyBins, d.latencyBins),
            userRegisters: mergeUserRegisters(row.userRegisters, d.userRegisters),
          },
    );
  }
  return rows;
}

/** Like upsertBucketsLikeDb, for graph edges. */
export function upsertEdgesLikeDb(edges: readonly GraphEdgeDelta[]): Map<string, GraphEdgeDelta> {
  const rows = new Map<string, GraphEdgeDelta>();
  for (const e of edges) {
    const key = `${e.environment}|${e.kind}|${e.source}|${e.target}|${e.stepMs}|${e.bucketStartMs}`;
    const row = rows.get(key);
    rows.set(
      key,
      row === undefined
        ? { ...e }
        : {
            ...row,
            count: row.count + e.count,
            errors: row.errors + e.errors,
            delaySumMs: row.delaySumMs + e.delaySumMs,
            delayCount: row.delayCount + e.delayCount,
            delayMaxMs: Math.max(row.delayMaxMs, e.delayMaxMs),
          },
    );
  }
  return rows;
}
