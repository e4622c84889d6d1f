import { index, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/** What kind of change this was. Config pushes and flag flips are first-class changes, not only new builds. */
export const changeKinds = ["deploy", "config", "rollback", "feature_flag"] as const;
export type ChangeKind = (typeof changeKinds)[number];

/** Where Faultline learned about the change. */
export const changeSources = ["api", "webhook", "telemetry"] as const;
export type ChangeSource = (typeof changeSources)[number];

/** How a finished change ended, when the source says so (CI/CD webhooks do). */
export const changeOutcomes = ["success", "failure", "error", "cancelled"] as const;
export type ChangeOutcome = (typeof changeOutcomes)[number];

/** Which part of the fleet received a partial change (canary, one region, a percentage). */
export interface ChangeScope {
  instances?: string[];
  regions?: string[];
  percentage?: number;
}

/** Deploys, config pushes, flag flips and rollbacks: everything attribution can blame. */
export const changeEvents = pgTable(
  "change_events",
  {
    id: text("id").primaryKey(),
    environment: text("environment").notNull(),
    service: text("service").notNull(),
    version: text("version"),
    /** The version the service ran before, when known (inferred rollouts and rollbacks know it). */
    previousVersion: text("previous_version"),
    kind: text("kind").$type<ChangeKind>().notNull(),
    source: text("source").$type<ChangeSource>().notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    outcome: text("outcome").$type<ChangeOutcome>(),
    commit: text("commit"),
    url: text("url"),
    author: text("author"),
    description: text("description"),
    scope: jsonb("scope").$type<ChangeScope>(),
    /** Client-supplied or derived key that makes repeated submissions of one change land on one row. */
    idempotencyKey: text("idempotency_key").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("change_events_idempotency_key_idx").on(t.idempotencyKey),
    index("change_events_env_started_idx").on(t.environment, t.startedAt),
    index("change_events_env_service_started_idx").on(t.environment, t.service, t.startedAt),
  ],
);
