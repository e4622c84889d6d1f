import type { DbHandle } from "../create-db.ts";
import type { SketchBins, SpanKind } from "../schema/index.ts";

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

/**
 * The buckets of every matching series in a time range at one resolution, oldest first; series without
 * a bucket in the range are left out. One query, served by the series identity index and the buckets'
 * primary key.
 */
export async function readSeriesRange(handle: DbHandle, query: SeriesQuery): Promise<StoredSeries[]> {
  const rows = await handle.query<{
    id: string | number;
    service: string;
    operation: string;
    span_kind: SpanKind;
    destination: string | null;
    version: string | null;
    t: string | number;
    spans: string | number;
    errors: string | number;
    duration_sum_ms: number;
    latency_bins: SketchBins;
    user_registers: SketchBins;
  }>(
    `SELECT s.id, s.service, s.operation, s.span_kind, s.destination, s.version,
       (extract(epoch FROM b.bucket_start) * 1000)::bigint AS t, b.spans, b.errors, b.duration_sum_ms,
       b.latency_bins, b.user_registers
     FROM series s JOIN series_buckets b ON b.series_id = s.id
     WHERE s.environment = $1 AND ($2::text IS NULL OR s.service = $2) AND ($3::text IS NULL OR s.operation = $3)
       AND b.step_seconds = $4
       AND b.bucket_start >= timestamptz 'epoch' + $5::bigint * interval '1 millisecond'
       AND b.bucket_start < timestamptz 'epoch' + $6::bigint * interval '1 millisecond'
     ORDER BY s.service, s.operation, s.id, b.bucket_start`,
    [
      query.environment,
      query.service ?? null,
      query.operation ?? null,
      query.stepSeconds,
      Math.floor(query.fromMs),
      Math.ceil(query.toMs),
    ],
  );
  const byId = new Map<number, StoredSeries>();
  const out: StoredSeries[] = [];
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
      };
      byId.set(id, stored);
      out.push(stored);
    }
    stored.points.push({
      bucketStartMs: Number(row.t),
      spans: Number(row.spans),
      errors: Number(row.errors),
      durationSumMs: row.duration_sum_ms,
      latencyBins: row.latency_bins,
      userRegisters: row.user_registers,
    });
  }
  return out;
}
