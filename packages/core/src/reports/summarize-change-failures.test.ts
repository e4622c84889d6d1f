import { describe, expect, it } from "vitest";
import type { CorrelationReport } from "./build-correlation-report.ts";
import { bucketReportOverTime, summarizeChangeFailures } from "./summarize-change-failures.ts";

type Deploy = CorrelationReport["deploys"][number];
const deploy = (
  id: string,
  service: string,
  kind: Deploy["kind"],
  startedAt: string,
  caused: string[] = [],
): Deploy => ({
  id,
  service,
  version: null,
  environment: "production",
  kind,
  startedAt,
  finishedAt: null,
  source: "api",
  causedIncidentIds: caused,
});

const deploys = [
  deploy("a", "identity", "config", "2026-11-27T10:00:00.000Z", ["i1", "i2"]),
  deploy("b", "identity", "deploy", "2026-11-27T11:00:00.000Z"),
  deploy("c", "identity", "rollback", "2026-11-27T11:30:00.000Z"),
  deploy("d", "media", "deploy", "2026-11-27T12:00:00.000Z"),
];

describe("summarizeChangeFailures", () => {
  it("counts a change as failed once and leaves rollbacks out of the denominator", () => {
    expect(summarizeChangeFailures(deploys, (one) => one.service)).toEqual([
      { key: "identity", changes: 2, failed: 1, changeFailureRate: 0.5, rollbacks: 1 },
      { key: "media", changes: 1, failed: 0, changeFailureRate: 0, rollbacks: 0 },
    ]);
    expect(summarizeChangeFailures(deploys, (one) => one.kind).find((row) => row.key === "rollback")).toEqual(
      {
        key: "rollback",
        changes: 0,
        failed: 0,
        changeFailureRate: null,
        rollbacks: 1,
      },
    );
  });

  it("buckets changes and incidents over the period", () => {
    const report = {
      from: "2026-11-27T10:00:00.000Z",
      to: "2026-11-27T13:00:00.000Z",
      environment: "production",
      incidents: [{ startedAt: "2026-11-27T09:59:00.000Z" }, { startedAt: "2026-11-27T12:30:00.000Z" }],
      deploys,
    } as unknown as CorrelationReport;
    expect(
      bucketReportOverTime(report, 3_600_000).map((bucket) => [
        bucket.changes,
        bucket.failedChanges,
        bucket.incidents,
      ]),
    ).toEqual([
      [1, 1, 1],
      [1, 0, 0],
      [1, 0, 1],
    ]);
  });
});
