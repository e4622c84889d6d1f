import type { CorrelationReport } from "@faultline/core";
import { describeEachDatabase } from "@faultline/db/testing";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiApp } from "./health-routes.ts";
import { loadCorrelationReport, registerReportRoutes } from "./report-routes.ts";
import {
  fixturePeriod,
  type SeededCorrelationFixture,
  seedCorrelationReportFixture,
} from "./seed-correlation-report-fixture.ts";

const query = new URLSearchParams(fixturePeriod).toString();

describeEachDatabase("correlation report", ({ handle }) => {
  let app: ApiApp;
  let seeded: SeededCorrelationFixture;
  beforeAll(async () => {
    seeded = await seedCorrelationReportFixture(handle());
    app = Fastify();
    registerReportRoutes(app, { db: handle });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  const load = () =>
    loadCorrelationReport(handle(), {
      environment: fixturePeriod.environment,
      fromMs: Date.parse(fixturePeriod.from),
      toMs: Date.parse(fixturePeriod.to),
    });

  it("counts each failed change once, leaves rollbacks out of the denominator and takes medians", async () => {
    const report = await load();
    expect(report.summary).toEqual({
      deploys: 4,
      failedDeploys: 2,
      changeFailureRate: 0.5,
      incidents: 4,
      incidentsWithCause: 3,
      medianTimeToDetectSeconds: 50,
      medianTimeToRecoverSeconds: 900,
    });
    expect(report.incidents.map((incident) => [incident.id, incident.cause?.deployId ?? null])).toEqual([
      ["inc_login", seeded.failingDeploy],
      ["inc_tokens", seeded.failingDeploy],
      ["inc_sessions", seeded.configPush],
      ["inc_unexplained", null],
    ]);
    const failing = report.deploys.find((deploy) => deploy.id === seeded.failingDeploy);
    expect(failing?.causedIncidentIds).toEqual(["inc_login", "inc_tokens"]);
  });

  it("lists reported and inferred changes side by side, and only the period's own changes", async () => {
    const report = await load();
    expect(
      report.deploys.map((deploy) => [deploy.service, deploy.version, deploy.kind, deploy.source]),
    ).toEqual([
      ["search", "1.2.0", "deploy", "webhook"],
      ["authz", "2.14.0", "deploy", "api"],
      ["authz", "2.13.9", "rollback", "api"],
      ["identity", null, "config", "api"],
      ["dm-api", "3.1.0", "deploy", "telemetry"],
    ]);
    expect(report.deploys.every((deploy) => deploy.environment === "production")).toBe(true);
    // A suspect from before the period is still described in full where an incident names it.
    const login = report.incidents.find((incident) => incident.id === "inc_login");
    expect(login?.suspects.map((suspect) => [suspect.deployId, suspect.service, suspect.score])).toEqual([
      [seeded.failingDeploy, "authz", 0.92],
      [seeded.innocentDeploy, "search", 0.12],
      [seeded.beforePeriod, "gateway", 0.05],
    ]);
    expect(login?.cause).toEqual({
      deployId: seeded.failingDeploy,
      service: "authz",
      version: "2.14.0",
      kind: "deploy",
      startedAt: "2026-11-27T10:03:00.000Z",
      score: 0.92,
    });
    const unexplained = report.incidents.find((incident) => incident.id === "inc_unexplained");
    expect(unexplained).toMatchObject({ cause: null, endedAt: null, status: "open" });
    expect(unexplained?.suspects[0]).toMatchObject({ deployId: seeded.inferredDeploy, score: 0.3 });
  });

  it("answers JSON by default, the same report the loader builds", async () => {
    const response = await app.inject({ url: `/api/v1/reports/correlation?${query}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(response.json<CorrelationReport>()).toEqual(await load());
    const explicit = await app.inject({ url: `/api/v1/reports/correlation?${query}&format=json` });
    expect(explicit.json<CorrelationReport>()).toEqual(await load());
  });

  it("answers format=md as Markdown with the same numbers", async () => {
    const response = await app.inject({ url: `/api/v1/reports/correlation?${query}&format=md` });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/markdown; charset=utf-8");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    const body = response.body;
    expect(body.startsWith("# Correlation report: production, 2026-11-27 00:00:00 UTC to 2026-11-28")).toBe(
      true,
    );
    expect(body).toContain("| Change failure rate | 50.0% |");
    expect(body).toContain("| Median time to detect | 50 s |");
    expect(body).toContain("| Median time to recover | 15 min |");
    expect(body).toContain(
      "- 2026-11-27 10:03:00 UTC: authz 2.14.0 (deploy), reported (API); caused 2 incidents",
    );
    expect(body).toContain(
      "| 2026-11-27 16:00:00 UTC | dm-api | 3.1.0 | Deploy | inferred from telemetry | 0 |",
    );
    expect(body).toContain("| authz | 1 | 1 | 100.0% | 1 |");
    expect(body).toContain("| Config | 1 | 1 | 100.0% |");
  });

  it("answers format=csv as an attachment named after environment and period", async () => {
    const response = await app.inject({ url: `/api/v1/reports/correlation?${query}&format=csv` });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(response.headers["content-disposition"]).toBe(
      'attachment; filename="faultline-correlation-production-20261127T000000Z.csv"',
    );
    const lines = response.body.split("\r\n");
    expect(lines[0]?.startsWith('"record_type","id","environment"')).toBe(true);
    // Header, 4 incidents, 5 changes, and the empty string after the final CRLF.
    expect(lines).toHaveLength(11);
    expect(lines.filter((line) => line.startsWith('"incident"'))).toHaveLength(4);
    expect(lines.filter((line) => line.startsWith('"change"'))).toHaveLength(5);
    expect(lines.find((line) => line.startsWith('"incident","inc_unexplained"'))).toContain('"unexplained"');
  });

  it("refuses a bad query with 400 and names the field", async () => {
    const response = await app.inject({ url: `/api/v1/reports/correlation?${query}&format=xml` });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ issues: string[] }>().issues).toEqual(["format: must be json, md or csv"]);
  });
});

describe("correlation report before the database is open", () => {
  it("answers 503 with Retry-After instead of failing", async () => {
    const app = Fastify();
    registerReportRoutes(app, {
      db: () => {
        throw new Error("database not open yet");
      },
    });
    const response = await app.inject({ url: `/api/v1/reports/correlation?${query}` });
    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toBe("1");
    await app.close();
  });
});
