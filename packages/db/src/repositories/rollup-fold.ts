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
WHERE step_seconds = 10 AND bucket_start IN ${markedTimes} AND spans > folded_spans
FOR UPDATE`;

const markSeriesFoldedSql = `
UPDATE series_buckets SET folded_spans = spans, folded_errors = errors, folded_duration_sum_ms = duration_sum_ms,
  pending_latency_bins = NULL
WHERE step_seconds = 10 AND bucket_start IN ${markedTimes} AND spans > folded_spans`;

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

function addInto(into: BucketValues, from: BucketValues): void {
  into.spans += from.spans;
  into.errors += from.errors;
  into.durationSumMs += from.durationSumMs;
  addBinsInto(into.latencyBins, from.latencyBins);
  maxRegistersInto(into.userRegisters, from.userRegisters);
}

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
 * Folds up to `maxBucketTimes` marked raw bucket times (oldest first; the default, 5 minutes of them,
 * bounds one transaction's memory) into the 60 s and 3600 s rollups,
 * in one transaction: adds the unfolded part of their raw series and edge rows to the rollup rows,
 * records it as folded, and deletes the marks. Idempotent and crash-safe: a fold that does not commit
 * leaves the marks, and the next one does the same work again. Returns what it did (zeros when
 * nothing was pending).
 */
export async function foldRollups(handle: DbHandle, maxBucketTimes = 30): Promise<FoldResult> {
  return handle.transaction((query) => foldInTransaction(query, maxBucketTimes));
}

async function foldInTransaction(query: RawQuery, maxBucketTimes: number): Promise<FoldResult> {
  await query(`SELECT pg_advisory_xact_lock(${foldLockKey})`);
  const marks = await query<{ t: Numeric }>(
    `SELECT ${msOf("bucket_start")} AS t FROM rollup_pending ORDER BY bucket_start LIMIT $1 FOR UPDATE`,
    [maxBucketTimes],
  );
  if (marks.length === 0) return { bucketTimes: 0, seriesRows: 0, rollupRows: 0 };
  const times = marks.map((mark) => Number(mark.t));
  const taken = await query<BucketRowText>(takeSeriesSql, [times]);
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
      if (known) addInto(known.values, valuesOf(row));
      else rollups.set(key, { seriesId, stepSeconds, t, values: valuesOf(row) });
    }
  }
  const list = [...rollups.values()];
  if (list.length > 0) {
    const stored = await query<BucketRowText & { step_seconds: number }>(readRollupsSql, [
      list.map((rollup) => rollup.seriesId),
      list.map((rollup) => rollup.stepSeconds),
      list.map((rollup) => rollup.t),
    ]);
    for (const row of stored) {
      const known = rollups.get(`${Number(row.series_id)}:${Number(row.step_seconds)}:${Number(row.t)}`);
      if (known) addInto(known.values, valuesOf(row));
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
    await query(markSeriesFoldedSql, [times]);
  }
  await query(foldEdgesSql, [times, [...rollupStepsSeconds]]);
  await query(`DELETE FROM rollup_pending WHERE bucket_start IN ${markedTimes}`, [times]);
  return { bucketTimes: times.length, seriesRows: taken.length, rollupRows: list.length };
}
