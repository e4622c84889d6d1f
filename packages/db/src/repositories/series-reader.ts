import type { DbHandle } from "../create-db.ts";
import type { SketchBins, SpanKind } from "../schema/index.ts";
import { addBinsInto, maxRegistersInto } from "./rollup-fold.ts";

export interface SeriesBucketPoint {
  bucketStartMs: number;
  spans: number;
  errors: number;
  durationSumMs: number;
  latencyBins: SketchBins;
  userRegisters: SketchBins;
}

export interface StoredSeries {
  id: number;
  service: string;
  operation: string;
  spanKind: SpanKind;
  destination: string | null;
  version: string | null;
  points: SeriesBucketPoint[];
}

export interface SeriesQuery {
  environment: string;
  service?: string;
  operation?: string;
  /** Bucket width to read: 10 (raw), 60 or 3600. */
  stepSeconds: number;
  /** Buckets starting in [fromMs, toMs), ms since the epoch. */
  fromMs: number;
  toMs: number;
}

const seriesFilter = `s.environment = $1 AND ($2::text IS NULL OR s.service = $2) AND ($3::text IS NULL OR s.operation = $3)`;

// Rollup rows, plus the part of raw rows the rollup fold has not added yet (rollup-fold.ts), moved to
// the start of their rollup bucket. One statement, so one snapshot: a fold committing meanwhile can
// neither hide nor double a span. Raw reads ($4 = 10) have no second part.
const readSql = `
SELECT * FROM (
SELECT s.id, s.service, s.operation, s.span_kind, s.destination, s.version,
  (extract(epoch FROM b.bucket_start) * 1000)::bigint AS t, b.spans, b.errors, b.duration_sum_ms,
  b.latency_bins, b.user_registers
FROM series s JOIN series_buckets b ON b.series_id = s.id
WHERE ${seriesFilter}
  AND b.step_seconds = $4
  AND b.bucket_start >= timestamptz 'epoch' + $5::bigint * interval '1 millisecond'
  AND b.bucket_start < timestamptz 'epoch' + $6::bigint * interval '1 millisecond'
UNION ALL
SELECT s.id, s.service, s.operation, s.span_kind, s.destination, s.version,
  floor(extract(epoch FROM b.bucket_start) * 1000 / ($4 * 1000))::bigint * ($4 * 1000) AS t,
  b.spans - b.folded_spans, b.errors - b.folded_errors, b.duration_sum_ms - b.folded_duration_sum_ms,
  CASE WHEN b.folded_spans = 0 THEN b.latency_bins ELSE coalesce(b.pending_latency_bins, '{}'::jsonb) END,
  b.user_registers
FROM rollup_pending p
JOIN series_buckets b ON b.step_seconds = 10 AND b.bucket_start = p.bucket_start
JOIN series s ON s.id = b.series_id
WHERE $4 <> 10 AND ${seriesFilter}
  AND p.bucket_start >= timestamptz 'epoch' + $7::bigint * interval '1 millisecond'
  AND p.bucket_start < timestamptz 'epoch' + $8::bigint * interval '1 millisecond'
  AND b.spans > b.folded_spans
) AS u
ORDER BY service, operation, id, t`;

type Numeric = string | number;

/**
 * The buckets of every matching series in a time range at one resolution, oldest first; series without
 * a bucket in the range are left out. Rollup steps (60, 3600) include raw data not yet folded into the
 * rollups, so every stored span is counted exactly once at every step.
 */
export async function readSeriesRange(handle: DbHandle, query: SeriesQuery): Promise<StoredSeries[]> {
  const stepMs = query.stepSeconds * 1000;
  // Raw buckets whose rollup bucket starts in [fromMs, toMs).
  const alignUp = (ms: number): number => Math.ceil(ms / stepMs) * stepMs;
  const rows = await handle.query<{
    id: Numeric;
    service: string;
    operation: string;
    span_kind: SpanKind;
    destination: string | null;
    version: string | null;
    t: Numeric;
    spans: Numeric;
    errors: Numeric;
    duration_sum_ms: number;
    latency_bins: SketchBins;
    user_registers: SketchBins;
  }>(readSql, [
    query.environment,
    query.service ?? null,
    query.operation ?? null,
    query.stepSeconds,
    Math.floor(query.fromMs),
    Math.ceil(query.toMs),
    alignUp(Math.floor(query.fromMs)),
    alignUp(Math.ceil(query.toMs)),
  ]);
  const byId = new Map<number, StoredSeries & { byTime: Map<number, SeriesBucketPoint> }>();
  for (const row of rows) {
    const id = Number(row.id);
    let stored = byId.get(id);
    if (!stored) {
      stored = {
        id,
        service: row.service,
        operation: row.operation,
        spanKind: row.span_kind,
        destination: row.destination,
        version: row.version,
        points: [],
        byTime: new Map(),
      };
      byId.set(id, stored);
    }
    const bucketStartMs = Number(row.t);
    const point = stored.byTime.get(bucketStartMs);
    if (point) {
      point.spans += Number(row.spans);
      point.errors += Number(row.errors);
      point.durationSumMs += Number(row.duration_sum_ms);
      addBinsInto(point.latencyBins, row.latency_bins);
      maxRegistersInto(point.userRegisters, row.user_registers);
    } else {
      const fresh: SeriesBucketPoint = {
        bucketStartMs,
        spans: Number(row.spans),
        errors: Number(row.errors),
        durationSumMs: Number(row.duration_sum_ms),
        latencyBins: { ...row.latency_bins },
        userRegisters: { ...row.user_registers },
      };
      stored.byTime.set(bucketStartMs, fresh);
      stored.points.push(fresh);
    }
  }
  const out: StoredSeries[] = [];
  for (const { byTime: _byTime, ...stored } of byId.values()) out.push(stored);
  return out;
}
