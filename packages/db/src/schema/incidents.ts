import {
  bigserial,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { changeEvents } from "./change-events.ts";

export const incidentStatuses = ["open", "acknowledged", "resolved"] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

export const incidentSeverities = ["sev1", "sev2", "sev3", "sev4"] as const;
export type IncidentSeverity = (typeof incidentSeverities)[number];

/** The detector that opened the incident. */
export const incidentSignals = ["error_rate", "throughput", "latency", "browser_errors"] as const;
export type IncidentSignal = (typeof incidentSignals)[number];

/** One incident per cause. Times are event time (span timestamps), not arrival time. */
export const incidents = pgTable(
  "incidents",
  {
    id: text("id").primaryKey(),
    environment: text("environment").notNull(),
    title: text("title").notNull(),
    /** What people see: detection's status unless a person set one since detection last changed it. */
    status: text("status").$type<IncidentStatus>().notNull(),
    /** Detection's own view (open or resolved), kept apart so a person's override can be told from it. */
    detectionStatus: text("detection_status").$type<IncidentStatus>().notNull().default("open"),
    /** Who set `status` by hand; NULL while it is detection's. */
    statusSetBy: text("status_set_by"),
    severity: text("severity").$type<IncidentSeverity>().notNull(),
    /** Who set `severity` by hand; detection no longer changes it once set. */
    severitySetBy: text("severity_set_by"),
    signal: text("signal").$type<IncidentSignal>().notNull(),
    rootService: text("root_service"),
    /** When the anomaly began. */
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull(),
    /** Event time at which the detector fired. */
    detectedAt: timestamp("detected_at", { withTimezone: true, mode: "date" }).notNull(),
    /** When the signals were back to baseline; NULL while ongoing. */
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
    affectedServices: text("affected_services").array().notNull(),
    surfaces: text("surfaces").array().notNull(),
    affectedUsers: integer("affected_users").notNull().default(0),
    causeChangeId: text("cause_change_id").references(() => changeEvents.id, { onDelete: "set null" }),
    assignee: text("assignee"),
    acknowledgedBy: text("acknowledged_by"),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("incidents_env_started_idx").on(t.environment, t.startedAt),
    index("incidents_status_idx").on(t.status),
  ],
);

export const incidentEventKinds = [
  "opened",
  "spread",
  "suspects_changed",
  "severity_changed",
  "status_changed",
  "note",
  "recovered",
  "reopened",
] as const;
export type IncidentEventKind = (typeof incidentEventKinds)[number];

/** The incident's timeline. `at` may be backdated by a note's author. */
export const incidentEvents = pgTable(
  "incident_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    incidentId: text("incident_id")
      .notNull()
      .references(() => incidents.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
    kind: text("kind").$type<IncidentEventKind>().notNull(),
    message: text("message").notNull(),
    author: text("author"),
    data: jsonb("data").$type<Record<string, unknown>>(),
  },
  (t) => [index("incident_events_incident_at_idx").on(t.incidentId, t.at)],
);

/** Ranked candidate causes of an incident, with the evidence behind each score. */
export const incidentSuspects = pgTable(
  "incident_suspects",
  {
    incidentId: text("incident_id")
      .notNull()
      .references(() => incidents.id, { onDelete: "cascade" }),
    changeEventId: text("change_event_id")
      .notNull()
      .references(() => changeEvents.id, { onDelete: "cascade" }),
    rank: integer("rank").notNull(),
    /** 0..1; only suspects above the confidence threshold may become the incident's cause. */
    score: doublePrecision("score").notNull(),
    evidence: jsonb("evidence").$type<string[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.changeEventId] })],
);
