import type { DbHandle, RawQuery } from "../create-db.ts";
import type { SketchBins } from "../schema/index.ts";

/** One series' partial aggregate for one bucket, ready to add to storage. Times in ms since the epoch. */
export interface SeriesBucketRow {
  seriesId: number;
  stepSeconds: number;
  bucketStartMs: number;
  spans: number;
  errors: number;
  durationSumMs: number;
  latencyBins: SketchBins;
  userRegisters: SketchBins;
}

export interface ErrorExemplarRow {
  seriesId: number;
  bucketStartMs: number;
  fingerprint: string;
  exceptionType: string | null;
  message: string | null;
  stack: string | null;
  traceId: string;
  spanId: string;
  count: number;
}

export interface GraphEdgeRow {
  environment: string;
  kind: string;
  source: string;
  target: string;
  stepSeconds: number;
  bucketStartMs: number;
  count: number;
  errors: number;
  delaySumMs: number;
  delayMaxMs: number;
  delayCount: number;
}

export interface InstanceVersionRow {
  environment: string;
  service: string;
  instanceId: string;
  version: string;
  region: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface ServiceRow {
  environment: string;
  name: string;
  sdkLanguage: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface IngestReceipt {
  key: string;
  receivedAtMs: number;
  acceptedSpans: number;
  rejectedSpans: number;
  rejectionMessage: string | null;
}

/** The aggregates one group commit writes. Each key appears at most once per list. */
export interface IngestRows {
  seriesBuckets: SeriesBucketRow[];
  exemplars: ErrorExemplarRow[];
  edges: GraphEdgeRow[];
  instanceVersions: InstanceVersionRow[];
  services: ServiceRow[];
}

/** Exemplar fingerprints kept per series and bucket across all writers (each batch is capped too). */
export const maxStoredExemplarsPerBucket = 10;

// Small tables' rows travel as one JSON document per table, expanded with jsonb_to_recordset: one round
// trip and one statement per table, the same SQL on PGlite and node-postgres, no parameter-count limit.
// `epoch + n ms` keeps bucket times exact (to_timestamp goes through a float).
const msToTimestamp = (column: string) => `(timestamptz 'epoch' + ${column} * interval '1 millisecond')`;

// Series buckets and edges, the bulk of every commit, travel as typed arrays expanded with unnest: on
// PGlite that parses much less than one JSON document per row. Sketches go as jsonb[] elements.
// A raw row folded into the rollups before collects latency bins that arrive later in
// pending_latency_bins, so the next fold adds only those (see rollup-fold.ts).
const upsertSeriesBucketsSql = `
INSERT INTO series_buckets AS b (series_id, step_seconds, bucket_start, spans, errors, duration_sum_ms, latency_bins, user_registers)
SELECT r.series_id, r.step_seconds, ${msToTimestamp("r.bucket_start_ms")}, r.spans, r.errors, r.duration_sum_ms, r.latency_bins, r.user_registers
FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::float8[], $7::jsonb[], $8::jsonb[])
  AS r(series_id, step_seconds, bucket_start_ms, spans, errors, duration_sum_ms, latency_bins, user_registers)
ON CONFLICT (series_id, step_seconds, bucket_start) DO UPDATE SET
  spans = b.spans + excluded.spans,
  errors = b.errors + excluded.errors,
  duration_sum_ms = b.duration_sum_ms + excluded.duration_sum_ms,
  latency_bins = faultline_sketch_add(b.latency_bins, excluded.latency_bins),
  user_registers = faultline_sketch_max(b.user_registers, excluded.user_registers),
  pending_latency_bins = CASE WHEN b.folded_spans > 0
    THEN faultline_sketch_add(coalesce(b.pending_latency_bins, '{}'::jsonb), excluded.latency_bins) END`;

// A new fingerprint is only added while its series and bucket hold fewer than the cap; known ones
// always add their count.
const upsertExemplarsSql = `
INSERT INTO error_exemplars AS e (series_id, bucket_start, fingerprint, exception_type, message, stack, trace_id, span_id, count)
SELECT r.series_id, ${msToTimestamp("r.bucket_start_ms")}, r.fingerprint, r.exception_type, r.message, r.stack, r.trace_id, r.span_id, r.count
FROM jsonb_to_recordset($1::jsonb) AS r(series_id bigint, bucket_start_ms bigint, fingerprint text, exception_type text,
  message text, stack text, trace_id text, span_id text, count bigint)
WHERE (SELECT count(*) FROM error_exemplars x WHERE x.series_id = r.series_id
        AND x.bucket_start = ${msToTimestamp("r.bucket_start_ms")}) < ${maxStoredExemplarsPerBucket}
   OR EXISTS (SELECT 1 FROM error_exemplars x WHERE x.series_id = r.series_id
        AND x.bucket_start = ${msToTimestamp("r.bucket_start_ms")} AND x.fingerprint = r.fingerprint)
ON CONFLICT (series_id, bucket_start, fingerprint) DO UPDATE SET count = e.count + excluded.count`;

const upsertEdgesSql = `
INSERT INTO graph_edges AS g (environment, kind, source, target, step_seconds, bucket_start, count, errors, delay_sum_ms, delay_max_ms, delay_count)
SELECT r.environment, r.kind, r.source, r.target, r.step_seconds, ${msToTimestamp("r.bucket_start_ms")}, r.count, r.errors,
  r.delay_sum_ms, r.delay_max_ms, r.delay_count
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[], $9::float8[],
  $10::float8[], $11::bigint[])
  AS r(environment, kind, source, target, step_seconds, bucket_start_ms, count, errors, delay_sum_ms, delay_max_ms, delay_count)
ON CONFLICT (environment, kind, source, target, step_seconds, bucket_start) DO UPDATE SET
  count = g.count + excluded.count,
  errors = g.errors + excluded.errors,
  delay_sum_ms = g.delay_sum_ms + excluded.delay_sum_ms,
  delay_max_ms = greatest(g.delay_max_ms, excluded.delay_max_ms),
  delay_count = g.delay_count + excluded.delay_count`;

// Marks raw bucket times as holding data the rollup fold has not added yet. DO UPDATE (not DO NOTHING)
// takes the mark's row lock, so a commit waits for a fold that is about to delete the mark and then
// writes it again, instead of leaving its raw rows unmarked.
const markRollupPendingSql = `
INSERT INTO rollup_pending AS p (bucket_start, marked_at)
SELECT ${msToTimestamp("t")}, now() FROM unnest($1::bigint[]) AS t
ON CONFLICT (bucket_start) DO UPDATE SET marked_at = excluded.marked_at`;

const upsertInstanceVersionsSql = `
INSERT INTO service_instance_versions AS v (environment, service, instance_id, version, region, first_seen_at, last_seen_at)
SELECT r.environment, r.service, r.instance_id, r.version, r.region, ${msToTimestamp("r.first_seen_ms")}, ${msToTimestamp("r.last_seen_ms")}
FROM jsonb_to_recordset($1::jsonb) AS r(environment text, service text, instance_id text, version text, region text,
  first_seen_ms float8, last_seen_ms float8)
ON CONFLICT (environment, service, instance_id, version) DO UPDATE SET
  region = coalesce(excluded.region, v.region),
  first_seen_at = least(v.first_seen_at, excluded.first_seen_at),
  last_seen_at = greatest(v.last_seen_at, excluded.last_seen_at)`;

const upsertServicesSql = `
INSERT INTO services AS s (environment, name, sdk_language, first_seen_at, last_seen_at)
SELECT r.environment, r.name, r.sdk_language, ${msToTimestamp("r.first_seen_ms")}, ${msToTimestamp("r.last_seen_ms")}
FROM jsonb_to_recordset($1::jsonb) AS r(environment text, name text, sdk_language text, first_seen_ms float8, last_seen_ms float8)
ON CONFLICT (environment, name) DO UPDATE SET
  sdk_language = coalesce(excluded.sdk_language, s.sdk_language),
  first_seen_at = least(s.first_seen_at, excluded.first_seen_at),
  last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at)`;

const insertReceiptsSql = `
INSERT INTO ingest_receipts (key, received_at, accepted_spans, rejected_spans, rejection_message)
SELECT r.key, ${msToTimestamp("r.received_at_ms")}, r.accepted_spans, r.rejected_spans, r.rejection_message
FROM jsonb_to_recordset($1::jsonb) AS r(key text, received_at_ms float8, accepted_spans int, rejected_spans int, rejection_message text)
ON CONFLICT (key) DO NOTHING`;

/**
 * Records the receipts of a group commit's requests and returns the keys that were new. Keys already
 * present belong to requests acknowledged before (a client's retry, or another replica that got the
 * same request): their spans must not be counted again. Run it first in the commit's transaction, so a
 * concurrent writer of the same key waits for it and then sees the key as taken.
 */
export async function claimIngestReceipts(
  query: RawQuery,
  receipts: readonly IngestReceipt[],
): Promise<Set<string>> {
  if (receipts.length === 0) return new Set();
  const rows = await query<{ key: string }>(`${insertReceiptsSql} RETURNING key`, [
    JSON.stringify(
      receipts.map((row) => ({
        key: row.key,
        received_at_ms: row.receivedAtMs,
        accepted_spans: row.acceptedSpans,
        rejected_spans: row.rejectedSpans,
        rejection_message: row.rejectionMessage,
      })),
    ),
  ]);
  return new Set(rows.map((row) => row.key));
}

/** The identity of a series, as stored. */
export interface SeriesIdentityRow {
  environment: string;
  service: string;
  operation: string;
  spanKind: string;
  destination: string | null;
  version: string | null;
}

/**
 * Ids of the given series, creating missing ones, in input order. Runs inside the caller's transaction
 * (embedded PGlite has one connection: a query outside it would wait for the transaction forever).
 */
export async function ensureSeriesIds(
  query: RawQuery,
  identities: readonly SeriesIdentityRow[],
): Promise<number[]> {
  if (identities.length === 0) return [];
  const rows = await query<SeriesIdentityRow & { id: string | number }>(
    `INSERT INTO series AS s (environment, service, operation, span_kind, destination, version)
     SELECT r.environment, r.service, r.operation, r.span_kind, r.destination, r.version
     FROM jsonb_to_recordset($1::jsonb) AS r(environment text, service text, operation text, span_kind text,
       destination text, version text)
     ON CONFLICT (environment, service, operation, span_kind, destination, version)
       DO UPDATE SET environment = excluded.environment
     RETURNING id, environment, service, operation, span_kind AS "spanKind", destination, version`,
    [
      JSON.stringify(
        identities.map((identity) => ({
          environment: identity.environment,
          service: identity.service,
          operation: identity.operation,
          span_kind: identity.spanKind,
          destination: identity.destination,
          version: identity.version,
        })),
      ),
    ],
  );
  const idByKey = new Map(rows.map((row) => [seriesIdentityKey(row), Number(row.id)]));
  return identities.map((identity) => {
    const id = idByKey.get(seriesIdentityKey(identity));
    if (id === undefined) throw new Error("a series was not returned by its upsert");
    return id;
  });
}

function seriesIdentityKey(identity: SeriesIdentityRow): string {
  return JSON.stringify([
    identity.environment,
    identity.service,
    identity.operation,
    identity.spanKind,
    identity.destination,
    identity.version,
  ]);
}

/** Width of raw buckets in seconds: the rows the rollup fold reads. */
export const rawStepSeconds = 10;

/**
 * Adds one group commit's aggregates to storage with commutative upserts, one statement per table.
 * Call inside a transaction together with claimIngestReceipts. Raw (10 s) series and edge rows mark
 * their bucket times for the rollup fold (rollup-fold.ts), which adds them to the 60 s and 3600 s rows
 * later; rows of other steps are written as given.
 */
export async function upsertIngestRows(query: RawQuery, rows: IngestRows): Promise<void> {
  const rawTimes = new Set<number>();
  for (const row of rows.seriesBuckets)
    if (row.stepSeconds === rawStepSeconds) rawTimes.add(row.bucketStartMs);
  for (const row of rows.edges) if (row.stepSeconds === rawStepSeconds) rawTimes.add(row.bucketStartMs);
  // First, before any raw row: a fold locks marks before raw rows, so both lock in the same order.
  if (rawTimes.size > 0) await query(markRollupPendingSql, [[...rawTimes].sort((a, b) => a - b)]);
  for (const buckets of inChunks(rows.seriesBuckets)) {
    await query(upsertSeriesBucketsSql, [
      buckets.map((row) => row.seriesId),
      buckets.map((row) => row.stepSeconds),
      buckets.map((row) => row.bucketStartMs),
      buckets.map((row) => row.spans),
      buckets.map((row) => row.errors),
      buckets.map((row) => row.durationSumMs),
      buckets.map((row) => JSON.stringify(row.latencyBins)),
      buckets.map((row) => JSON.stringify(row.userRegisters)),
    ]);
  }
  await upsertJson(query, upsertExemplarsSql, rows.exemplars, (row) => ({
    series_id: row.seriesId,
    bucket_start_ms: row.bucketStartMs,
    fingerprint: row.fingerprint,
    exception_type: row.exceptionType,
    message: row.message,
    stack: row.stack,
    trace_id: row.traceId,
    span_id: row.spanId,
    count: row.count,
  }));
  for (const edges of inChunks(rows.edges)) {
    await query(upsertEdgesSql, [
      edges.map((row) => row.environment),
      edges.map((row) => row.kind),
      edges.map((row) => row.source),
      edges.map((row) => row.target),
      edges.map((row) => row.stepSeconds),
      edges.map((row) => row.bucketStartMs),
      edges.map((row) => row.count),
      edges.map((row) => row.errors),
      edges.map((row) => row.delaySumMs),
      edges.map((row) => row.delayMaxMs),
      edges.map((row) => row.delayCount),
    ]);
  }
  await upsertJson(query, upsertInstanceVersionsSql, rows.instanceVersions, (row) => ({
    environment: row.environment,
    service: row.service,
    instance_id: row.instanceId,
    version: row.version,
    region: row.region,
    first_seen_ms: row.firstSeenMs,
    last_seen_ms: row.lastSeenMs,
  }));
  await upsertJson(query, upsertServicesSql, rows.services, (row) => ({
    environment: row.environment,
    name: row.name,
    sdk_language: row.sdkLanguage,
    first_seen_ms: row.firstSeenMs,
    last_seen_ms: row.lastSeenMs,
  }));
}

async function upsertJson<Row>(
  query: RawQuery,
  sqlText: string,
  rows: readonly Row[],
  toRecord: (row: Row) => Record<string, unknown>,
): Promise<void> {
  for (const chunk of inChunks(rows)) await query(sqlText, [JSON.stringify(chunk.map(toRecord))]);
}

/**
 * Rows per upsert statement. A statement's parameters, their parsed arrays and its executor state all
 * live at once in the database's memory; on embedded PGlite that memory is WebAssembly memory, which
 * never shrinks, so one checkpoint of 17,000 series buckets grew it by 83 MB for good. Statements of a
 * few thousand rows keep that bounded for a per-statement overhead that is small beside the rows.
 */
export const maxRowsPerUpsert = 2_000;

function* inChunks<Row>(rows: readonly Row[]): Generator<readonly Row[]> {
  for (let start = 0; start < rows.length; start += maxRowsPerUpsert)
    yield rows.slice(start, start + maxRowsPerUpsert);
}

/** The receipts among `keys` (requests already acknowledged), by key. */
export async function findIngestReceipts(
  handle: DbHandle,
  keys: readonly string[],
): Promise<Map<string, IngestReceipt>> {
  if (keys.length === 0) return new Map();
  const rows = await handle.query<{
    key: string;
    received_at_ms: string | number;
    accepted_spans: number;
    rejected_spans: number;
    rejection_message: string | null;
  }>(
    `SELECT key, (extract(epoch FROM received_at) * 1000)::bigint AS received_at_ms, accepted_spans, rejected_spans,
       rejection_message FROM ingest_receipts WHERE key = ANY($1::text[])`,
    [[...keys]],
  );
  return new Map(
    rows.map((row) => [
      row.key,
      {
        key: row.key,
        receivedAtMs: Number(row.received_at_ms),
        acceptedSpans: row.accepted_spans,
        rejectedSpans: row.rejected_spans,
        rejectionMessage: row.rejection_message,
      },
    ]),
  );
}

/** Forgets receipts older than `beforeMs` (past every client's retry window); returns how many. */
export async function deleteIngestReceiptsBefore(handle: DbHandle, beforeMs: number): Promise<number> {
  const rows = await handle.query<{ key: string }>(
    `DELETE FROM ingest_receipts WHERE received_at < ${msToTimestamp("$1::bigint")} RETURNING key`,
    [beforeMs],
  );
  return rows.length;
}
