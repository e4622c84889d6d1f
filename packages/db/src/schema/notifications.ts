import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { incidents } from "./incidents.ts";

/** Where a page can go. */
export const notificationDestinationKinds = ["slack", "webhook", "pagerduty", "email"] as const;
export type NotificationDestinationKind = (typeof notificationDestinationKinds)[number];

/** Who manages a configuration row: the config file (replaced at each start) or the API. */
export const notificationConfigSources = ["file", "api"] as const;
export type NotificationConfigSource = (typeof notificationConfigSources)[number];

/** The incident changes that can page someone. */
export const notificationEventKinds = [
  "opened",
  "escalated",
  "cause_changed",
  "resolved",
  "reopened",
  "acknowledged",
] as const;
export type NotificationEventKind = (typeof notificationEventKinds)[number];

/** What became of one delivery. `suppressed`: a mute matched; `failed`: retries exhausted or refused. */
export const notificationDeliveryStatuses = [
  "pending",
  "sending",
  "delivered",
  "failed",
  "suppressed",
] as const;
export type NotificationDeliveryStatus = (typeof notificationDeliveryStatuses)[number];

/**
 * A destination's non-secret settings. Secrets are never stored: `*Env` fields name the environment
 * variable the delivery worker reads them from.
 */
export interface NotificationDestinationSettings {
  /** slack, webhook: the URL to POST to (or `urlEnv`, for Slack URLs that embed their token). */
  url?: string;
  urlEnv?: string;
  /** webhook: the HMAC-SHA256 signing secret's environment variable. */
  secretEnv?: string;
  /** pagerduty: the integration (routing) key's environment variable; `url` overrides the Events API URL. */
  routingKeyEnv?: string;
  /** email: recipients (the SMTP server is configured once, for the whole process). */
  to?: string[];
}

export const notificationDestinations = pgTable("notification_destinations", {
  id: text("id").primaryKey(),
  kind: text("kind").$type<NotificationDestinationKind>().notNull(),
  name: text("name").notNull(),
  settings: jsonb("settings").$type<NotificationDestinationSettings>().notNull(),
  enabled: boolean("enabled").notNull().default(true),
  /** Most messages per minute; the rest wait their turn. */
  rateLimitPerMinute: integer("rate_limit_per_minute").notNull().default(30),
  source: text("source").$type<NotificationConfigSource>().notNull().default("api"),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** Which incident changes go to a destination. Empty arrays match everything. */
export const notificationRules = pgTable(
  "notification_rules",
  {
    id: text("id").primaryKey(),
    destinationId: text("destination_id")
      .notNull()
      .references(() => notificationDestinations.id, { onDelete: "cascade" }),
    environments: text("environments").array().notNull(),
    /** Globs matched against the root service and every affected service. */
    services: text("services").array().notNull(),
    /** The least severe severity that matches (sev4 matches all). */
    minSeverity: text("min_severity").notNull().default("sev4"),
    signals: text("signals").array().notNull(),
    events: text("events").array().notNull(),
    enabled: boolean("enabled").notNull().default(true),
    source: text("source").$type<NotificationConfigSource>().notNull().default("api"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("notification_rules_destination_idx").on(t.destinationId)],
);

/** Maintenance windows: incidents are still recorded, their pages are suppressed. */
export const notificationMutes = pgTable("notification_mutes", {
  id: text("id").primaryKey(),
  /** NULL: every environment. */
  environment: text("environment"),
  /** A glob on service names; NULL: every service. */
  service: text("service"),
  startsAt: timestamp("starts_at", { withTimezone: true, mode: "date" }).notNull(),
  endsAt: timestamp("ends_at", { withTimezone: true, mode: "date" }).notNull(),
  reason: text("reason").notNull().default(""),
  createdBy: text("created_by"),
  source: text("source").$type<NotificationConfigSource>().notNull().default("api"),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * The outbox: one row per incident change that may page, written in the same transaction as the
 * change itself. The delivery worker routes each row to destinations exactly once.
 */
export const notificationEvents = pgTable(
  "notification_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    incidentId: text("incident_id")
      .notNull()
      .references(() => incidents.id, { onDelete: "cascade" }),
    /** Dedup key within the incident, e.g. `opened`, `severity:sev1`, `resolved@1764000000000`. */
    eventKey: text("event_key").notNull(),
    kind: text("kind").$type<NotificationEventKind>().notNull(),
    /** Event time of the change (span time for detection, wall clock for people's actions). */
    eventAt: timestamp("event_at", { withTimezone: true, mode: "date" }).notNull(),
    /** Wall clock when the change was recorded. */
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    actor: text("actor"),
    /** The incident as it was at this change (title, severity, impact, cause or top suspect). */
    snapshot: jsonb("snapshot").$type<Record<string, unknown>>().notNull(),
    routedAt: timestamp("routed_at", { withTimezone: true, mode: "date" }),
    /** routed, stale (history older than the paging window), expired (waited too long) or coalesced. */
    routing: text("routing"),
  },
  (t) => [
    uniqueIndex("notification_events_incident_key_idx").on(t.incidentId, t.eventKey),
    index("notification_events_unrouted_idx").on(t.id).where(sql`${t.routedAt} IS NULL`),
  ],
);

/** One message to one destination: the unit of retry, lease and status. */
export const notificationDeliveries = pgTable(
  "notification_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    eventId: bigint("event_id", { mode: "number" })
      .notNull()
      .references(() => notificationEvents.id, { onDelete: "cascade" }),
    incidentId: text("incident_id")
      .notNull()
      .references(() => incidents.id, { onDelete: "cascade" }),
    destinationId: text("destination_id")
      .notNull()
      .references(() => notificationDestinations.id, { onDelete: "cascade" }),
    status: text("status").$type<NotificationDeliveryStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull(),
    /** Who holds the delivery while `sending`, and until when; an expired lease is claimable again. */
    leaseOwner: text("lease_owner"),
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    /**
     * When the latest attempt was claimed (the worker's clock). Each destination's rate limit counts the
     * deliveries attempted in the last minute from here, so it holds across workers and restarts.
     */
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true, mode: "date" }),
    lastError: text("last_error"),
    lastStatusCode: integer("last_status_code"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("notification_deliveries_event_destination_idx").on(t.eventId, t.destinationId),
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("notification_deliveries_incident_idx").on(t.incidentId),
    index("notification_deliveries_destination_attempt_idx").on(t.destinationId, t.lastAttemptAt),
  ],
);
