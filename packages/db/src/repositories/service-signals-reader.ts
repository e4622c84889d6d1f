import type { DbHandle } from "../create-db.ts";
import type { SketchBins } from "../schema/index.ts";
import { entrySpanKinds } from "./rollup-fold.ts";

/** One service's (or destination's) totals in one bucket. */
export interface SignalBucket {
  bucketStartMs: number;
  /** Entry spans (server, consumer, browser): the requests and messages the service handled. */
  requests: number;
  requestErrors: number;
  /** Every span of the service, whatever its kind. */
  spans: number;
  errors: number;
  durationSumMs: number;
}

export interface ServiceSignals {
  service: string;
  buckets: SignalBucket[];
  /** Merged latency bins of the entry spans over the whole range (for a p95), when asked for. */
  latencyBins: SketchBins | null;
}

export interface DestinationThroughput {
  destination: string;
  buckets: { bucketStartMs: number; published: number; consumed: number; errors: number }[];
}

export interface SignalsQuery {
  environment: string;
  /** Only these services; all when omitted. */
  services?: readonly string[];
  /** 10 (raw), 60 or 3600. */
  stepSeconds: number;
  fromMs: number;
  toMs: number;
  /** Also merge the entry spans' latency bins per service over the range. */
  withLatency?: boolean;
}

const entryKinds = `(${entrySpanKinds.map((kind) => `'${kind}'`).join(", ")})`;

// The raw bucket times still waiting for the fold in [$6, $7): a handful. As an array the raw rows are
// probed by it, whatever the planner's statistics say; joined as a table, embedded PGlite (which
// never gathers statistics by itself) scanned every raw row of every series to find the few pending.
const pendingTimesSql = `ARRAY(SELECT p.bucket_start FROM rollup_pending p
  WHERE p.bucket_start >= timestamptz 'epoch' + $6::bigint * interval '1 millisecond'
    AND p.bucket_start < timestamptz 'epoch' + $7::bigint * interval '1 millisecond')`;

// The series-reader's snapshot-consistent union (rollup rows plus the unfolded raw tail moved to the
// start of its rollup bucket), summed per service and bucket in the database so only numbers travel.
// Latency bins only when asked for: detoasting a JSON column per row is most of a query's cost.
const unionSql = (columns: string, withBins = false) => `
SELECT ${columns}, (extract(epoch FROM b.bucket_start) * 1000)::bigint AS t,
  b.spans, b.errors, b.duration_sum_ms${withBins ? ", b.latency_bins" : ""}
FROM series s JOIN series_buckets b ON b.series_id = s.id
WHERE s.environment = $1 AND ($2::text[] IS NULL OR s.service = ANY($2::text[])) AND b.step_seconds = $3
  AND b.bucket_start >= timestamptz 'epoch' + $4::bigint * interval '1 millisecond'
  AND b.bucket_start < timestamptz 'epoch' + $5::bigint * interval '1 millisecond'
UNION ALL
SELECT ${columns}, floor(extract(epoch FROM b.bucket_start) * 1000 / ($3 * 1000))::bigint * ($3 * 1000) AS t,
  b.spans - b.folded_spans, b.errors - b.folded_errors, b.duration_sum_ms - b.folded_duration_sum_ms${
    withBins
      ? ", CASE WHEN b.folded_spans = 0 THEN b.latency_bins ELSE coalesce(b.pending_latency_bins, '{}'::jsonb) END"
      : ""
  }
FROM series_buckets b JOIN series s ON s.id = b.series_id
WHERE $3 <> 10 AND b.step_seconds = 10 AND b.bucket_start = ANY(${pendingTimesSql})
  AND s.environment = $1 AND ($2::text[] IS NULL OR s.service = ANY($2::text[])) AND b.spans > b.folded_spans`;

// Rollup steps read the services' own rollups (one row per service and bucket, kept by the fold) plus
// the same unfolded raw tail, already split into requests and all spans. Same parameters as unionSql.
const serviceUnionSql = (withBins: boolean) => `
SELECT b.service, (extract(epoch FROM b.bucket_start) * 1000)::bigint AS t, b.requests, b.request_errors,
  b.spans, b.errors, b.duration_sum_ms${withBins ? ", b.request_latency_bins AS latency_bins" : ""}
FROM service_buckets b
WHERE b.environment = $1 AND ($2::text[] IS NULL OR b.service = ANY($2::text[])) AND b.step_seconds = $3
  AND b.bucket_start >= timestamptz 'epoch' + $4::bigint * interval '1 millisecond'
  AND b.bucket_start < timestamptz 'epoch' + $5::bigint * interval '1 millisecond'
UNION ALL
SELECT s.service, floor(extract(epoch FROM b.bucket_start) * 1000 / ($3 * 1000))::bigint * ($3 * 1000) AS t,
  CASE WHEN s.span_kind IN ${entryKinds} THEN b.spans - b.folded_spans ELSE 0 END,
  CASE WHEN s.span_kind IN ${entryKinds} THEN b.errors - b.folded_errors ELSE 0 END,
  b.spans - b.folded_spans, b.errors - b.folded_errors, b.duration_sum_ms - b.folded_duration_sum_ms${
    withBins
      ? `, CASE WHEN s.span_kind NOT IN ${entryKinds} THEN '{}'::jsonb
          WHEN b.folded_spans = 0 THEN b.latency_bins ELSE coalesce(b.pending_latency_bins, '{}'::jsonb) END`
      : ""
  }
FROM series_buckets b JOIN series s ON s.id = b.series_id
WHERE b.step_seconds = 10 AND b.bucket_start = ANY(${pendingTimesSql})
  AND s.environment = $1 AND ($2::text[] IS NULL OR s.service = ANY($2::text[])) AND b.spans > b.folded_spans`;

type Numeric = string | number;

function paramsOf(query: SignalsQuery): unknown[] {
  const stepMs = query.stepSeconds * 1000;
  const alignUp = (ms: number): number => Math.ceil(ms / stepMs) * stepMs;
  return [
    query.environment,
    query.services ? [...query.services] : null,
    query.stepSeconds,
    Math.floor(query.fromMs),
    Math.ceil(query.toMs),
    alignUp(Math.floor(query.fromMs)),
    alignUp(Math.ceil(query.toMs)),
  ];
}

/**
 * Per service and bucket: entry requests and errors, all spans and errors, duration sum — summed in
 * SQL, so a board of hundreds of services reads numbers, not sketches. Every stored span counts once.
 * At 60 s and 3600 s it reads the services' rollups (one row per service and bucket) and the raw tail.
 * Services without data in the range are left out; buckets oldest first.
 */
export async function readServiceSignals(handle: DbHandle, query: SignalsQuery): Promise<ServiceSignals[]> {
  // 60 s and 3600 s come from the services' rollups; raw 10 s rows are summed from the series.
  const perBucket =
    query.stepSeconds !== 10
      ? `SELECT service, t, sum(requests) AS requests, sum(request_errors) AS request_errors, sum(spans) AS spans,
           sum(errors) AS errors, sum(duration_sum_ms) AS duration_sum_ms
         FROM (${serviceUnionSql(false)}) AS u GROUP BY service, t`
      : `SELECT service, t, sum(CASE WHEN entry THEN spans ELSE 0 END) AS requests,
           sum(CASE WHEN entry THEN errors ELSE 0 END) AS request_errors,
           sum(spans) AS spans, sum(errors) AS errors, sum(duration_sum_ms) AS duration_sum_ms
         FROM (${unionSql(`s.service, s.span_kind IN ${entryKinds} AS entry`)}) AS u GROUP BY service, t`;
  // One row per service with its buckets as one JSON array: a board of 200 services × 60 minutes is
  // 200 rows parsed natively, not 12,000 rows of seven columns (most of a query's time on PGlite).
  const rows = await handle.query<{ service: string; buckets: Numeric[][] }>(
    `SELECT service,
       json_agg(json_build_array(t, requests, request_errors, spans, errors, duration_sum_ms) ORDER BY t) AS buckets
     FROM (${perBucket}) AS b GROUP BY service ORDER BY service`,
    paramsOf(query),
  );
  const latency = query.withLatency ? await readServiceLatencyBins(handle, query) : null;
  return rows.map((row) => ({
    service: row.service,
    buckets: row.buckets.map(([t, requests, requestErrors, spans, errors, durationSumMs]) => ({
      bucketStartMs: Number(t),
      requests: Number(requests),
      requestErrors: Number(requestErrors),
      spans: Number(spans),
      errors: Number(errors),
      durationSumMs: Number(durationSumMs),
    })),
    latencyBins: latency?.get(row.service) ?? null,
  }));
}

/**
 * Per service, the latency bins of its entry spans merged over the range (for a p95): the same spans
 * readServiceSignals counts as requests. Services without entry spans in the range are left out.
 */
export async function readServiceLatencyBins(
  handle: DbHandle,
  query: Omit<SignalsQuery, "withLatency">,
): Promise<Map<string, SketchBins>> {
  // Bins merged per service in SQL: one JSON object per service, a few hundred bins at most.
  const perBin =
    query.stepSeconds !== 10
      ? `SELECT service, kv.key AS bin, sum(kv.value::float8) AS count
         FROM (${serviceUnionSql(true)}) AS u, jsonb_each_text(u.latency_bins) AS kv
         GROUP BY service, kv.key`
      : `SELECT service, kv.key AS bin, sum(kv.value::float8) AS count
         FROM (${unionSql(`s.service, s.span_kind IN ${entryKinds} AS entry`, true)}) AS u, jsonb_each_text(u.latency_bins) AS kv
         WHERE u.entry GROUP BY service, kv.key`;
  const rows = await handle.query<{ service: string; bins: Record<string, Numeric> }>(
    `SELECT service, json_object_agg(bin, count) AS bins FROM (${perBin}) AS b GROUP BY service`,
    paramsOf(query),
  );
  const byService = new Map<string, SketchBins>();
  for (const row of rows) {
    const bins: SketchBins = {};
    for (const key in row.bins) bins[key] = Number(row.bins[key]);
    byService.set(row.service, bins);
  }
  return byService;
}

/** Per messaging destination and bucket: messages published (producer spans) and consumed. */
export async function readDestinationThroughput(
  handle: DbHandle,
  query: Omit<SignalsQuery, "withLatency">,
): Promise<DestinationThroughput[]> {
  const rows = await handle.query<{
    destination: string;
    t: Numeric;
    published: Numeric;
    consumed: Numeric;
    errors: Numeric;
  }>(
    `SELECT destination, t, sum(CASE WHEN span_kind = 'producer' THEN spans ELSE 0 END) AS published,
       sum(CASE WHEN span_kind = 'consumer' THEN spans ELSE 0 END) AS consumed, sum(errors) AS errors
     FROM (${unionSql("s.destination, s.span_kind")}) AS u
     WHERE destination IS NOT NULL AND span_kind IN ('producer', 'consumer')
     GROUP BY destination, t ORDER BY destination, t`,
    paramsOf(query),
  );
  const byDestination = new Map<string, DestinationThroughput>();
  for (const row of rows) {
    let entry = byDestination.get(row.destination);
    if (!entry) {
      entry = { destination: row.destination, buckets: [] };
      byDestination.set(row.destination, entry);
    }
    entry.buckets.push({
      bucketStartMs: Number(row.t),
      published: Number(row.published),
      consumed: Number(row.consumed),
      errors: Number(row.errors),
    });
  }
  return [...byDestination.values()];
}

/** Errors and spans per `service.version` of one service and bucket: old against new version. */
export async function readVersionErrorRates(
  handle: DbHandle,
  query: { environment: string; service: string; stepSeconds: number; fromMs: number; toMs: number },
): Promise<
  { version: string | null; buckets: { bucketStartMs: number; spans: number; errors: number }[] }[]
> {
  const rows = await handle.query<{ version: string | null; t: Numeric; spans: Numeric; errors: Numeric }>(
    `SELECT version, t, sum(spans) AS spans, sum(errors) AS errors
     FROM (${unionSql("s.version, s.span_kind")}) AS u
     WHERE span_kind IN ${entryKinds}
     GROUP BY version, t ORDER BY version NULLS FIRST, t`,
    paramsOf({ ...query, services: [query.service] }),
  );
  const byVersion = new Map<string | null, { bucketStartMs: number; spans: number; errors: number }[]>();
  for (const row of rows) {
    const buckets = byVersion.get(row.version) ?? [];
    buckets.push({ bucketStartMs: Number(row.t), spans: Number(row.spans), errors: Number(row.errors) });
    byVersion.set(row.version, buckets);
  }
  return [...byVersion.entries()].map(([version, buckets]) => ({ version, buckets }));
}

/** Service and messaging edges summed over a range (raw 10 s rows: exact, fine for incident windows). */
export async function readGraphEdges(
  handle: DbHandle,
  query: { environment: string; fromMs: number; toMs: number },
): Promise<{ kind: string; source: string; target: string; count: number; errors: number }[]> {
  const rows = await handle.query<{
    kind: string;
    source: string;
    target: string;
    count: Numeric;
    errors: Numeric;
  }>(
    `SELECT kind, source, target, sum(count) AS count, sum(errors) AS errors FROM graph_edges
     WHERE environment = $1 AND step_seconds = 10
       AND bucket_start >= timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
       AND bucket_start < timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
     GROUP BY kind, source, target ORDER BY kind, source, target`,
    [query.environment, Math.floor(query.fromMs), Math.ceil(query.toMs)],
  );
  return rows.map((row) => ({ ...row, count: Number(row.count), errors: Number(row.errors) }));
}

/** Error exemplars of some services in a range, grouped by fingerprint, most frequent first. */
export async function readErrorExemplarGroups(
  handle: DbHandle,
  query: { environment: string; services: readonly string[]; fromMs: number; toMs: number; limit: number },
): Promise<
  {
    fingerprint: string;
    service: string;
    operation: string;
    exceptionType: string | null;
    message: string | null;
    count: number;
    firstSeenMs: number;
    lastSeenMs: number;
    traces: { traceId: string; spanId: string; atMs: number }[];
  }[]
> {
  const rows = await handle.query<{
    fingerprint: string;
    service: string;
    operation: string;
    exception_type: string | null;
    message: string | null;
    count: Numeric;
    first_ms: Numeric;
    last_ms: Numeric;
    traces: { trace_id: string; span_id: string; at_ms: number }[];
  }>(
    `SELECT e.fingerprint, min(s.service) AS service, min(s.operation) AS operation,
       min(e.exception_type) AS exception_type, min(e.message) AS message, sum(e.count) AS count,
       (extract(epoch FROM min(e.bucket_start)) * 1000)::bigint AS first_ms,
       (extract(epoch FROM max(e.bucket_start)) * 1000)::bigint AS last_ms,
       (array_agg(jsonb_build_object('trace_id', e.trace_id, 'span_id', e.span_id,
          'at_ms', (extract(epoch FROM e.bucket_start) * 1000)::bigint) ORDER BY e.bucket_start DESC))[1:5] AS traces
     FROM error_exemplars e JOIN series s ON s.id = e.series_id
     WHERE s.environment = $1 AND s.service = ANY($2::text[])
       AND e.bucket_start >= timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
       AND e.bucket_start < timestamptz 'epoch' + $4::bigint * interval '1 millisecond'
     GROUP BY e.fingerprint ORDER BY sum(e.count) DESC, e.fingerprint LIMIT $5`,
    [query.environment, [...query.services], Math.floor(query.fromMs), Math.ceil(query.toMs), query.limit],
  );
  return rows.map((row) => ({
    fingerprint: row.fingerprint,
    service: row.service,
    operation: row.operation,
    exceptionType: row.exception_type,
    message: row.message,
    count: Number(row.count),
    firstSeenMs: Number(row.first_ms),
    lastSeenMs: Number(row.last_ms),
    traces: row.traces.map((trace) => ({
      traceId: trace.trace_id,
      spanId: trace.span_id,
      atMs: Number(trace.at_ms),
    })),
  }));
}
