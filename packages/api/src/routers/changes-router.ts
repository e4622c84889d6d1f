import { changeKinds, changeSources, listChangeSummaries, readServiceSignals } from "@faultline/db";
import { z } from "zod";
import { round } from "../signal-points.ts";
import { timeRangeInput, windowOf } from "../time-ranges.ts";
import { publicProcedure, router } from "../trpc.ts";

/** How long before and after a change its error rates compare. */
const compareMs = 15 * 60_000;

export const changesRouter = router({
  /**
   * Every change event in the range, newest first, filterable by service, kind and source, each with
   * its service's error rate in the 15 minutes before it started and the 15 minutes after.
   */
  list: publicProcedure
    .input(
      z
        .object({
          environment: z.string().min(1).optional(),
          range: timeRangeInput,
          service: z.string().min(1).max(500).optional(),
          kind: z.enum(changeKinds).optional(),
          source: z.enum(changeSources).optional(),
        })
        .default({ range: "24h" }),
    )
    .query(async ({ ctx, input }) => {
      const environment = input.environment ?? ctx.config.defaultEnvironment;
      const nowMs = ctx.clock();
      const window = windowOf(input.range, nowMs);
      const changes = await listChangeSummaries(ctx.db, {
        environment,
        ...window,
        ...(input.service ? { services: [input.service] } : {}),
        ...(input.kind ? { kind: input.kind } : {}),
        ...(input.source ? { source: input.source } : {}),
        limit: 500,
      });
      const withRates = await Promise.all(
        changes.map(async (change) => {
          const [signals] = await readServiceSignals(ctx.db, {
            environment,
            services: [change.service],
            // Raw 10 s buckets: a change rarely starts on a minute, and a minute bucket would blur before/after.
            stepSeconds: 10,
            fromMs: change.startedAtMs - compareMs,
            toMs: Math.min(nowMs, change.startedAtMs + compareMs),
          });
          const rateOf = (from: number, to: number) => {
            const buckets = (signals?.buckets ?? []).filter(
              (b) => b.bucketStartMs >= from && b.bucketStartMs < to,
            );
            const useRequests = buckets.some((b) => b.requests > 0);
            const total = buckets.reduce((sum, b) => sum + (useRequests ? b.requests : b.spans), 0);
            const errors = buckets.reduce((sum, b) => sum + (useRequests ? b.requestErrors : b.errors), 0);
            return total > 0 ? round(errors / total, 5) : null;
          };
          const startBucket = Math.floor(change.startedAtMs / 10_000) * 10_000;
          return {
            ...change,
            errorRateBefore: rateOf(change.startedAtMs - compareMs, startBucket),
            errorRateAfter: rateOf(startBucket, change.startedAtMs + compareMs),
          };
        }),
      );
      const services = [...new Set(changes.map((change) => change.service))].sort();
      return { environment, ...window, changes: withRates, services };
    }),
});
