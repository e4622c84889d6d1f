// npm run bench:ui — how long until the triage page is interactive, on loopback, with 200 services
// and 7 days of data. Seeds a fresh embedded database directly (rollups as ingest and the fold leave
// them: hourly rows for 7 days, minute rows for the last day, raw 10 s rows for the last 2 hours;
// deploys; incidents with suspects), builds the UI for production, starts `faultline serve` on it and
// loads `/` in headless Chromium. Prints figures; asserts nothing.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { latencyBinKeyOf } from "@faultline/core";
import { createDb, recordChangeEvent, saveIncident } from "@faultline/db";
import { parseServeConfig, serveSettings, startServer } from "@faultline/server";
import { pino } from "pino";
import { chromium } from "playwright-core";
import { build } from "vite";

const services = Number(process.env.BENCH_SERVICES ?? 200);
const runs = Number(process.env.BENCH_RUNS ?? 7);
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
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
await build({
  root: fileURLToPath(new URL("..", import.meta.url)),
  logLevel: "warn",
  mode: "production",
  build: { outDir, emptyOutDir: true },
});
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
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const timings: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    // A fresh context each run: no cached assets, as for someone opening the link.
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    if (process.env.BENCH_VERBOSE) {
      page.on("requestfinished", (request) => {
        const timing = request.timing();
        console.log(
          `  ${Math.round(timing.startTime % 100_000)} +${Math.round(timing.responseEnd)} ms ${request.url()}`,
        );
      });
    }
    await page.goto(server.apiUrl, { waitUntil: "commit" });
    // Interactive: the incident list and every service row rendered, ready for a click.
    await page.waitForFunction(
      (expected) =>
        document.querySelectorAll("article.incident-card").length > 0 &&
        document.querySelectorAll("table.board tbody tr").length >= expected,
      services,
      { timeout: 30_000, polling: "raf" },
    );
    timings.push(await page.evaluate(() => performance.now()));
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
  if (keptDir === undefined) await rm(dataDir, { recursive: true, force: true });
}
const sorted = [...timings].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
console.log(`runs (ms, cold cache each): ${timings.map((ms) => Math.round(ms)).join(", ")}`);
console.log(
  `triage interactive: median ${Math.round(median)} ms, worst ${Math.round(sorted.at(-1) ?? Number.NaN)} ms (target ≤ 1000 ms) with ${services} services`,
);
