import { appRouter, createCallerFactory, createContext } from "@faultline/api";
import { describeEachDatabase } from "@faultline/db/testing";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ApiApp } from "./health-routes.ts";
import { registerReportRoutes } from "./report-routes.ts";
import { fixturePeriod, seedCorrelationReportFixture } from "./seed-correlation-report-fixture.ts";

const query = new URLSearchParams(fixturePeriod).toString();
const period = {
  environment: fixturePeriod.environment,
  fromMs: Date.parse(fixturePeriod.from),
  toMs: Date.parse(fixturePeriod.to),
};

// The reports page promises the same numbers as the REST report and `faultline report`.
describeEachDatabase("reports router and REST report agree", ({ handle }) => {
  let app: ApiApp;
  beforeAll(async () => {
    await seedCorrelationReportFixture(handle());
    app = Fastify();
    registerReportRoutes(app, { db: handle });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });
  const caller = () => createCallerFactory(appRouter)(createContext({ db: handle() }));

  it("gives the same JSON report", async () => {
    const rest = await app.inject({ method: "GET", url: `/api/v1/reports/correlation?${query}` });
    const trpc = await caller().reports.correlation(period);
    expect(trpc.report).toEqual(rest.json());
    expect(trpc.report.summary.changeFailureRate).toBe(0.5);
  });

  it("gives the same Markdown and CSV bytes", async () => {
    for (const format of ["md", "csv"] as const) {
      const rest = await app.inject({
        method: "GET",
        url: `/api/v1/reports/correlation?${query}&format=${format}`,
      });
      const trpc = await caller().reports.export({ period, format });
      expect(trpc.text).toBe(rest.body);
    }
  });

  it("breaks failure rates down by service as the Markdown report's table does", async () => {
    const md = (await caller().reports.export({ period, format: "md" })).text;
    for (const row of (await caller().reports.correlation(period)).byService) {
      const rate =
        row.changeFailureRate === null
          ? "—"
          : `${(Math.round(row.changeFailureRate * 1000) / 10).toFixed(1)}%`;
      expect(md).toContain(`| ${row.key} | ${row.changes} | ${row.failed} | ${rate} | ${row.rollbacks} |`);
    }
  });
});
