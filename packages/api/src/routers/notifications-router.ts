import {
  deleteNotificationConfigItem,
  listIncidentDeliveries,
  loadNotificationConfig,
  type NotificationDestination,
  upsertNotificationDestination,
  upsertNotificationMute,
  upsertNotificationRule,
} from "@faultline/db";
import {
  destinationConfigSchema,
  destinationRow,
  muteConfigSchema,
  muteRow,
  ruleConfigSchema,
  ruleRow,
} from "@faultline/notify";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { ApiContext } from "../create-context.ts";
import { publicProcedure, router } from "../trpc.ts";

const itemId = z.object({ id: z.string().min(1).max(64) });

/**
 * Through the API, secrets may only come from variables named FAULTLINE_NOTIFY_*, and PagerDuty goes to
 * PagerDuty: otherwise anyone who can reach the API could point a destination at their own URL and have
 * the server send them another secret of its environment (the database URL, the ingest token).
 */
const apiSecretPrefix = "FAULTLINE_NOTIFY_";
const apiDestinationSchema = destinationConfigSchema.superRefine((destination, context) => {
  for (const field of ["urlEnv", "secretEnv", "routingKeyEnv"] as const) {
    const name = (destination as Record<string, unknown>)[field];
    if (typeof name === "string" && !name.startsWith(apiSecretPrefix)) {
      context.addIssue({
        code: "custom",
        path: [field],
        message: `through the API, secrets come only from variables named ${apiSecretPrefix}*`,
      });
    }
  }
  if (destination.kind === "pagerduty" && destination.url !== undefined) {
    context.addIssue({
      code: "custom",
      path: ["url"],
      message: "the PagerDuty URL can only be changed in the config file",
    });
  }
});

/** What replaces a hidden part of a URL (its credentials, its query values). */
const hidden = "…";

/**
 * A webhook URL as the API shows it: credentials in its user-info and the values of its query (where
 * receivers put tokens, `?token=…`) hidden, the fragment dropped; scheme, host, path and parameter
 * names stay, so the row still says where pages go.
 */
function redactWebhookUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const credentials = url.username || url.password ? `${hidden}@` : "";
    const query = [...new Set(url.searchParams.keys())].map(
      (name) => `${encodeURIComponent(name)}=${hidden}`,
    );
    return `${url.protocol}//${credentials}${url.host}${url.pathname}${query.length > 0 ? `?${query.join("&")}` : ""}`;
  } catch {
    return "(hidden)";
  }
}

/**
 * A Slack incoming-webhook URL is itself a secret (the token is in its path): show only its origin. A
 * generic webhook's credentials and query values are hidden. Secrets configured by environment variable
 * are shown by the variable's name, never read.
 */
function redactDestination(destination: NotificationDestination): NotificationDestination {
  const { settings } = destination;
  if (!settings.url) return destination;
  if (destination.kind === "webhook") {
    return { ...destination, settings: { ...settings, url: redactWebhookUrl(settings.url) } };
  }
  if (destination.kind !== "slack") return destination;
  let origin = "(hidden)";
  try {
    origin = `${new URL(settings.url).origin}/${hidden}`;
  } catch {}
  return { ...destination, settings: { ...settings, url: origin } };
}

/**
 * The UI edits a destination with the URL it was shown, hidden parts and all: that URL, unchanged,
 * means "keep the stored one". Any other URL with a hidden part would store the placeholder: refused.
 */
function withStoredUrl<T extends { kind: string; url?: string | undefined }>(
  input: T,
  stored: NotificationDestination | undefined,
): T {
  if (input.url === undefined || !input.url.includes(hidden)) return input;
  const storedUrl = stored?.kind === input.kind ? stored.settings.url : undefined;
  if (stored && storedUrl && redactDestination(stored).settings.url === input.url) {
    return { ...input, url: storedUrl };
  }
  throw new TRPCError({
    code: "BAD_REQUEST",
    message: `the URL holds a hidden part (${hidden}): enter the whole URL`,
  });
}

/** Rows the config file manages are replaced at each start; editing them here would silently revert. */
async function refuseFileManaged(ctx: ApiContext, type: "destinations" | "rules" | "mutes", id: string) {
  const config = await loadNotificationConfig(ctx.db);
  const existing = config[type].find((item) => item.id === id);
  if (existing?.source === "file") {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `${id} is managed by the notification config file; change it there`,
    });
  }
  return config;
}

/**
 * Paging configuration (destinations, routing rules, maintenance mutes) and what was delivered for an
 * incident. Validation is the config file's own schema, so the file and the API accept the same things.
 */
export const notificationsRouter = router({
  config: publicProcedure.query(async ({ ctx }) => {
    const config = await loadNotificationConfig(ctx.db);
    return { ...config, destinations: config.destinations.map(redactDestination) };
  }),

  upsertDestination: publicProcedure.input(apiDestinationSchema).mutation(async ({ ctx, input }) => {
    const config = await refuseFileManaged(ctx, "destinations", input.id);
    const stored = config.destinations.find((destination) => destination.id === input.id);
    const destination = withStoredUrl(input, stored);
    await upsertNotificationDestination(ctx.db, { ...destinationRow(destination), source: "api" });
    return { id: input.id };
  }),

  deleteDestination: publicProcedure.input(itemId).mutation(async ({ ctx, input }) => {
    await refuseFileManaged(ctx, "destinations", input.id);
    if (!(await deleteNotificationConfigItem(ctx.db, { type: "destination", id: input.id }))) {
      throw new TRPCError({ code: "NOT_FOUND", message: `no destination ${input.id}` });
    }
    return { id: input.id };
  }),

  upsertRule: publicProcedure.input(ruleConfigSchema).mutation(async ({ ctx, input }) => {
    const config = await refuseFileManaged(ctx, "rules", input.id);
    if (!config.destinations.some((destination) => destination.id === input.destination)) {
      throw new TRPCError({ code: "BAD_REQUEST", message: `no destination ${input.destination}` });
    }
    await upsertNotificationRule(ctx.db, { ...ruleRow(input), source: "api" });
    return { id: input.id };
  }),

  deleteRule: publicProcedure.input(itemId).mutation(async ({ ctx, input }) => {
    await refuseFileManaged(ctx, "rules", input.id);
    if (!(await deleteNotificationConfigItem(ctx.db, { type: "rule", id: input.id }))) {
      throw new TRPCError({ code: "NOT_FOUND", message: `no rule ${input.id}` });
    }
    return { id: input.id };
  }),

  /** A maintenance window; who set it is recorded from `x-faultline-user`. */
  upsertMute: publicProcedure.input(muteConfigSchema).mutation(async ({ ctx, input }) => {
    await refuseFileManaged(ctx, "mutes", input.id);
    await upsertNotificationMute(ctx.db, { ...muteRow(input, ctx.actor), source: "api" });
    return { id: input.id };
  }),

  deleteMute: publicProcedure.input(itemId).mutation(async ({ ctx, input }) => {
    await refuseFileManaged(ctx, "mutes", input.id);
    if (!(await deleteNotificationConfigItem(ctx.db, { type: "mute", id: input.id }))) {
      throw new TRPCError({ code: "NOT_FOUND", message: `no mute ${input.id}` });
    }
    return { id: input.id };
  }),

  /**
   * Sends a test message to one destination now, through the running delivery worker, and says what
   * the receiver answered (status code or error, never a secret).
   */
  sendTest: publicProcedure.input(itemId).mutation(async ({ ctx, input }) => {
    if (!ctx.notifier) {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: "this server runs no notification delivery worker",
      });
    }
    const outcome = await ctx.notifier.sendTest(input.id, ctx.actor);
    if (!outcome) throw new TRPCError({ code: "NOT_FOUND", message: `no destination ${input.id}` });
    return outcome;
  }),

  /** Every page of an incident: event, destination, status, attempts, next attempt and last error. */
  deliveries: publicProcedure
    .input(z.object({ incidentId: z.string().min(1).max(200) }))
    .query(({ ctx, input }) => listIncidentDeliveries(ctx.db, input.incidentId)),
});
