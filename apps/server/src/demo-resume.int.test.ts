import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo } from "@faultline/demo";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseServeConfig, serveSettings } from "./config.ts";
import { createLogger } from "./logger.ts";
import { type RunningServer, startServer } from "./start-server.ts";

// `npm start` twice must not backfill the same history twice: the demo records how far it simulated
// and a second start fills only the gap.

const defaults = Object.fromEntries(serveSettings.map((setting) => [setting.key, setting.default]));

describe("the demo's history on a second start", () => {
  let server: RunningServer;
  let otlpHttpUrl = "";
  let dataDir = "";

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "faultline-demo-resume-"));
    const config = parseServeConfig({
      ...defaults,
      dataDir: join(dataDir, "data"),
      port: "0",
      otlpPort: "0",
      otlpGrpcPort: "0",
    });
    server = await startServer(config, createLogger("silent"));
    ({ otlpHttpUrl } = await server.ready);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function spansBetween(fromMs: number, toMs: number): Promise<number> {
    const search = new URLSearchParams({
      environment: "production",
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      step: "10s",
    });
    const response = await fetch(`${server.apiUrl}/api/v1/series?${search}`);
    const body = (await response.json()) as { series: { points: { t: string; spans: number }[] }[] };
    return body.series.flatMap((series) => series.points).reduce((sum, point) => sum + point.spans, 0);
  }

  async function runOnce(stateFile: string): Promise<string[]> {
    const lines: string[] = [];
    const demo = startDemo({
      apiUrl: server.apiUrl,
      otlpHttpUrl,
      stateFile,
      backfillHours: 0.05,
      log: () => {},
      announce: (line) => lines.push(line),
    });
    await demo.backfilled;
    await demo.close();
    return lines;
  }

  it("resumes from where the first run stopped instead of backfilling again", async () => {
    const stateFile = join(dataDir, "data-demo-state.json");
    const started = Date.now();
    const first = await runOnce(stateFile);
    expect(first[0]).toMatch(/^Backfilling 0.05 h of history/);
    const firstState = JSON.parse(await readFile(stateFile, "utf8")) as { simulatedUntilMs: number };
    expect(firstState.simulatedUntilMs).toBeGreaterThan(started - 10_000);
    const windowFrom = started - 3 * 60_000 - 10_000;
    const before = await spansBetween(windowFrom, firstState.simulatedUntilMs - 20_000);
    expect(before).toBeGreaterThan(1_000);

    const second = await runOnce(stateFile);
    // Only the gap since the first run (if any) is filled, never the whole history again.
    expect(second.filter((line) => line.startsWith("Backfilling"))).toEqual([]);
    const after = await spansBetween(windowFrom, firstState.simulatedUntilMs - 20_000);
    expect(after).toBe(before);
  }, 120_000);
});
