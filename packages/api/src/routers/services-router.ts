import { downsampleLttb, quantileFromLatencyBins } from "@faultline/core";
import {
  listChangeSummaries,
  readDestinationThroughput,
  readSeriesRange,
  readServiceLatencyBins,
  readServiceSignals,
  type SignalBucket,
  type SketchBins,
} from "@faultline/db";
import { z } from "zod";
import { errorRateGrid, round, roundOrNull, signalPointsOf } from "../signal-points.ts";
import { stepFor, timeRangeInput, windowOf } from "../time-ranges.ts";
import { publicProcedure, router } from "../trpc.ts";

/** Cells in a health-board sparkline: enough to see a shape, few enough for 500 rows. */
const boardSparklinePoints = 60;

/**
 * The board reads numbers only, at the coarsest step that still draws a sparkline: minutes up to an
 * hour, hours beyond (a board of 200 services × 2 series at 10 s for an hour is 144k rows, seconds on
 * embedded PGlite). Its p95 comes from the hourly rollups covering the range (see below).
 */
function boardWindow(range: z.output<typeof timeRangeInput>, nowMs: number) {
  return windowOf(range, nowMs, range === "live" || range === "1h" ? 60 : 200);
}

function rates(buckets: readonly SignalBucket[]) {
  const useRequests = buckets.some((bucket) => bucket.requests > 0);
  const requests = buckets.reduce((sum, bucket) => sum + (useRequests ? bucket.requests : bucket.spans), 0);
  const errors = buckets.reduce(
    (sum, bucket) => sum + (useRequests ? bucket.requestErrors : bucket.errors),
    0,
  );
  return { useRequests, requests, errors };
}

function p95Of(bins: SketchBins | null | undefined): number | null {
  return bins ? quantileFromLatencyBins(bins, 0.95) : null;
}

export const servicesRouter = router({
  /**
   * The service health board: per service request rate, error rate and p95 over the range, with an
   * error-rate sparkline; per messaging destination the published and consumed throughput; and every
   * change in the range, for markers. Sorting and filtering happen in the browser.
   */
  board: publicProcedure
    .input(
      z.object({ environment: z.string().min(1).optional(), range: timeRangeInput }).default({ range: "1h" }),
    )
    .query(async ({ ctx, input }) => {
      const environment = input.environment ?? ctx.config.defaultEnvironment;
      const window = boardWindow(input.range, ctx.clock());
      const rangeSeconds = (window.toMs - window.fromMs) / 1000;
      const hourMs = 3_600_000;
      const [signals, latency, destinations, changes] = await Promise.all([
        readServiceSignals(ctx.db, { environment, ...window }),
        // p95 over the hours the range touches: merging sketches is per row, and hourly rows are few.
        readServiceLatencyBins(ctx.db, {
          environment,
          stepSeconds: 3600,
          fromMs: Math.floor(window.fromMs / hourMs) * hourMs,
          toMs: window.toMs,
        }),
        readDestinationThroughput(ctx.db, { environment, ...window }),
        listChangeSummaries(ctx.db, { environment, ...window, limit: 2000 }),
      ]);
      return {
        environment,
        ...window,
        services: signals.map((service) => {
          const { useRequests, requests, errors } = rates(service.buckets);
          const sparkline = errorRateGrid(
            service.buckets.map((bucket) => ({
              bucketStartMs: bucket.bucketStartMs,
              total: useRequests ? bucket.requests : bucket.spans,
              errors: useRequests ? bucket.requestErrors : bucket.errors,
            })),
            window,
            boardSparklinePoints,
          );
          return {
            service: service.service,
            requestsPerSecond: round(requests / rangeSeconds, 3),
            errorRate: requests > 0 ? round(errors / requests, 5) : null,
            p95Ms: roundOrNull(p95Of(latency.get(service.service)), 2),
            sparkline,
          };
        }),
        destinations: destinations.map((destination) => ({
          destination: destination.destination,
          publishedPerSecond: round(
            destination.buckets.reduce((sum, b) => sum + b.published, 0) / rangeSeconds,
            3,
          ),
          consumedPerSecond: round(
            destination.buckets.reduce((sum, b) => sum + b.consumed, 0) / rangeSeconds,
            3,
          ),
          errors: destination.buckets.reduce((sum, b) => sum + b.errors, 0),
          sparkline: downsampleLttb(
            destination.buckets.map((b) => ({
              t: b.bucketStartMs,
              published: b.published,
              consumed: b.consumed,
            })),
            boardSparklinePoints,
            (p) => p.t,
            (p) => p.published,
          ),
        })),
        changes: changes.map((change) => ({
          id: change.id,
          service: change.service,
          kind: change.kind,
          version: change.version,
          startedAtMs: change.startedAtMs,
        })),
      };
    }),

  /** One service over a range: its signals per bucket (≤ 1,000 points), its operations and its changes. */
  detail: publicProcedure
    .input(
      z.object({
        environment: z.string().min(1).optional(),
        service: z.string().min(1).max(500),
        range: timeRangeInput,
      }),
    )
    .query(async ({ ctx, input }) => {
      const environment = input.environment ?? ctx.config.defaultEnvironment;
      const window = windowOf(input.range, ctx.clock());
      const stepSeconds = stepFor(window.toMs - window.fromMs);
      const [series, changes] = await Promise.all([
        readSeriesRange(ctx.db, {
          environment,
          service: input.service,
          stepSeconds,
          fromMs: window.fromMs,
          toMs: window.toMs,
        }),
        listChangeSummaries(ctx.db, { environment, services: [input.service], ...window, limit: 500 }),
      ]);
      const operations = series.map((one) => {
        const spans = one.points.reduce((sum, point) => sum + point.spans, 0);
        const errors = one.points.reduce((sum, point) => sum + point.errors, 0);
        return {
          operation: one.operation,
          kind: one.spanKind,
          destination: one.destination,
          version: one.version,
          spans,
          errorRate: spans > 0 ? round(errors / spans, 5) : null,
        };
      });
      operations.sort((a, b) => b.spans - a.spans);
      return {
        environment,
        service: input.service,
        ...window,
        stepSeconds,
        points: signalPointsOf(series, stepSeconds),
        operations: operations.slice(0, 100),
        changes,
      };
    }),
});
