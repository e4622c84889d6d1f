import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CorrelationReport } from "@faultline/core";
import { createDb } from "@faultline/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fixturePeriod,
  type SeededCorrelationFixture,
  seedCorrelationReportFixture,
} from "./http/seed-correlation-report-fixture.ts";

const bin = fileURLToPath(new URL("../bin/faultline.mjs", import.meta.url));

/** Runs the CLI without blocking the event loop, so the test process can hold a database meanwhile. */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe("faultline report", () => {
  let dataDir: string;
  let seeded: SeededCorrelationFixture;
  const period = ["--from", fixturePeriod.from, "--to", fixturePeriod.to];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "faultline-report-"));
    const db = await createDb({ dataDir });
    seeded = await seedCorrelationReportFixture(db);
    await db.close();
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("prints the JSON report of a period from the embedded database and exits 0", async () => {
    const result = await runCli(["report", ...period, "--data-dir", dataDir]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as CorrelationReport;
    expect(report.summary).toMatchObject({ deploys: 4, failedDeploys: 2, changeFailureRate: 0.5 });
    expect(report.deploys.find((deploy) => deploy.id === seeded.failingDeploy)?.causedIncidentIds).toEqual([
      "inc_login",
      "inc_tokens",
    ]);
  }, 90_000);

  it("prints Markdown and CSV with --format", async () => {
    const markdown = await runCli(["report", ...period, "--format", "md", "--data-dir", dataDir]);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toMatch(/^# Correlation report: production, 2026-11-27 00:00:00 UTC/);
    expect(markdown.stdout).toContain("| Change failure rate | 50.0% |");
    const csv = await runCli(["report", ...period, "--format", "csv", "--data-dir", dataDir]);
    expect(csv.status).toBe(0);
    expect(csv.stdout.split("\r\n").filter((line) => line.startsWith('"change"'))).toHaveLength(5);
    const staging = await runCli([
      "report",
      ...period,
      "--environment",
      "staging",
      "--format",
      "csv",
      "--data-dir",
      dataDir,
    ]);
    expect(staging.stdout).toContain('"incident","inc_staging","staging"');
  }, 120_000);

  it("exits 2 with a clear message for bad arguments", async () => {
    const badTime = await runCli([
      "report",
      "--from",
      "yesterday",
      "--to",
      fixturePeriod.to,
      "--format",
      "xml",
    ]);
    expect(badTime.status).toBe(2);
    expect(badTime.stderr).toContain("--from: must be an ISO-8601 date-time");
    expect(badTime.stderr).toContain("--format: must be json, md or csv");
    expect(badTime.stdout).toBe("");
    const backwards = await runCli(["report", "--from", fixturePeriod.to, "--to", fixturePeriod.from]);
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toContain("from must be before to");
    const unknown = await runCli(["report", ...period, "--bogus"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    const noData = await runCli(["report", ...period, "--data-dir", join(dataDir, "missing")]);
    expect(noData.status).toBe(2);
    expect(noData.stderr).toContain("No Faultline database in");
  }, 120_000);

  it("refuses an embedded database another process has open and points at the API", async () => {
    const held = await createDb({ dataDir });
    try {
      const result = await runCli(["report", ...period, "--data-dir", dataDir]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain("is open in another process");
      expect(result.stderr).toContain("/api/v1/reports/correlation?from=2026-11-27T00%3A00%3A00Z");
      expect(result.stdout).toBe("");
    } finally {
      await held.close();
    }
    const after = await runCli(["report", ...period, "--data-dir", dataDir]);
    expect(after.status).toBe(0);
  }, 120_000);
});
