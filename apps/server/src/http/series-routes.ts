import { estimateDistinctUsers, quantileFromLatencyBins } from "@faultline/core";
import { type DbHandle, readSeriesRange, type SeriesBucketPoint } from "@faultline/db";
import { z } from "zod";
import type { ApiApp } from "./health-routes.ts";

const steps = { "10s": 10, "1m": 60, "1h": 3600 } as const;
/** Above this many points per series, an automatic step moves to the next coarser rollup. */
const maxAutoPoints = 1000;

const isoTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO-8601 date-time, e.g. 2026-11-27T10:00:00Z",
});

const seriesQuery = z
  .object({
    environment: z.string().min(1).default("production"),
    service: z.string().min(1).optional(),
    operation: z.string().min(1).optional(),
    from: isoTime,
    to: isoTime,
    step: z.enum(["10s", "1m", "1h"], { error: "must be 10s, 1m or 1h" }).optional(),
  })
  .refine((query) => Date.parse(query.from) < Date.parse(query.to), {
    error: "from must be before to",
    path: ["to"],
  });

/**
 * `GET /api/v1/series` per the design's contract: every accepted span counts once in exactly one series,
 * so summing `spans` over all series of a bucket-aligned window gives the spans accepted for it.
 */
export function registerSeriesRoutes(app: ApiApp, deps: { db: () => DbHandle }): void {
  app.get("/api/v1/series", async (request, reply) => {
    const parsed = seriesQuery.safeParse(request.query);
    if (!parsed.success) {
      return reply.code(400).send({
        error: "invalid query",
        issues: parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"}: ${issue.message}`),
      });
    }
    const query = parsed.data;
    const fromMs = Date.parse(query.from);
    const toMs = Date.parse(query.to);
    const stepSeconds = query.step ? steps[query.step] : autoStepSeconds(toMs - fromMs);
    const stored = await readSeriesRange(deps.db(), {
      environment: query.environment,
      ...(query.service ? { service: query.service } : {}),
      ...(query.operation ? { operation: query.operation } : {}),
      stepSeconds,
      fromMs,
      toMs,
    });
    return {
      environment: query.environment,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      stepSeconds,
      series: stored.map((one) => ({
        service: one.service,
        operation: one.operation,
        kind: one.spanKind,
        destination: one.destination,
        version: one.version,
        points: one.points.map(toSeriesPoint),
      })),
    };
  });
}

function autoStepSeconds(rangeMs: number): number {
  for (const seconds of Object.values(steps)) {
    if (rangeMs / (seconds * 1000) <= maxAutoPoints) return seconds;
  }
  return steps["1h"];
}

function toSeriesPoint(point: SeriesBucketPoint) {
  return {
    t: new Date(point.bucketStartMs).toISOString(),
    spans: point.spans,
    errors: point.errors,
    p50Ms: roundMs(quantileFromLatencyBins(point.latencyBins, 0.5)),
    p95Ms: roundMs(quantileFromLatencyBins(point.latencyBins, 0.95)),
    p99Ms: roundMs(quantileFromLatencyBins(point.latencyBins, 0.99)),
    users: Math.round(estimateDistinctUsers(point.userRegisters)),
  };
}

function roundMs(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}
