// npm run bench:ui — how long until the triage page is interactive, on loopback, with 200 services
// and 7 days of data. Seeds a fresh embedded database directly (rollups as ingest and the fold leave
// them: hourly rows for 7 days, minute rows for the last day, raw 10 s rows for the last 2 hours, and
// the per-service rollups of those; deploys; incidents with suspects), builds the UI for production,
// starts `faultline serve` on it and loads `/` in headless Chromium, a fresh context each run, until
// the incidents and every service's numbers are on screen and a click on the board re-sorts it.
// Prints wall-clock figures, busy and CPU time, and the load average; asserts nothing.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { latencyBinKeyOf } from "@faultline/core";
import { createDb, rebuildServiceBuckets, recordChangeEvent, saveIncident } from "@faultline/db";
import { parseServeConfig, serveSettings, startServer } from "@faultline/server";
import { pino } from "pino";
import { buildProductionUi, chromiumPath, launchChromium } from "../e2e/browser-fixtures.ts";

const services = Number(process.env.BENCH_SERVICES ?? 200);
const runs = Number(process.env.BENCH_RUNS ?? 7);
if (!existsSync(chromiumPath)) {
  console.error(`no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(2);
}

const hour = 3_600_000;
const now = Date.now();
// BENCH_DATA_DIR keeps the seeded database between runs (seeding takes about a minute).
const keptDir = process.env.BENCH_DATA_DIR;
const dataDir = keptDir ?? (await mkdtemp(join(tmpdir(), "faultline-bench-ui-")));
const reuse = keptDir !== undefined && existsSync(join(keptDir, "db"));
const outDir = join(dataDir, "web-dist");

let started = performance.now();
await buildProductionUi(outDir);
console.log(`built the UI in ${Math.round(performance.now() - started)} ms`);

started = performance.now();
if (!reuse) await seed();
async function seed() {
  const db = await createDb({ dataDir: join(dataDir, "db") });
  const names = Array.from({ length: services }, (_, index) => `svc-${String(index).padStart(3, "0")}`);
  await db.query(
    `INSERT INTO series (environment, service, operation, span_kind, destination, version)
   SELECT 'production', name, op.operation, op.kind, NULL, '1.0.0'
   FROM unnest($1::text[]) AS name, (VALUES ('GET /api', 'server'), ('SELECT db', 'client')) AS op(operation, kind)`,
    [names],
  );
  const bins = JSON.stringify({ [latencyBinKeyOf(20)]: 8, [latencyBinKeyOf(80)]: 2 });
  for (const [step, spanMs] of [
    [3600, 7 * 24 * hour],
    [60, 24 * hour],
    [10, 2 * hour],
  ] as const) {
    const stepMs = step * 1000;
    const to = Math.floor(now / stepMs) * stepMs;
    // Spans scale with the bucket width; a few services fail a little.
    await db.query(
      `INSERT INTO series_buckets (series_id, step_seconds, bucket_start, spans, errors, duration_sum_ms,
       latency_bins, user_registers, folded_spans, folded_errors, folded_duration_sum_ms)
     SELECT s.id, $1, timestamptz 'epoch' + t * interval '1 millisecond', $1, CASE WHEN s.id % 17 = 0 THEN $1 / 10 ELSE 0 END,
       $1 * 30, $4::jsonb, '{}', CASE WHEN $1 = 10 THEN $1 ELSE 0 END,
       CASE WHEN $1 = 10 AND s.id % 17 = 0 THEN 1 ELSE 0 END, CASE WHEN $1 = 10 THEN $1 * 30 ELSE 0 END
     FROM series s, generate_series($2::bigint, $3::bigint, $1 * 1000) AS t`,
      [step, to - spanMs, to, bins],
    );
  }
  // The services' rollups the fold would have kept from those series rollups.
  await rebuildServiceBuckets(db);
  const changeIds: string[] = [];
  for (let index = 0; index < 300; index++) {
    const { id } = await recordChangeEvent(db.db, {
      environment: "production",
      service: names[index % services] as string,
      version: `1.${index}.0`,
      kind: index % 5 === 0 ? "config" : "deploy",
      source: "api",
      startedAt: new Date(now - (index / 300) * 7 * 24 * hour),
      idempotencyKey: `bench-${index}`,
    });
    changeIds.push(id);
  }
  for (let index = 0; index < 12; index++) {
    const startedAtMs = now - index * 6 * hour - 20 * 60_000;
    await saveIncident(db, {
      id: `bench-inc-${index}`,
      environment: "production",
      title: `Error spike on ${names[index]}`,
      status: index < 3 ? "open" : "resolved",
      severity: index === 0 ? "sev1" : "sev3",
      signal: "error_rate",
      rootService: names[index] as string,
      startedAtMs,
      detectedAtMs: startedAtMs + 40_000,
      endedAtMs: index < 3 ? null : startedAtMs + 15 * 60_000,
      services: [names[index] as string, names[index + 1] as string],
      surfaces: ["web", "ios"],
      affectedUsers: 1000 * (12 - index),
      causeChangeId: changeIds[index] ?? null,
      suspects: [
        { changeId: changeIds[index] as string, score: 0.9, evidence: ["deploy 10 s before onset"] },
      ],
      events: [{ atMs: startedAtMs + 40_000, kind: "opened", message: "opened" }],
    });
  }
  const [{ rows } = { rows: 0 }] = await db.query<{ rows: number }>(
    "SELECT count(*)::int AS rows FROM series_buckets",
  );
  await db.close();
  console.log(
    `seeded ${services} services, ${rows.toLocaleString("en")} series buckets over 7 days, 300 changes, 12 incidents in ${Math.round(performance.now() - started)} ms`,
  );
}

const defaults = Object.fromEntries(serveSettings.map((setting) => [setting.key, setting.default]));
const server = await startServer(
  parseServeConfig({
    ...defaults,
    dataDir: join(dataDir, "db"),
    port: "0",
    otlpPort: "0",
    otlpGrpcPort: "0",
    webDist: outDir,
  }),
  pino({ level: "silent" }),
);
await server.ready;
const browser = await launchChromium();
const timings: number[] = [];
// Per run: how long the page's main thread ran tasks (Chromium's TaskDuration: wall time, so it
// includes waiting for a core on a loaded machine) and the CPU time of this process, which runs
// the server (and the bench's driver), from navigation until interactive.
const pageBusyMs: number[] = [];
const serverCpuMs: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    // A fresh context each run: no cached assets, as for someone opening the link.
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const devtools = await context.newCDPSession(page);
    await devtools.send("Performance.enable");
    const cpuBefore = process.cpuUsage();
    await page.goto(server.apiUrl, { waitUntil: "commit" });
    // Shown: the incident list, and every service row of the board with its numbers.
    await page.waitForFunction(
      (expected) => {
        const rows = document.querySelectorAll("table.board tbody tr");
        return (
          document.querySelectorAll("article.incident-card").length > 0 &&
          rows.length >= expected &&
          [...rows].every((row) => /\d/.test(row.querySelector("td.num")?.textContent ?? ""))
        );
      },
      services,
      { timeout: 30_000, polling: "raf" },
    );
    // Interactive: a click on a column header re-sorts the board (the handlers are live), measured in
    // the page so the driver's round trips do not count.
    const interactiveMs = await page.evaluate(async () => {
      const header = document.querySelector("table.board thead th");
      header?.querySelector("button")?.click();
      while (header?.getAttribute("aria-sort") !== "ascending")
        await new Promise((resolve) => requestAnimationFrame(resolve));
      return performance.now();
    });
    timings.push(interactiveMs);
    const serverCpu = process.cpuUsage(cpuBefore);
    const metrics = (await devtools.send("Performance.getMetrics")).metrics;
    const metric = (name: string) => metrics.find((one) => one.name === name)?.value ?? 0;
    pageBusyMs.push(metric("TaskDuration") * 1000);
    serverCpuMs.push((serverCpu.user + serverCpu.system) / 1000);
    if (process.env.BENCH_VERBOSE) {
      // Where the time went: each request's start and end since navigation (Resource Timing).
      const entries = await page.evaluate(() =>
        (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).map(
          (entry) => `${Math.round(entry.startTime)}–${Math.round(entry.responseEnd)} ${entry.name}`,
        ),
      );
      console.log(
        `  run ${run + 1}: ${entries.join("; ")}; interactive ${Math.round(interactiveMs)}; page script ${Math.round(metric("ScriptDuration") * 1000)} ms, layout ${Math.round(metric("LayoutDuration") * 1000)} ms, style ${Math.round(metric("RecalcStyleDuration") * 1000)} ms`,
      );
    }
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
  if (keptDir === undefined) await rm(dataDir, { recursive: true, force: true });
}
const medianOf = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const [load1] = loadavg();
console.log(`runs (ms, cold cache each): ${timings.map((ms) => Math.round(ms)).join(", ")}`);
console.log(
  `triage interactive: median ${Math.round(medianOf(timings))} ms, worst ${Math.round(Math.max(...timings))} ms (target ≤ 1000 ms) with ${services} services; load average ${load1?.toFixed(2)}`,
);
console.log(
  `per load (median): page main thread busy ${Math.round(medianOf(pageBusyMs))} ms (task time), server process ${Math.round(medianOf(serverCpuMs))} ms CPU`,
);
