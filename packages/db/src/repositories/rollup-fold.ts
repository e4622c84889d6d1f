import type { DbHandle, RawQuery } from "../create-db.ts";
import type { SketchBins } from "../schema/index.ts";

/** Rollup widths kept besides the raw 10 s buckets, in seconds. */
export const rollupStepsSeconds = [60, 3600] as const;

/** Serialises folds across connections and replicas: only a fold writes rollup rows. */
const foldLockKey = 7_146_035_001;

const msOf = (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`;
const msToTimestamp = (column: string) => `(timestamptz 'epoch' + ${column} * interval '1 millisecond')`;
const markedTimes = `(SELECT ${msToTimestamp("t")} FROM unnest($1::bigint[]) AS t)`;

// The unfolded part of marked raw rows: everything for a row never folded, else what came since.
const takeSeriesSql = `
SELECT series_id, ${msOf("bucket_start")} AS t, spans - folded_spans AS spans, errors - folded_errors AS errors,
  duration_sum_ms - folded_duration_sum_ms AS duration_sum_ms,
  CASE WHEN folded_spans = 0 THEN latency_bins ELSE coalesce(pending_latency_bins, '{}'::jsonb) END AS latency_bins,
  user_registers
FROM series_buckets
WHERE step_seconds = 10 AND bucket_start IN ${markedTimes} AND spans > folded_spans AND series_id = ANY($2::bigint[])
FOR UPDATE`;

const markSeriesFoldedSql = `
UPDATE series_buckets SET folded_spans = spans, folded_errors = errors, folded_duration_sum_ms = duration_sum_ms,
  pending_latency_bins = NULL
WHERE step_seconds = 10 AND bucket_start IN ${markedTimes} AND spans > folded_spans AND series_id = ANY($2::bigint[])`;

// The series with an unfolded part in the marked times, so the fold can take them a few at a time.
const pendingSeriesSql = `
SELECT DISTINCT series_id FROM series_buckets
WHERE step_seconds = 10 AND bucket_start IN ${markedTimes} AND spans > folded_spans
ORDER BY series_id`;

const readRollupsSql = `
SELECT b.series_id, b.step_seconds, ${msOf("b.bucket_start")} AS t, b.spans, b.errors, b.duration_sum_ms,
  b.latency_bins, b.user_registers
FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS k(series_id, step_seconds, t)
JOIN series_buckets b ON b.series_id = k.series_id AND b.step_seconds = k.step_seconds
  AND b.bucket_start = ${msToTimestamp("k.t")}`;

// Rollup rows are read, merged in JS and written back whole: the fold lock makes it the only writer.
const writeRollupsSql = `
INSERT INTO series_buckets AS b (series_id, step_seconds, bucket_start, spans, errors, duration_sum_ms, latency_bins, user_registers)
SELECT r.series_id, r.step_seconds, ${msToTimestamp("r.t")}, r.spans, r.errors, r.duration_sum_ms, r.latency_bins, r.user_registers
FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::float8[], $7::jsonb[], $8::jsonb[])
  AS r(series_id, step_seconds, t, spans, errors, duration_sum_ms, latency_bins, user_registers)
ON CONFLICT (series_id, step_seconds, bucket_start) DO UPDATE SET
  spans = excluded.spans, errors = excluded.errors, duration_sum_ms = excluded.duration_sum_ms,
  latency_bins = excluded.latency_bins, user_registers = excluded.user_registers`;

// Services' rollups take the fold's deltas: counts add, entry latency bins merge in SQL. The fold lock
// makes it the only writer, and the one transaction keeps them equal to the series rollups.
const addServiceRollupsSql = `
INSERT INTO service_buckets AS b (environment, service, step_seconds, bucket_start, requests, request_errors, spans,
  errors, duration_sum_ms, request_latency_bins)
SELECT r.environment, r.service, r.step_seconds, ${msToTimestamp("r.t")}, r.requests, r.request_errors, r.spans,
  r.errors, r.duration_sum_ms, r.request_latency_bins
FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
  $9::float8[], $10::jsonb[])
  AS r(environment, service, step_seconds, t, requests, request_errors, spans, errors, duration_sum_ms, request_latency_bins)
ON CONFLICT (environment, step_seconds, bucket_start, service) DO UPDATE SET
  requests = b.requests + excluded.requests, request_errors = b.request_errors + excluded.request_errors,
  spans = b.spans + excluded.spans, errors = b.errors + excluded.errors,
  duration_sum_ms = b.duration_sum_ms + excluded.duration_sum_ms,
  request_latency_bins = faultline_sketch_add(b.request_latency_bins, excluded.request_latency_bins)`;

/** Span kinds that are a service's own requests or messages handled (its request rate and errors). */
export const entrySpanKinds = ["server", "consumer", "browser"] as const;
const entryKindsSql = `(${entrySpanKinds.map((kind) => `'${kind}'`).join(", ")})`;

// Every service's rollups derived again from the series rollups (the migration that added the table
// ran the same statement). For seeding rollups directly and for repair.
const rebuildServiceRollupsSql = `
INSERT INTO service_buckets (environment, service, step_seconds, bucket_start, requests, request_errors, spans, errors,
  duration_sum_ms, request_latency_bins)
SELECT t.environment, t.service, t.step_seconds, t.bucket_start, t.requests, t.request_errors, t.spans, t.errors,
  t.duration_sum_ms, coalesce(l.bins, '{}'::jsonb)
FROM (
  SELECT s.environment, s.service, b.step_seconds, b.bucket_start,
    sum(CASE WHEN s.span_kind IN ${entryKindsSql} THEN b.spans ELSE 0 END) AS requests,
    sum(CASE WHEN s.span_kind IN ${entryKindsSql} THEN b.errors ELSE 0 END) AS request_errors,
    sum(b.spans) AS spans, sum(b.errors) AS errors, sum(b.duration_sum_ms) AS duration_sum_ms
  FROM series_buckets b JOIN series s ON s.id = b.series_id
  WHERE b.step_seconds IN (60, 3600)
  GROUP BY s.environment, s.service, b.step_seconds, b.bucket_start
) AS t
LEFT JOIN (
  SELECT environment, service, step_seconds, bucket_start, jsonb_object_agg(bin, total) AS bins
  FROM (
    SELECT s.environment, s.service, b.step_seconds, b.bucket_start, kv.key AS bin, sum(kv.value::numeric) AS total
    FROM series_buckets b JOIN series s ON s.id = b.series_id, jsonb_each_text(b.latency_bins) AS kv
    WHERE b.step_seconds IN (60, 3600) AND s.span_kind IN ${entryKindsSql}
    GROUP BY s.environment, s.service, b.step_seconds, b.bucket_start, kv.key
  ) AS per_bin
  GROUP BY environment, service, step_seconds, bucket_start
) AS l USING (environment, service, step_seconds, bucket_start)`;

// Edges carry no sketches: the whole fold is one statement (delay maxima are idempotent).
const foldEdgesSql = `
WITH taken AS (
  SELECT environment, kind, source, target, bucket_start, count - folded_count AS count, errors - folded_errors AS errors,
    delay_sum_ms - folded_delay_sum_ms AS delay_sum_ms, delay_max_ms, delay_count - folded_delay_count AS delay_count
  FROM graph_edges
  WHERE step_seconds = 10 AND bucket_start IN ${markedTimes} AND count > folded_count
  FOR UPDATE
), marked AS (
  UPDATE graph_edges g SET folded_count = g.count, folded_errors = g.errors, folded_delay_sum_ms = g.delay_sum_ms,
    folded_delay_count = g.delay_count
  FROM taken
  WHERE g.environment = taken.environment AND g.kind = taken.kind AND g.source = taken.source
    AND g.target = taken.target AND g.step_seconds = 10 AND g.bucket_start = taken.bucket_start
)
INSERT INTO graph_edges AS g (environment, kind, source, target, step_seconds, bucket_start, count, errors, delay_sum_ms, delay_max_ms, delay_count)
SELECT taken.environment, taken.kind, taken.source, taken.target, step.seconds,
  timestamptz 'epoch' + floor(extract(epoch FROM taken.bucket_start) / step.seconds) * step.seconds * interval '1 second',
  sum(taken.count), sum(taken.errors), sum(taken.delay_sum_ms), max(taken.delay_max_ms), sum(taken.delay_count)
FROM taken CROSS JOIN unnest($2::int[]) AS step(seconds)
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (environment, kind, source, target, step_seconds, bucket_start) DO UPDATE SET
  count = g.count + excluded.count,
  errors = g.errors + excluded.errors,
  delay_sum_ms = g.delay_sum_ms + excluded.delay_sum_ms,
  delay_max_ms = greatest(g.delay_max_ms, excluded.delay_max_ms),
  delay_count = g.delay_count + excluded.delay_count`;

interface ServiceDelta {
  environment: string;
  service: string;
  stepSeconds: number;
  t: number;
  requests: number;
  requestErrors: number;
  spans: number;
  errors: number;
  durationSumMs: number;
  requestLatencyBins: SketchBins;
}

interface BucketValues {
  spans: number;
  errors: number;
  durationSumMs: number;
  latencyBins: SketchBins;
  userRegisters: SketchBins;
}

type Numeric = string | number;
interface BucketRowText {
  series_id: Numeric;
  t: Numeric;
  spans: Numeric;
  errors: Numeric;
  duration_sum_ms: number;
  latency_bins: SketchBins;
  user_registers: SketchBins;
}

/** Adds latency bins (counts per bin) of `from` into `into`. */
export function addBinsInto(into: SketchBins, from: SketchBins): void {
  for (const key in from) into[key] = (into[key] ?? 0) + (from[key] ?? 0);
}

/** Takes the per-register maximum of `from` into `into` (HyperLogLog union). */
export function maxRegistersInto(into: SketchBins, from: SketchBins): void {
  for (const key in from) {
    const value = from[key] ?? 0;
    if (value > (into[key] ?? 0)) into[key] = value;
  }
}

/** Adds a stored row into a rollup being built, reading its sketches in place (no copy). */
function addRowInto(into: BucketValues, row: BucketRowText): void {
  into.spans += Number(row.spans);
  into.errors += Number(row.errors);
  into.durationSumMs += Number(row.duration_sum_ms);
  addBinsInto(into.latencyBins, row.latency_bins);
  maxRegistersInto(into.userRegisters, row.user_registers);
}

// A rollup being built owns copies of its first row's sketches: the raw rows feed both widths and the
// services' rollups, so merging must not write into them. Later rows are added in place (addRowInto),
// not through a copy each: a user-register sketch holds up to 4,096 keys.
const valuesOf = (row: BucketRowText): BucketValues => ({
  spans: Number(row.spans),
  errors: Number(row.errors),
  durationSumMs: Number(row.duration_sum_ms),
  latencyBins: { ...row.latency_bins },
  userRegisters: { ...row.user_registers },
});

export interface FoldResult {
  /** Raw bucket times folded. */
  bucketTimes: number;
  /** Raw series rows whose unfolded part was added to the rollups. */
  seriesRows: number;
  /** Rollup rows written. */
  rollupRows: number;
}

/**
 * Series whose raw rows one piece of a fold reads, merges and writes: their rollup rows are read and
 * written whole, and an hourly one holds up to 4,096 user registers, so the piece bounds the fold's memory.
 * An 18,000-row fold of 600 series on PGlite held 134-162 MiB of live heap taking them all at once and
 * grew PGlite's WebAssembly memory (which never shrinks) from 128 to 319 MiB over three folds; in pieces
 * of 100 series, 31-75 MiB and 128 MiB throughout, in about the same CPU time.
 */
export const foldSeriesPerPiece = 100;

/**
 * Folds up to `maxBucketTimes` marked raw bucket times (oldest first; the default, 5 minutes of them,
 * bounds one transaction's length) into the 60 s and 3600 s rollups, per series and per service, in one
 * transaction: adds the unfolded part of their raw series and edge rows to the rollup rows, records it as
 * folded, and deletes the marks. Series are taken `seriesPerPiece` at a time, so what the fold holds in
 * memory does not grow with the number of series. Idempotent and crash-safe: a fold that does not commit
 * leaves the marks, and the next one does the same work again. Returns what it did (zeros when nothing
 * was pending).
 */
export async function foldRollups(
  handle: DbHandle,
  maxBucketTimes = 30,
  seriesPerPiece = foldSeriesPerPiece,
): Promise<FoldResult> {
  return handle.transaction((query) => foldInTransaction(query, maxBucketTimes, seriesPerPiece));
}

async function foldInTransaction(
  query: RawQuery,
  maxBucketTimes: number,
  seriesPerPiece: number,
): Promise<FoldResult> {
  await query(`SELECT pg_advisory_xact_lock(${foldLockKey})`);
  const marks = await query<{ t: Numeric }>(
    `SELECT ${msOf("bucket_start")} AS t FROM rollup_pending ORDER BY bucket_start LIMIT $1 FOR UPDATE`,
    [maxBucketTimes],
  );
  if (marks.length === 0) return { bucketTimes: 0, seriesRows: 0, rollupRows: 0 };
  const times = marks.map((mark) => Number(mark.t));
  const pendingSeries = (await query<{ series_id: Numeric }>(pendingSeriesSql, [times])).map((row) =>
    Number(row.series_id),
  );
  // Summed per service and rollup bucket over every piece, then added to the services' rollups once.
  const serviceDeltas = new Map<string, ServiceDelta>();
  let seriesRows = 0;
  let rollupRows = 0;
  for (let at = 0; at < pendingSeries.length; at += seriesPerPiece) {
    // A turn of the event loop between pieces: PGlite runs each statement on this thread, and requests
    // waiting to be decoded and logged need not wait for the whole fold.
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    const piece = await foldSeriesPiece(
      query,
      times,
      pendingSeries.slice(at, at + seriesPerPiece),
      serviceDeltas,
    );
    seriesRows += piece.seriesRows;
    rollupRows += piece.rollupRows;
  }
  await addServiceRollups(query, serviceDeltas);
  await query(foldEdgesSql, [times, [...rollupStepsSeconds]]);
  await query(`DELETE FROM rollup_pending WHERE bucket_start IN ${markedTimes}`, [times]);
  return { bucketTimes: times.length, seriesRows, rollupRows };
}

/** Folds the unfolded raw rows of `seriesIds` in the marked `times` into their series' rollups. */
async function foldSeriesPiece(
  query: RawQuery,
  times: readonly number[],
  seriesIds: readonly number[],
  serviceDeltas: Map<string, ServiceDelta>,
): Promise<{ seriesRows: number; rollupRows: number }> {
  const taken = await query<BucketRowText>(takeSeriesSql, [times, seriesIds]);
  if (taken.length === 0) return { seriesRows: 0, rollupRows: 0 };
  const rollups = new Map<
    string,
    { seriesId: number; stepSeconds: number; t: number; values: BucketValues }
  >();
  for (const row of taken) {
    const seriesId = Number(row.series_id);
    const rawMs = Number(row.t);
    for (const stepSeconds of rollupStepsSeconds) {
      const stepMs = stepSeconds * 1000;
      const t = Math.floor(rawMs / stepMs) * stepMs;
      const key = `${seriesId}:${stepSeconds}:${t}`;
      const known = rollups.get(key);
      if (known) addRowInto(known.values, row);
      else rollups.set(key, { seriesId, stepSeconds, t, values: valuesOf(row) });
    }
  }
  const list = [...rollups.values()];
  const stored = await query<BucketRowText & { step_seconds: number }>(readRollupsSql, [
    list.map((rollup) => rollup.seriesId),
    list.map((rollup) => rollup.stepSeconds),
    list.map((rollup) => rollup.t),
  ]);
  for (const row of stored) {
    const known = rollups.get(`${Number(row.series_id)}:${Number(row.step_seconds)}:${Number(row.t)}`);
    if (known) addRowInto(known.values, row);
  }
  await query(writeRollupsSql, [
    list.map((rollup) => rollup.seriesId),
    list.map((rollup) => rollup.stepSeconds),
    list.map((rollup) => rollup.t),
    list.map((rollup) => rollup.values.spans),
    list.map((rollup) => rollup.values.errors),
    list.map((rollup) => rollup.values.durationSumMs),
    list.map((rollup) => JSON.stringify(rollup.values.latencyBins)),
    list.map((rollup) => JSON.stringify(rollup.values.userRegisters)),
  ]);
  await addServiceDeltas(query, taken, serviceDeltas);
  await query(markSeriesFoldedSql, [times, seriesIds]);
  return { seriesRows: taken.length, rollupRows: list.length };
}

/** Adds the taken raw rows, summed per service and rollup bucket, into `deltas`. */
async function addServiceDeltas(
  query: RawQuery,
  taken: readonly BucketRowText[],
  deltas: Map<string, ServiceDelta>,
): Promise<void> {
  const identities = await query<{ id: Numeric; environment: string; service: string; span_kind: string }>(
    "SELECT id, environment, service, span_kind FROM series WHERE id = ANY($1::bigint[])",
    [[...new Set(taken.map((row) => Number(row.series_id)))]],
  );
  const identityOf = new Map(identities.map((one) => [Number(one.id), one]));
  const entryKinds: ReadonlySet<string> = new Set(entrySpanKinds);
  for (const row of taken) {
    const identity = identityOf.get(Number(row.series_id));
    // A raw row always has its series (written in the same transaction); skip rather than guess.
    if (!identity) continue;
    const entry = entryKinds.has(identity.span_kind);
    const rawMs = Number(row.t);
    for (const stepSeconds of rollupStepsSeconds) {
      const stepMs = stepSeconds * 1000;
      const t = Math.floor(rawMs / stepMs) * stepMs;
      const key = JSON.stringify([identity.environment, identity.service, stepSeconds, t]);
      let delta = deltas.get(key);
      if (!delta) {
        delta = {
          environment: identity.environment,
          service: identity.service,
          stepSeconds,
          t,
          requests: 0,
          requestErrors: 0,
          spans: 0,
          errors: 0,
          durationSumMs: 0,
          requestLatencyBins: {},
        };
        deltas.set(key, delta);
      }
      delta.spans += Number(row.spans);
      delta.errors += Number(row.errors);
      delta.durationSumMs += Number(row.duration_sum_ms);
      if (entry) {
        delta.requests += Number(row.spans);
        delta.requestErrors += Number(row.errors);
        addBinsInto(delta.requestLatencyBins, row.latency_bins);
      }
    }
  }
}

/** Adds the fold's per-service deltas to the services' rollups. */
async function addServiceRollups(query: RawQuery, deltas: ReadonlyMap<string, ServiceDelta>): Promise<void> {
  const list = [...deltas.values()];
  if (list.length === 0) return;
  await query(addServiceRollupsSql, [
    list.map((delta) => delta.environment),
    list.map((delta) => delta.service),
    list.map((delta) => delta.stepSeconds),
    list.map((delta) => delta.t),
    list.map((delta) => delta.requests),
    list.map((delta) => delta.requestErrors),
    list.map((delta) => delta.spans),
    list.map((delta) => delta.errors),
    list.map((delta) => delta.durationSumMs),
    list.map((delta) => JSON.stringify(delta.requestLatencyBins)),
  ]);
}

/**
 * Derives every service's 60 s and 3600 s rollups again from the series rollups, replacing what was
 * there (under the fold lock, in one transaction). For data written straight into the series rollups
 * (seeding, imports) and for repair; the fold keeps them current otherwise. Returns the rows written.
 */
export async function rebuildServiceBuckets(handle: DbHandle): Promise<number> {
  return handle.transaction(async (query) => {
    await query(`SELECT pg_advisory_xact_lock(${foldLockKey})`);
    await query("DELETE FROM service_buckets");
    const [row] = await query<{ rows: Numeric }>(
      `WITH written AS (${rebuildServiceRollupsSql} RETURNING 1) SELECT count(*) AS rows FROM written`,
    );
    return Number(row?.rows ?? 0);
  });
}
