import {
  bigint,
  bigserial,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

/** OpenTelemetry span kinds, lower-cased, plus "browser" for spans made from Faro browser signals. */
export const spanKinds = [
  "unspecified",
  "internal",
  "server",
  "client",
  "producer",
  "consumer",
  "browser",
] as const;
export type SpanKind = (typeof spanKinds)[number];

/**
 * One time series: every accepted span belongs to exactly one, keyed by its environment, service,
 * operation (span name), kind, messaging destination and `service.version`.
 * Missing destination/version are stored as NULL and compared as equal (NULLS NOT DISTINCT).
 */
export const series = pgTable(
  "series",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    environment: text("environment").notNull(),
    service: text("service").notNull(),
    operation: text("operation").notNull(),
    spanKind: text("span_kind").$type<SpanKind>().notNull(),
    destination: text("destination"),
    version: text("version"),
  },
  (t) => [
    unique("series_identity_key")
      .on(t.environment, t.service, t.operation, t.spanKind, t.destination, t.version)
      .nullsNotDistinct(),
    index("series_env_service_idx").on(t.environment, t.service),
  ],
);

/**
 * Sparse mergeable sketch bins as a JSON object of bin index → count (latency) or register → rank
 * (distinct users). Kept in this form so the database itself can merge two sketches in an upsert.
 */
export type SketchBins = Record<string, number>;

/**
 * Aggregates of one series over one event-time bucket. `stepSeconds` is the bucket width: 10 for raw
 * buckets, 60 and 3600 for rollups. Every write is a commutative upsert (counts add, latency bins add,
 * user registers take the max), so several writers may add to the same bucket in any order.
 */
export const seriesBuckets = pgTable(
  "series_buckets",
  {
    /** A series id. No foreign key: the check cost a third of every bulk insert (decision 0003). */
    seriesId: bigint("series_id", { mode: "number" }).notNull(),
    stepSeconds: integer("step_seconds").notNull(),
    bucketStart: timestamp("bucket_start", { withTimezone: true, mode: "date" }).notNull(),
    spans: bigint("spans", { mode: "number" }).notNull(),
    errors: bigint("errors", { mode: "number" }).notNull(),
    /** Sum of span durations in milliseconds, for means. */
    durationSumMs: doublePrecision("duration_sum_ms").notNull(),
    latencyBins: jsonb("latency_bins").$type<SketchBins>().notNull(),
    userRegisters: jsonb("user_registers").$type<SketchBins>().notNull(),
    /**
     * Raw rows only: how much of the row the rollup fold has already added to the 60 s and 3600 s rows
     * (see rollup-pending.ts). `spans > folded_spans` means part of the row still waits for the fold.
     */
    foldedSpans: bigint("folded_spans", { mode: "number" }).notNull().default(0),
    foldedErrors: bigint("folded_errors", { mode: "number" }).notNull().default(0),
    foldedDurationSumMs: doublePrecision("folded_duration_sum_ms").notNull().default(0),
    /** Latency bins added after the last fold of a row folded before (null: none, or never folded). */
    pendingLatencyBins: jsonb("pending_latency_bins").$type<SketchBins>(),
  },
  (t) => [
    primaryKey({ columns: [t.seriesId, t.stepSeconds, t.bucketStart] }),
    index("series_buckets_step_time_idx").on(t.stepSeconds, t.bucketStart),
  ],
);

/**
 * Example failing spans, grouped by fingerprint (exception type + normalized message). The writer keeps
 * at most a few fingerprints per series and bucket; `count` says how many spans each one stands for.
 */
export const errorExemplars = pgTable(
  "error_exemplars",
  {
    /** A series id. No foreign key: the check cost a third of every bulk insert (decision 0003). */
    seriesId: bigint("series_id", { mode: "number" }).notNull(),
    bucketStart: timestamp("bucket_start", { withTimezone: true, mode: "date" }).notNull(),
    fingerprint: text("fingerprint").notNull(),
    exceptionType: text("exception_type"),
    message: text("message"),
    stack: text("stack"),
    traceId: text("trace_id").notNull(),
    spanId: text("span_id").notNull(),
    count: bigint("count", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.seriesId, t.bucketStart, t.fingerprint] }),
    index("error_exemplars_time_idx").on(t.bucketStart),
  ],
);

/**
 * A service's totals over one 60 s or 3600 s rollup bucket, across its operations, kinds and versions:
 * what the health board and sparklines read, ~one row per service and bucket instead of one per
 * series. Kept by the rollup fold in the same transaction as the series rollups, so at any moment it
 * says exactly what those rows say (readers add the unfolded raw tail the same way).
 */
export const serviceBuckets = pgTable(
  "service_buckets",
  {
    environment: text("environment").notNull(),
    service: text("service").notNull(),
    stepSeconds: integer("step_seconds").notNull(),
    bucketStart: timestamp("bucket_start", { withTimezone: true, mode: "date" }).notNull(),
    /** Entry spans (server, consumer, browser): the requests and messages the service handled. */
    requests: bigint("requests", { mode: "number" }).notNull(),
    requestErrors: bigint("request_errors", { mode: "number" }).notNull(),
    /** Every span of the service, whatever its kind. */
    spans: bigint("spans", { mode: "number" }).notNull(),
    errors: bigint("errors", { mode: "number" }).notNull(),
    durationSumMs: doublePrecision("duration_sum_ms").notNull(),
    /** Latency bins of the entry spans only (a request p95). */
    requestLatencyBins: jsonb("request_latency_bins").$type<SketchBins>().notNull(),
  },
  (t) => [
    // The board reads every service of an environment over a range; a sparkline reads one service.
    primaryKey({ columns: [t.environment, t.stepSeconds, t.bucketStart, t.service] }),
    index("service_buckets_service_time_idx").on(t.environment, t.service, t.stepSeconds, t.bucketStart),
  ],
);
