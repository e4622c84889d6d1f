import { recordChangeEvent, saveIncident } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { beforeAll, expect, it } from "vitest";
import { appRouter } from "../app-router.ts";
import { createContext } from "../create-context.ts";
import { loadCorrelationReport } from "../load-correlation-report.ts";
import { createCallerFactory } from "../trpc.ts";

const day = Date.parse("2026-11-27T00:00:00Z");
const hour = 3_600_000;
const period = { fromMs: day, toMs: day + 24 * hour, environment: "production" };

describeEachDatabase("reports router", ({ db, handle }) => {
  const caller = () =>
    createCallerFactory(appRouter)(createContext({ db: handle(), clock: () => day + 30 * hour }));
  let bad = "";

  beforeAll(async () => {
    const change = async (service: string, kind: "deploy" | "config" | "rollback", atMs: number) =>
      (
        await recordChangeEvent(db(), {
          environment: "production",
          service,
          kind,
          source: "api",
          startedAt: new Date(atMs),
          idempotencyKey: `${service}-${kind}-${atMs}`,
        })
      ).id;
    bad = await change("identity", "config", day + 10 * hour);
    await change("identity", "rollback", day + 10 * hour + 8 * 60_000);
    await change("media", "deploy", day + 9 * hour);
    await change("media", "deploy", day + 14 * hour);
    const incident = (id: string, startMs: number, cause: string | null) =>
      saveIncident(handle(), {
        id,
        environment: "production",
        title: id,
        status: "resolved",
        severity: "sev2",
        signal: "error_rate",
        rootService: "identity",
        startedAtMs: startMs,
        detectedAtMs: startMs + 30_000,
        endedAtMs: startMs + 600_000,
        services: ["identity"],
        surfaces: [],
        affectedUsers: 10,
        causeChangeId: cause,
        suspects: cause ? [{ changeId: cause, score: 0.9, evidence: [] }] : [],
        events: [],
      });
    await incident("inc-caused", day + 10 * hour + 60_000, bad);
    await incident("inc-unexplained", day + 15 * hour, null);
  });

  it("returns the correlation report with per-service and per-kind failure rates and a time series", async () => {
    const answer = await caller().reports.correlation(period);
    expect(answer.report).toEqual(await loadCorrelationReport(handle(), period));
    expect(answer.report.summary).toMatchObject({
      deploys: 3,
      failedDeploys: 1,
      changeFailureRate: 0.3333,
      incidents: 2,
      incidentsWithCause: 1,
      medianTimeToDetectSeconds: 30,
      medianTimeToRecoverSeconds: 600,
    });
    expect(answer.byService).toEqual([
      { key: "identity", changes: 1, failed: 1, changeFailureRate: 1, rollbacks: 1 },
      { key: "media", changes: 2, failed: 0, changeFailureRate: 0, rollbacks: 0 },
    ]);
    expect(answer.byKind.find((row) => row.key === "deploy")).toMatchObject({ changes: 2, failed: 0 });
    expect(answer.bucketMs).toBe(hour);
    expect(answer.overTime).toHaveLength(24);
    expect(answer.overTime[10]).toMatchObject({ changes: 1, failedChanges: 1, incidents: 1 });
    expect(answer.overTime.reduce((sum, bucket) => sum + bucket.incidents, 0)).toBe(2);
  });

  it("exports Markdown and CSV, and rejects a backwards period", async () => {
    const md = await caller().reports.export({ period, format: "md" });
    expect(md.text).toContain("# Correlation report: production");
    expect(md.fileName.endsWith(".md")).toBe(true);
    const csv = await caller().reports.export({ period, format: "csv" });
    expect(csv.fileName.endsWith(".csv")).toBe(true);
    expect(csv.text).toContain("inc-caused");
    await expect(caller().reports.correlation({ ...period, toMs: period.fromMs })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });
});
