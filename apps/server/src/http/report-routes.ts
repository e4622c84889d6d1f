import { buildCorrelationReport, type CorrelationReport } from "@faultline/core";
import { type DbHandle, listChangeEvents, listIncidents } from "@faultline/db";
import { z } from "zod";
import type { ApiApp } from "./health-routes.ts";

const isoTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO-8601 date-time, e.g. 2026-11-27T10:00:00Z",
});

export const correlationQuery = z
  .object({
    from: isoTime,
    to: isoTime,
    environment: z.string().min(1).default("production"),
    format: z.enum(["json", "md", "csv"], { error: "must be json, md or csv" }).default("json"),
  })
  .refine((query) => Date.parse(query.from) < Date.parse(query.to), {
    error: "from must be before to",
    path: ["to"],
  });

/** How far before an incident's start its suspects may have started (attribution's lookback). */
const suspectLookbackMs = 2 * 3_600_000;

/** Reads what the correlation report needs and assembles it (shared by the API and `faultline report`). */
export async function loadCorrelationReport(
  db: DbHandle,
  query: { environment: string; fromMs: number; toMs: number },
): Promise<CorrelationReport> {
  const incidents = await listIncidents(db, query);
  const earliest = Math.min(query.fromMs, ...incidents.map((incident) => incident.startedAtMs));
  const changes = await listChangeEvents(db.db, {
    environment: query.environment,
    from: new Date(earliest - suspectLookbackMs),
    to: new Date(query.toMs),
  });
  return buildCorrelationReport({
    environment: query.environment,
    fromMs: query.fromMs,
    toMs: query.toMs,
    incidents,
    changes: changes.map((change) => ({
      id: change.id,
      environment: change.environment,
      service: change.service,
      version: change.version,
      kind: change.kind,
      source: change.source,
      startedAtMs: change.startedAt.getTime(),
      finishedAtMs: change.finishedAt?.getTime() ?? null,
    })),
  });
}

/** `GET /api/v1/reports/correlation` per the design's contract. */
export function registerReportRoutes(app: ApiApp, deps: { db: () => DbHandle }): void {
  app.get("/api/v1/reports/correlation", async (request, reply) => {
    const parsed = correlationQuery.safeParse(request.query);
    if (!parsed.success) {
      return reply.code(400).send({
        error: "invalid query",
        issues: parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"}: ${issue.message}`),
      });
    }
    const report = await loadCorrelationReport(deps.db(), {
      environment: parsed.data.environment,
      fromMs: Date.parse(parsed.data.from),
      toMs: Date.parse(parsed.data.to),
    });
    return report;
  });
}
