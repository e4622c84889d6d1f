import { index, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** A service seen in telemetry or named by a change event, per environment. */
export const services = pgTable(
  "services",
  {
    environment: text("environment").notNull(),
    name: text("name").notNull(),
    /** `telemetry.sdk.language` of the last resource seen, e.g. "nodejs", "webjs", "swift". */
    sdkLanguage: text("sdk_language"),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date" }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.environment, t.name] })],
);

/**
 * Which `service.version` each instance reported, and over which event-time span. Versions inferred
 * from telemetry (rollout start, progress, rollback) are derived from these rows.
 */
export const serviceInstanceVersions = pgTable(
  "service_instance_versions",
  {
    environment: text("environment").notNull(),
    service: text("service").notNull(),
    instanceId: text("instance_id").notNull(),
    /** Empty string when the resource carried no `service.version`. */
    version: text("version").notNull(),
    region: text("region"),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date" }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.environment, t.service, t.instanceId, t.version] }),
    index("service_instance_versions_service_seen_idx").on(t.environment, t.service, t.lastSeenAt),
  ],
);
