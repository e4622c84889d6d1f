import {
  bucketReportOverTime,
  correlationCsvFileName,
  renderCorrelationReportCsv,
  renderCorrelationReportMarkdown,
  summarizeChangeFailures,
} from "@faultline/core";
import { z } from "zod";
import { loadCorrelationReport } from "../load-correlation-report.ts";
import { publicProcedure, router } from "../trpc.ts";

/** The longest period a report covers in one request. */
const maxPeriodMs = 366 * 86_400_000;

const period = z
  .object({
    fromMs: z.number().int(),
    toMs: z.number().int(),
    environment: z.string().trim().min(1).max(200).optional(),
  })
  .refine((query) => query.fromMs < query.toMs, { error: "fromMs must be before toMs", path: ["toMs"] })
  .refine((query) => query.toMs - query.fromMs <= maxPeriodMs, { error: "at most 366 days", path: ["toMs"] });

/** Hourly buckets up to two days, daily up to ~3 months, weekly beyond. */
function bucketMsFor(spanMs: number): number {
  if (spanMs <= 2 * 86_400_000) return 3_600_000;
  if (spanMs <= 92 * 86_400_000) return 86_400_000;
  return 7 * 86_400_000;
}

/**
 * The correlation report for the UI: exactly `GET /api/v1/reports/correlation`'s numbers (one code path,
 * `loadCorrelationReport`), plus the breakdowns its page draws.
 */
export const reportsRouter = router({
  correlation: publicProcedure.input(period).query(async ({ ctx, input }) => {
    const environment = input.environment ?? ctx.config.defaultEnvironment;
    const report = await loadCorrelationReport(ctx.db, {
      environment,
      fromMs: input.fromMs,
      toMs: input.toMs,
    });
    const bucketMs = bucketMsFor(input.toMs - input.fromMs);
    return {
      report,
      byService: summarizeChangeFailures(report.deploys, (deploy) => deploy.service),
      byKind: summarizeChangeFailures(report.deploys, (deploy) => deploy.kind),
      bucketMs,
      overTime: bucketReportOverTime(report, bucketMs),
    };
  }),

  /** The same renderings `format=md|csv` serves, for the page's export buttons. */
  export: publicProcedure
    .input(z.object({ period, format: z.enum(["md", "csv"]) }))
    .query(async ({ ctx, input }) => {
      const environment = input.period.environment ?? ctx.config.defaultEnvironment;
      const report = await loadCorrelationReport(ctx.db, {
        environment,
        fromMs: input.period.fromMs,
        toMs: input.period.toMs,
      });
      return input.format === "md"
        ? {
            fileName: correlationCsvFileName(report).replace(/\.csv$/, ".md"),
            text: renderCorrelationReportMarkdown(report),
          }
        : { fileName: correlationCsvFileName(report), text: renderCorrelationReportCsv(report) };
    }),
});
