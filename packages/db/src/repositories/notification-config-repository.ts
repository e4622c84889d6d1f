import type { DbHandle, RawQuery } from "../create-db.ts";
import type {
  NotificationConfigSource,
  NotificationDestinationKind,
  NotificationDestinationSettings,
} from "../schema/notifications.ts";

const at = (param: string) => `(timestamptz 'epoch' + ${param}::float8 * interval '1 millisecond')`;
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

export interface NotificationDestination {
  id: string;
  kind: NotificationDestinationKind;
  name: string;
  settings: NotificationDestinationSettings;
  enabled: boolean;
  rateLimitPerMinute: number;
  source: NotificationConfigSource;
}

export interface NotificationRule {
  id: string;
  destinationId: string;
  /** Empty: any. */
  environments: string[];
  /** Globs on the root or any affected service; empty: any. */
  services: string[];
  minSeverity: "sev1" | "sev2" | "sev3" | "sev4";
  /** Empty: any. */
  signals: string[];
  /** Event kinds (opened, escalated, …); empty: all. */
  events: string[];
  enabled: boolean;
  source: NotificationConfigSource;
}

/** A maintenance window. Times in ms since the epoch. */
export interface NotificationMute {
  id: string;
  environment: string | null;
  service: string | null;
  startsAtMs: number;
  endsAtMs: number;
  reason: string;
  createdBy: string | null;
  source: NotificationConfigSource;
}

export interface NotificationConfig {
  destinations: NotificationDestination[];
  rules: NotificationRule[];
  mutes: NotificationMute[];
}

/** Every destination, rule and mute, in a stable order. */
export async function loadNotificationConfig(handle: DbHandle): Promise<NotificationConfig> {
  const [destinations, rules, mutes] = await Promise.all([
    handle.query<{
      id: string;
      kind: NotificationDestinationKind;
      name: string;
      settings: NotificationDestinationSettings;
      enabled: boolean;
      rate_limit_per_minute: number;
      source: NotificationConfigSource;
    }>(
      "SELECT id, kind, name, settings, enabled, rate_limit_per_minute, source FROM notification_destinations ORDER BY id",
    ),
    handle.query<{
      id: string;
      destination_id: string;
      environments: string[];
      services: string[];
      min_severity: NotificationRule["minSeverity"];
      signals: string[];
      events: string[];
      enabled: boolean;
      source: NotificationConfigSource;
    }>(
      "SELECT id, destination_id, environments, services, min_severity, signals, events, enabled, source FROM notification_rules ORDER BY id",
    ),
    handle.query<{
      id: string;
      environment: string | null;
      service: string | null;
      starts_ms: number;
      ends_ms: number;
      reason: string;
      created_by: string | null;
      source: NotificationConfigSource;
    }>(
      `SELECT id, environment, service, ${ms("starts_at")} AS starts_ms, ${ms("ends_at")} AS ends_ms, reason,
         created_by, source FROM notification_mutes ORDER BY starts_at, id`,
    ),
  ]);
  return {
    destinations: destinations.map((row) => ({
      id: row.id,
      kind: row.kind,
      name: row.name,
      settings: row.settings,
      enabled: row.enabled,
      rateLimitPerMinute: row.rate_limit_per_minute,
      source: row.source,
    })),
    rules: rules.map((row) => ({
      id: row.id,
      destinationId: row.destination_id,
      environments: row.environments,
      services: row.services,
      minSeverity: row.min_severity,
      signals: row.signals,
      events: row.events,
      enabled: row.enabled,
      source: row.source,
    })),
    mutes: mutes.map((row) => ({
      id: row.id,
      environment: row.environment,
      service: row.service,
      startsAtMs: Number(row.starts_ms),
      endsAtMs: Number(row.ends_ms),
      reason: row.reason,
      createdBy: row.created_by,
      source: row.source,
    })),
  };
}

async function upsertDestinationWith(query: RawQuery, destination: NotificationDestination): Promise<void> {
  await query(
    `INSERT INTO notification_destinations (id, kind, name, settings, enabled, rate_limit_per_minute, source)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, settings = excluded.settings,
       enabled = excluded.enabled, rate_limit_per_minute = excluded.rate_limit_per_minute, source = excluded.source,
       updated_at = now()`,
    [
      destination.id,
      destination.kind,
      destination.name,
      JSON.stringify(destination.settings),
      destination.enabled,
      destination.rateLimitPerMinute,
      destination.source,
    ],
  );
}

async function upsertRuleWith(query: RawQuery, rule: NotificationRule): Promise<void> {
  await query(
    `INSERT INTO notification_rules (id, destination_id, environments, services, min_severity, signals, events, enabled,
       source)
     VALUES ($1, $2, $3::text[], $4::text[], $5, $6::text[], $7::text[], $8, $9)
     ON CONFLICT (id) DO UPDATE SET destination_id = excluded.destination_id, environments = excluded.environments,
       services = excluded.services, min_severity = excluded.min_severity, signals = excluded.signals,
       events = excluded.events, enabled = excluded.enabled, source = excluded.source`,
    [
      rule.id,
      rule.destinationId,
      rule.environments,
      rule.services,
      rule.minSeverity,
      rule.signals,
      rule.events,
      rule.enabled,
      rule.source,
    ],
  );
}

async function upsertMuteWith(query: RawQuery, mute: NotificationMute): Promise<void> {
  await query(
    `INSERT INTO notification_mutes (id, environment, service, starts_at, ends_at, reason, created_by, source)
     VALUES ($1, $2, $3, ${at("$4")}, ${at("$5")}, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET environment = excluded.environment, service = excluded.service,
       starts_at = excluded.starts_at, ends_at = excluded.ends_at, reason = excluded.reason,
       created_by = excluded.created_by, source = excluded.source`,
    [
      mute.id,
      mute.environment,
      mute.service,
      mute.startsAtMs,
      mute.endsAtMs,
      mute.reason,
      mute.createdBy,
      mute.source,
    ],
  );
}

export function upsertNotificationDestination(
  handle: DbHandle,
  destination: NotificationDestination,
): Promise<void> {
  return handle.transaction((query) => upsertDestinationWith(query, destination));
}

export function upsertNotificationRule(handle: DbHandle, rule: NotificationRule): Promise<void> {
  return handle.transaction((query) => upsertRuleWith(query, rule));
}

export function upsertNotificationMute(handle: DbHandle, mute: NotificationMute): Promise<void> {
  return handle.transaction((query) => upsertMuteWith(query, mute));
}

const tables = {
  destination: "notification_destinations",
  rule: "notification_rules",
  mute: "notification_mutes",
} as const;

/** Deletes one destination (its rules and deliveries go with it), rule or mute. True when it existed. */
export async function deleteNotificationConfigItem(
  handle: DbHandle,
  item: { type: keyof typeof tables; id: string },
): Promise<boolean> {
  const rows = await handle.query(`DELETE FROM ${tables[item.type]} WHERE id = $1 RETURNING id`, [item.id]);
  return rows.length > 0;
}

/**
 * Makes the file-managed part of the configuration equal `config` (what the config file says), in
 * one transaction: file rows missing from it are deleted, the rest upserted. Rows created through the
 * API are left alone unless the file names the same id, in which case the file wins.
 */
export async function replaceFileNotificationConfig(
  handle: DbHandle,
  config: {
    destinations: Omit<NotificationDestination, "source">[];
    rules: Omit<NotificationRule, "source">[];
    mutes: Omit<NotificationMute, "source">[];
  },
): Promise<void> {
  await handle.transaction(async (query) => {
    const keep = (items: { id: string }[]) => items.map((item) => item.id);
    await query("DELETE FROM notification_rules WHERE source = 'file' AND NOT (id = ANY($1::text[]))", [
      keep(config.rules),
    ]);
    await query("DELETE FROM notification_mutes WHERE source = 'file' AND NOT (id = ANY($1::text[]))", [
      keep(config.mutes),
    ]);
    await query(
      "DELETE FROM notification_destinations WHERE source = 'file' AND NOT (id = ANY($1::text[]))",
      [keep(config.destinations)],
    );
    for (const destination of config.destinations)
      await upsertDestinationWith(query, { ...destination, source: "file" });
    for (const rule of config.rules) await upsertRuleWith(query, { ...rule, source: "file" });
    for (const mute of config.mutes) await upsertMuteWith(query, { ...mute, source: "file" });
  });
}
