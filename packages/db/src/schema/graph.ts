import {
  bigint,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

/**
 * `call`: caller service → callee service (parent/child spans across services).
 * `publish`: producer service → messaging destination. `consume`: destination → consumer service,
 * found through the consumer span's parent or its span links.
 */
export const edgeKinds = ["call", "publish", "consume"] as const;
export type EdgeKind = (typeof edgeKinds)[number];

/** Service and messaging graph, aggregated per event-time bucket like the series. */
export const graphEdges = pgTable(
  "graph_edges",
  {
    environment: text("environment").notNull(),
    kind: text("kind").$type<EdgeKind>().notNull(),
    /** A service name, or a destination name for `consume` edges. */
    source: text("source").notNull(),
    /** A service name, or a destination name for `publish` edges. */
    target: text("target").notNull(),
    stepSeconds: integer("step_seconds").notNull(),
    bucketStart: timestamp("bucket_start", { withTimezone: true, mode: "date" }).notNull(),
    count: bigint("count", { mode: "number" }).notNull(),
    errors: bigint("errors", { mode: "number" }).notNull(),
    /** Publish-to-process delay, for `consume` edges: sum and maximum in milliseconds. */
    delaySumMs: doublePrecision("delay_sum_ms").notNull().default(0),
    delayMaxMs: doublePrecision("delay_max_ms").notNull().default(0),
    /** Producer/consumer pairs behind `delaySumMs`; the mean delay is `delaySumMs / delayCount`. */
    delayCount: bigint("delay_count", { mode: "number" }).notNull().default(0),
    /** Raw rows only: what the rollup fold has already added to the 60 s and 3600 s rows. */
    foldedCount: bigint("folded_count", { mode: "number" }).notNull().default(0),
    foldedErrors: bigint("folded_errors", { mode: "number" }).notNull().default(0),
    foldedDelaySumMs: doublePrecision("folded_delay_sum_ms").notNull().default(0),
    foldedDelayCount: bigint("folded_delay_count", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.environment, t.kind, t.source, t.target, t.stepSeconds, t.bucketStart] }),
    index("graph_edges_env_time_idx").on(t.environment, t.stepSeconds, t.bucketStart),
  ],
);
