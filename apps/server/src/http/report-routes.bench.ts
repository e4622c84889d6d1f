/**
 * `npm run bench:report`: how fast GET /api/v1/reports/correlation answers for a 7-day window over a
 * database holding 7 days of a busy platform. Seeds through the db package's own writers (no OTLP, so
 * seeding takes seconds, not hours): ~200 services × 4 operations, a change event every few minutes
 * (deploys, configs, flags, rollbacks; reported and inferred), a few hundred incidents with ranked
 * suspects and timelines, and the series rows 7 days of traffic leave behind (hourly rollups for the
 * whole week, minute rollups and raw 10 s buckets for the most recent hours; widen with the flags).
 * Then times the real route (Fastify inject: routing, validation, queries, rendering, serialization)
 * for JSON, Markdown and CSV and prints median and p95 per format.
 *
 *   npm run bench:report -- [--database-url postgres://…] [--services N] [--incidents N]
 *     [--change-every-minutes N] [--minute-hours N] [--raw-hours N] [--runs N] [--data-dir DIR]
 *
 * Without --database-url it uses embedded PGlite in a temporary directory (removed afterwards). With
 * one, it creates and later drops a scratch database next to the one named in the URL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptySketchBins, latencyBinKeyOf, type SketchBins } from "@faultline/core";
import {
  createDb,
  type DbHandle,
  ensureSeriesIds,
  type IncidentRecord,
  recordChangeEvent,
  type SeriesBucketRow,
  saveIncident,
  upsertIngestRows,
} from "@faultline/db";
import Fastify from "fastify";
import type { ApiApp } from "./health-routes.ts";
import { registerReportRoutes } from "./report-routes.ts";

const argText = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const argNumber = (name: string, fallback: number): number => {
  const value = Number(argText(name));
  return Number.isFinite(value) && value >= 0 ? value : fallback;
};
const serviceCount = argNumber("--services", 200);
const incidentCount = argNumber("--incidents", 300);
const changeEveryMinutes = argNumber("--change-every-minutes", 3);
const minuteHours = argNumber("--minute-hours", 6);
const rawHours = argNumber("--raw-hours", 1);
const runs = argNumber("--runs", 30);
const databaseUrl = argText("--database-url");
/** A PGlite directory to keep (seeded on first use, reused as is afterwards): for iterating on queries. */
const keepDataDir = argText("--data-dir");

const environment = "production";
const day = 86_400_000;
const hour = 3_600_000;
const minute = 60_000;
/** The window's end: a whole hour, so rollups align. */
const endMs = Math.floor(Date.UTC(2026, 10, 30, 12) / hour) * hour;
const startMs = endMs - 7 * day;

let seed = 20_261_130;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const services = Array.from(
  { length: serviceCount },
  (_, index) => `svc-${index.toString().padStart(3, "0")}`,
);
const operations = ["GET /v1/items", "POST /v1/items", "rpc.Service/Call", "process orders.events"];

async function openDatabase(): Promise<{ handle: DbHandle; cleanUp: () => Promise<void> }> {
  if (databaseUrl) {
    const scratch = `faultline_report_bench_${process.pid}`;
    const admin = await createDb({ databaseUrl, migrate: false, poolSize: 1 });
    await admin.query(`DROP DATABASE IF EXISTS ${scratch}`);
    await admin.query(`CREATE DATABASE ${scratch}`);
    const url = new URL(databaseUrl);
    url.pathname = `/${scratch}`;
    const handle = await createDb({ databaseUrl: url.toString() });
    return {
      handle,
      cleanUp: async () => {
        await handle.close();
        await admin.query(`DROP DATABASE IF EXISTS ${scratch}`);
        await admin.close();
      },
    };
  }
  const dataDir = keepDataDir ?? mkdtempSync(join(tmpdir(), "faultline-report-bench-"));
  const handle = await createDb({ dataDir });
  return {
    handle,
    cleanUp: async () => {
      await handle.close();
      if (!keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface SeededChange {
  id: string;
  service: string;
  startedAtMs: number;
}

async function seedChanges(handle: DbHandle): Promise<SeededChange[]> {
  const changes: SeededChange[] = [];
  const versions = new Map<string, number>();
  // A little earlier than the window, so incidents at its start have suspects too.
  for (
    let at = startMs - 2 * hour;
    at < endMs;
    at += Math.max(1, changeEveryMinutes * minute * 2 * random())
  ) {
    const service = pick(services);
    const roll = random();
    const kind = roll < 0.7 ? "deploy" : roll < 0.9 ? "config" : roll < 0.97 ? "feature_flag" : "rollback";
    const build = (versions.get(service) ?? 100) + (kind === "deploy" ? 1 : kind === "rollback" ? -1 : 0);
    versions.set(service, build);
    const source = random() < 0.15 ? "telemetry" : random() < 0.5 ? "webhook" : "api";
    const { id } = await recordChangeEvent(handle.db, {
      environment,
      service,
      version: `1.${build}.0`,
      previousVersion: kind === "deploy" || kind === "rollback" ? `1.${build - 1}.0` : null,
      kind,
      source,
      startedAt: new Date(Math.round(at)),
      finishedAt: new Date(Math.round(at + 4 * minute * random())),
      description: `${kind} of ${service}`,
      idempotencyKey: `bench-${Math.round(at)}-${service}`,
    });
    changes.push({ id, service, startedAtMs: Math.round(at) });
  }
  return changes;
}

async function seedIncidents(handle: DbHandle, changes: readonly SeededChange[]): Promise<void> {
  for (let index = 0; index < incidentCount; index += 1) {
    const startedAtMs = Math.round(startMs + random() * (endMs - startMs - hour));
    const detectedAtMs = startedAtMs + 10_000 * (1 + Math.floor(random() * 6));
    const endedAtMs = random() < 0.97 ? startedAtMs + Math.round(5 * minute + random() * 2 * hour) : null;
    const affected = Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(services));
    const rootService = affected[0] ?? services[0] ?? "svc-000";
    const before = changes.filter(
      (change) => change.startedAtMs <= startedAtMs && change.startedAtMs > startedAtMs - 2 * hour,
    );
    const suspects = before
      .slice(-8)
      .reverse()
      .map((change, rank) => ({
        changeId: change.id,
        score: Math.round((0.9 / (rank + 1)) * 1000) / 1000,
        evidence: [
          `deployed ${Math.round((startedAtMs - change.startedAtMs) / minute)} min before onset`,
          `${change.service} ${change.service === rootService ? "is the root service" : "calls the root service"}`,
          `errors ${(2 + random() * 40).toFixed(1)}× higher on the new version (p < 1e-${3 + rank})`,
        ],
      }));
    const incident: IncidentRecord = {
      id: `inc_bench_${index}`,
      environment,
      title: `Error spike on ${rootService}`,
      status: endedAtMs === null ? "open" : "resolved",
      severity: pick(["sev1", "sev2", "sev3", "sev4"] as const),
      signal: pick(["error_rate", "error_rate", "latency", "throughput"] as const),
      rootService,
      startedAtMs,
      detectedAtMs,
      endedAtMs,
      services: [...new Set(affected)],
      surfaces: ["backend"],
      affectedUsers: Math.floor(random() * 5000),
      causeChangeId: random() < 0.6 ? (suspects[0]?.changeId ?? null) : null,
      suspects,
      events: [
        { atMs: detectedAtMs, kind: "opened", message: `Error spike on ${rootService}` },
        ...affected.slice(1).map((service, at) => ({
          atMs: detectedAtMs + (at + 1) * 10_000,
          kind: "spread",
          message: `spread to ${service}`,
        })),
        { atMs: detectedAtMs, kind: "suspects_changed", message: "top suspect changed" },
        ...(endedAtMs === null
          ? []
          : [{ atMs: endedAtMs, kind: "recovered", message: "all signals back to baseline" }]),
      ],
    };
    await saveIncident(handle, incident);
  }
}

function latencySketch(spans: number): SketchBins {
  const bins = emptySketchBins();
  for (let sample = 0; sample < Math.min(spans, 24); sample += 1) {
    const key = latencyBinKeyOf(5 + 200 * random() ** 3);
    bins[key] = (bins[key] ?? 0) + Math.max(1, Math.round(spans / 24));
  }
  return bins;
}

/** Series rows of one step over [fromMs, endMs), written in transactions of a few thousand rows. */
async function seedSeries(
  handle: DbHandle,
  seriesIds: readonly number[],
  stepSeconds: number,
  fromMs: number,
) {
  const stepMs = stepSeconds * 1000;
  let rows: SeriesBucketRow[] = [];
  let written = 0;
  const flush = async () => {
    if (rows.length === 0) return;
    const batch = rows;
    rows = [];
    await handle.transaction((query) =>
      upsertIngestRows(query, {
        seriesBuckets: batch,
        exemplars: [],
        edges: [],
        instanceVersions: [],
        services: [],
      }),
    );
    written += batch.length;
  };
  for (let at = Math.floor(fromMs / stepMs) * stepMs; at < endMs; at += stepMs) {
    for (const seriesId of seriesIds) {
      const spans = Math.max(1, Math.round((stepSeconds / 10) * (5 + 60 * random())));
      rows.push({
        seriesId,
        stepSeconds,
        bucketStartMs: at,
        spans,
        errors: Math.floor(spans * 0.01 * random()),
        durationSumMs: spans * 40,
        latencyBins: latencySketch(spans),
        userRegisters: emptySketchBins(),
      });
      if (rows.length >= 4000) await flush();
    }
  }
  await flush();
  return written;
}

/** Seeds the whole week: changes, incidents with suspects and timelines, series rows. */
async function seedWeek(handle: DbHandle, seeding: number): Promise<void> {
  const changes = await seedChanges(handle);
  await seedIncidents(handle, changes);
  const seriesIds = await handle.transaction((query) =>
    ensureSeriesIds(
      query,
      services.flatMap((service) =>
        operations.map((operation) => ({
          environment,
          service,
          operation,
          spanKind: operation.startsWith("process") ? "consumer" : "server",
          destination: operation.startsWith("process") ? "orders.events" : null,
          version: "1.100.0",
        })),
      ),
    ),
  );
  const hourly = await seedSeries(handle, seriesIds, 3600, startMs);
  const minutely = await seedSeries(handle, seriesIds, 60, endMs - minuteHours * hour);
  const raw = await seedSeries(handle, seriesIds, 10, endMs - rawHours * hour);
  console.log(
    `seeded ${handle.engine} in ${((performance.now() - seeding) / 1000).toFixed(1)} s: ${services.length} services, ` +
      `${changes.length} change events, ${incidentCount} incidents, ${seriesIds.length} series ` +
      `(${hourly} hourly rows over 7 d, ${minutely} minute rows over ${minuteHours} h, ${raw} raw rows over ${rawHours} h)`,
  );
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

const { handle, cleanUp } = await openDatabase();
try {
  const seeding = performance.now();
  const [{ count: existing = 0 } = {}] = await handle.query<{ count: number }>(
    "SELECT count(*)::int AS count FROM incidents",
  );
  if (existing > 0) console.log(`reusing the ${existing} incidents already in ${handle.location}`);
  else await seedWeek(handle, seeding);

  const app: ApiApp = Fastify();
  registerReportRoutes(app, { db: () => handle });
  await app.ready();
  const query = new URLSearchParams({
    from: new Date(startMs).toISOString(),
    to: new Date(endMs).toISOString(),
    environment,
  });
  for (const format of ["json", "md", "csv"] as const) {
    const url = `/api/v1/reports/correlation?${query}&format=${format}`;
    const timings: number[] = [];
    const cpuTimings: number[] = [];
    let bytes = 0;
    for (let run = -3; run < runs; run += 1) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const response = await app.inject({ method: "GET", url });
      const elapsed = performance.now() - started;
      const used = process.cpuUsage(cpu);
      if (response.statusCode !== 200)
        throw new Error(`${format}: HTTP ${response.statusCode} ${response.body}`);
      bytes = response.rawPayload.length;
      if (run >= 0) {
        timings.push(elapsed);
        cpuTimings.push((used.user + used.system) / 1000);
      }
    }
    // CPU time is shown beside wall time: on a shared machine the wall clock also counts other processes.
    console.log(
      `report 7 d ${format.padEnd(4)} ${(bytes / 1024).toFixed(0).padStart(5)} KiB: median ${quantile(timings, 0.5).toFixed(1)} ms, p95 ${quantile(timings, 0.95).toFixed(1)} ms (CPU median ${quantile(cpuTimings, 0.5).toFixed(1)} ms; ${runs} runs)`,
    );
  }
  await app.close();
} finally {
  await cleanUp();
}
