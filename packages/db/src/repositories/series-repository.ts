import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import type { Database } from "../create-db.ts";
import { type SketchBins, type SpanKind, series, seriesBuckets } from "../schema/index.ts";

/** The identity of one series: every accepted span belongs to exactly one. */
export interface SeriesKey {
  environment: string;
  service: string;
  operation: string;
  spanKind: SpanKind;
  destination: string | null;
  version: string | null;
}

/** A partial aggregate of one series over one bucket, to be added to whatever is stored. */
export interface SeriesBucketDelta {
  seriesId: number;
  stepSeconds: number;
  bucketStart: Date;
  spans: number;
  errors: number;
  durationSumMs: number;
  latencyBins: SketchBins;
  userRegisters: SketchBins;
}

/**
 * Returns the id of each series key, creating the missing ones, in the order given.
 * One statement: the no-op update on conflict makes RETURNING yield existing rows too.
 */
export async function ensureSeries(db: Database, keys: readonly SeriesKey[]): Promise<number[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .insert(series)
    .values(keys.map((key) => ({ ...key })))
    .onConflictDoUpdate({
      target: [
        series.environment,
        series.service,
        series.operation,
        series.spanKind,
        series.destination,
        series.version,
      ],
      set: { environment: sql`excluded.environment` },
    })
    .returning({
      id: series.id,
      environment: series.environment,
      service: series.service,
      operation: series.operation,
      spanKind: series.spanKind,
      destination: series.destination,
      version: series.version,
    });
  const idByKey = new Map(rows.map((row) => [seriesKeyString(row), row.id]));
  return keys.map((key) => {
    const id = idByKey.get(seriesKeyString(key));
    if (id === undefined) throw new Error(`series was not created: ${seriesKeyString(key)}`);
    return id;
  });
}

/** A stable string for a series key, for maps and caches. */
export function seriesKeyString(key: SeriesKey): string {
  return JSON.stringify([
    key.environment,
    key.service,
    key.operation,
    key.spanKind,
    key.destination,
    key.version,
  ]);
}

/**
 * Adds partial aggregates to their buckets. Commutative: counts and latency bins add, user registers
 * take the maximum, so the order of writers and batches does not change the result.
 */
export async function addSeriesBuckets(db: Database, deltas: readonly SeriesBucketDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await db
    .insert(seriesBuckets)
    .values([...deltas])
    .onConflictDoUpdate({
      target: [seriesBuckets.seriesId, seriesBuckets.stepSeconds, seriesBuckets.bucketStart],
      set: {
        spans: sql`${seriesBuckets.spans} + excluded.spans`,
        errors: sql`${seriesBuckets.errors} + excluded.errors`,
        durationSumMs: sql`${seriesBuckets.durationSumMs} + excluded.duration_sum_ms`,
        latencyBins: sql`faultline_sketch_add(${seriesBuckets.latencyBins}, excluded.latency_bins)`,
        userRegisters: sql`faultline_sketch_max(${seriesBuckets.userRegisters}, excluded.user_registers)`,
      },
    });
}

/** Buckets of one series at one resolution over [from, to), oldest first. */
export async function readSeriesBuckets(
  db: Database,
  query: { seriesId: number; stepSeconds: number; from: Date; to: Date },
) {
  return db
    .select()
    .from(seriesBuckets)
    .where(
      and(
        eq(seriesBuckets.seriesId, query.seriesId),
        eq(seriesBuckets.stepSeconds, query.stepSeconds),
        gte(seriesBuckets.bucketStart, query.from),
        lt(seriesBuckets.bucketStart, query.to),
      ),
    )
    .orderBy(asc(seriesBuckets.bucketStart));
}
