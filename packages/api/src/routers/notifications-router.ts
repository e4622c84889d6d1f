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

/**
 * A Slack incoming-webhook URL is itself a secret (the token is in its path): show only its origin.
 * Secrets configured by environment variable are shown by the variable's name, never read.
 */
function redactDestination(destination: NotificationDestination): NotificationDestination {
  const { settings } = destination;
  if (destination.kind !== "slack" || !settings.url) return destination;
  let origin = "(hidden)";
  try {
    origin = `${new URL(settings.url).origin}/…`;
  } catch {}
  return { ...destination, settings: { ...settings, url: origin } };
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
    await refuseFileManaged(ctx, "destinations", input.id);
    await upsertNotificationDestination(ctx.db, { ...destinationRow(input), source: "api" });
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
