import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { notificationEventKinds } from "./notification-message.ts";
import { severities } from "./route-notification.ts";

const id = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: "must be 1-64 letters, digits, '.', '_' or '-'" });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: "must be an environment variable name (secrets are never written in the file)",
});
const httpUrl = z
  .string()
  .trim()
  .refine((value) => /^https?:\/\/[^\s]+$/.test(value), { error: "must be an http(s) URL" });

/** "90s", "15m", "2h", or a number of milliseconds. */
const duration = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .trim()
    .regex(/^\d+(ms|s|m|h|d)$/, { error: "must be a duration like 90s, 15m or 2h" })
    .transform((value) => {
      const [, amount = "0", unit = "ms"] = /^(\d+)(ms|s|m|h|d)$/.exec(value) ?? [];
      const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as "ms"];
      return Number(amount) * factor;
    }),
]);

const destinationBase = {
  id,
  name: z.string().trim().min(1).max(200).optional(),
  enabled: z.boolean().default(true),
  rateLimitPerMinute: z.number().int().min(1).max(10_000).default(30),
};

export const destinationConfigSchema = z.discriminatedUnion("kind", [
  z
    .object({
      ...destinationBase,
      kind: z.literal("slack"),
      url: httpUrl.optional(),
      urlEnv: envName.optional(),
    })
    .refine((value) => value.url !== undefined || value.urlEnv !== undefined, {
      error: "a Slack destination needs url or urlEnv",
    }),
  z.object({
    ...destinationBase,
    kind: z.literal("webhook"),
    url: httpUrl,
    secretEnv: envName.optional(),
  }),
  z.object({
    ...destinationBase,
    kind: z.literal("pagerduty"),
    routingKeyEnv: envName,
    url: httpUrl.optional(),
  }),
  z.object({
    ...destinationBase,
    kind: z.literal("email"),
    to: z.array(z.email({ error: "must be an email address" })).min(1),
  }),
]);
export type DestinationConfig = z.output<typeof destinationConfigSchema>;

export const ruleConfigSchema = z.object({
  id,
  destination: id,
  environments: z.array(z.string().trim().min(1)).default([]),
  services: z.array(z.string().trim().min(1)).default([]),
  minSeverity: z.enum(severities).default("sev4"),
  signals: z.array(z.string().trim().min(1)).default([]),
  events: z.array(z.enum(notificationEventKinds)).default([]),
  enabled: z.boolean().default(true),
});
export type RuleConfig = z.output<typeof ruleConfigSchema>;

export const muteConfigSchema = z
  .object({
    id,
    environment: z.string().trim().min(1).nullable().default(null),
    service: z.string().trim().min(1).nullable().default(null),
    from: z.iso.datetime({ offset: true, error: "must be an ISO-8601 time" }),
    until: z.iso.datetime({ offset: true, error: "must be an ISO-8601 time" }),
    reason: z.string().max(500).default(""),
  })
  .refine((mute) => Date.parse(mute.until) > Date.parse(mute.from), { error: "until must be after from" });

export const notifyConfigSchema = z
  .object({
    /** Where people open the UI; links in messages are `<publicUrl>/incidents/<id>`. */
    publicUrl: httpUrl.optional(),
    /** Only changes whose event time is this recent (wall clock) page. Default 15m. */
    recentWindow: duration.default(15 * 60_000),
    /** How long an opening page waits for the incident to settle (severity, blast radius, cause). Default 30s. */
    openHold: duration.default(30_000),
    /** How long detection's resolution waits; a reopening meanwhile cancels both. Default 60s. */
    resolveHold: duration.default(60_000),
    /** Give up on a send after this long. Default 10s. */
    timeout: duration.default(10_000),
    maxAttempts: z.number().int().min(1).max(50).default(10),
    smtp: z
      .object({
        host: z.string().trim().min(1),
        port: z.number().int().min(1).max(65535).default(587),
        secure: z.boolean().default(false),
        user: z.string().optional(),
        passwordEnv: envName.optional(),
        from: z.string().trim().min(3),
      })
      .optional(),
    destinations: z.array(destinationConfigSchema).default([]),
    rules: z.array(ruleConfigSchema).default([]),
    mutes: z.array(muteConfigSchema).default([]),
  })
  .superRefine((config, context) => {
    const ids = new Set(config.destinations.map((destination) => destination.id));
    if (ids.size !== config.destinations.length) {
      context.addIssue({ code: "custom", path: ["destinations"], message: "destination ids must be unique" });
    }
    config.rules.forEach((rule, index) => {
      if (!ids.has(rule.destination)) {
        context.addIssue({
          code: "custom",
          path: ["rules", index, "destination"],
          message: `no destination with id ${rule.destination}`,
        });
      }
    });
    if (config.destinations.some((destination) => destination.kind === "email") && !config.smtp) {
      context.addIssue({
        code: "custom",
        path: ["smtp"],
        message: "email destinations need an smtp section",
      });
    }
  });
export type NotifyConfig = z.output<typeof notifyConfigSchema>;

/** A configuration problem a person can fix, naming the file and every bad field. */
export class NotifyConfigError extends Error {
  override readonly name = "NotifyConfigError";
}

/**
 * Parses the notification config (YAML, or JSON which is YAML too) and validates it. A destination
 * no rule mentions gets a match-everything rule `<id>.all`, so the smallest config is one destination.
 */
export function parseNotifyConfig(text: string, source = "notification config"): NotifyConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 50 });
  } catch (error) {
    throw new NotifyConfigError(
      `${source}: not valid YAML/JSON (${(error as Error).message.split("\n")[0]})`,
    );
  }
  const result = notifyConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "(top)"}: ${issue.message}`,
    );
    throw new NotifyConfigError(`${source} is invalid:\n${lines.join("\n")}`);
  }
  const config = result.data;
  const routed = new Set(config.rules.map((rule) => rule.destination));
  for (const destination of config.destinations) {
    if (routed.has(destination.id)) continue;
    config.rules.push(ruleConfigSchema.parse({ id: `${destination.id}.all`, destination: destination.id }));
  }
  return config;
}

/** A destination as its database row (settings hold only env-variable names for secrets). */
export function destinationRow(destination: DestinationConfig) {
  const { id: destinationId, kind, name, enabled, rateLimitPerMinute, ...settings } = destination;
  return { id: destinationId, kind, name: name ?? destinationId, enabled, rateLimitPerMinute, settings };
}

export function ruleRow(rule: RuleConfig) {
  return {
    id: rule.id,
    destinationId: rule.destination,
    environments: rule.environments,
    services: rule.services,
    minSeverity: rule.minSeverity,
    signals: rule.signals,
    events: rule.events,
    enabled: rule.enabled,
  };
}

export function muteRow(mute: z.output<typeof muteConfigSchema>, createdBy: string | null = null) {
  return {
    id: mute.id,
    environment: mute.environment,
    service: mute.service,
    startsAtMs: Date.parse(mute.from),
    endsAtMs: Date.parse(mute.until),
    reason: mute.reason,
    createdBy,
  };
}

/** The config as the database rows the file manages (see replaceFileNotificationConfig). */
export function notifyConfigRows(config: NotifyConfig) {
  return {
    destinations: config.destinations.map(destinationRow),
    rules: config.rules.map(ruleRow),
    mutes: config.mutes.map((mute) => muteRow(mute)),
  };
}
