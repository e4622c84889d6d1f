import { loadCorrelationReport } from "@faultline/api";
import {
  type CorrelationReport,
  correlationCsvFileName,
  renderCorrelationReportCsv,
  renderCorrelationReportMarkdown,
} from "@faultline/core";
import type { DbHandle } from "@faultline/db";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { ApiApp } from "./health-routes.ts";

// The report is assembled in one place for the API, the CLI and the UI's tRPC router.
export { loadCorrelationReport };

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

/**
 * `GET /api/v1/reports/correlation` per the design's contract: JSON by default, `format=md` as
 * `text/markdown` and `format=csv` as a `text/csv` attachment. The renderings escape every stored text;
 * `nosniff` also stops a browser from guessing HTML from a Markdown or CSV body.
 */
export function registerReportRoutes(app: ApiApp, deps: { db: () => DbHandle }): void {
  app.get("/api/v1/reports/correlation", async (request, reply) => {
    const parsed = correlationQuery.safeParse(request.query);
    if (!parsed.success) {
      return reply.code(400).send({
        error: "invalid query",
        issues: parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"}: ${issue.message}`),
      });
    }
    let db: DbHandle;
    try {
      db = deps.db();
    } catch {
      // The API listens before the database has opened and migrated; say so instead of a 500.
      return reply.code(503).header("Retry-After", "1").send({ error: "starting up, retry shortly" });
    }
    const report = await loadCorrelationReport(db, {
      environment: parsed.data.environment,
      fromMs: Date.parse(parsed.data.from),
      toMs: Date.parse(parsed.data.to),
    });
    return sendCorrelationReport(reply, report, parsed.data.format);
  });
}

/** Sends a report in the asked format, with the content type (and file name) each format needs. */
function sendCorrelationReport(
  reply: FastifyReply,
  report: CorrelationReport,
  format: CorrelationFormat,
): FastifyReply | CorrelationReport {
  switch (format) {
    case "md":
      return reply
        .type("text/markdown; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff")
        .send(renderCorrelationReportMarkdown(report));
    case "csv":
      return reply
        .type("text/csv; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff")
        .header("Content-Disposition", `attachment; filename="${correlationCsvFileName(report)}"`)
        .send(renderCorrelationReportCsv(report));
    case "json":
      return report;
  }
}

/** The output formats `format=` and `faultline report --format` accept. */
export type CorrelationFormat = z.output<typeof correlationQuery>["format"];

/**
 * The report as text in one of the formats, for `faultline report`: the same bytes the API sends,
 * with JSON pretty-printed for people reading a terminal.
 */
export function formatCorrelationReport(report: CorrelationReport, format: CorrelationFormat): string {
  if (format === "md") return renderCorrelationReportMarkdown(report);
  if (format === "csv") return renderCorrelationReportCsv(report);
  return `${JSON.stringify(report, null, 2)}\n`;
}
