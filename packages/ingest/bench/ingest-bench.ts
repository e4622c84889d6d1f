/**
 * End-to-end ingest throughput: `npm run bench:ingest`.
 *
 * The server under test (bench-server.ts) runs in a child process; this process pre-generates and
 * pre-encodes a realistic messaging workload (messaging-workload.ts), then drives the child over
 * loopback with a fixed number of requests in flight. Throughput is spans of the timed requests over
 * the time from the first send to the last 2xx, and a 2xx means the spans are durable: synced to the
 * ingest write-ahead log, as `faultline serve` runs (BENCH_WAL=0: committed to the database instead).
 * Beside it the bench prints the rate up to the moment the database holds everything too (a checkpoint
 * asked for right after the last 2xx), and the server's CPU time per span. The load client runs on the
 * same 2 cores as the server, so every figure includes what the client takes from the server. Each
 * cell (encoding × storage × decoder) gets a fresh database and a fresh child; the first requests of a
 * cell warm the child up (JIT, caches) and are not timed. After each cell the child reports what it
 * stored, which must equal every span sent.
 *
 * Environment: BENCH_REQUESTS (timed + warm-up requests per cell, default 400), BENCH_CONCURRENCY
 * (requests in flight, default 8), BENCH_PROFILE=DIR (write a CPU profile of every child's main thread
 * over its timed requests there, DIR/<encoding>-<storage>.cpuprofile),
 * BENCH_ONLY=proto,gzip,json,baseline and BENCH_STORAGE=pglite,postgres to run a subset,
 * BENCH_NODE_FLAGS (extra flags for the measured child, e.g. `--heapsnapshot-signal=SIGUSR2`),
 * BENCH_ROLLUP_INTERVAL_MS (the server's rollup fold interval; a large value keeps folds out of the
 * timed window, to see what they cost), BENCH_WAL=0 (acknowledge after a database commit, no log),
 * BENCH_CHECKPOINT_INTERVAL_MS (the log's checkpoint interval, default the server's 1 000),
 * BENCH_SPREAD_MS (event time the workload spans; default 50 minutes replayed in seconds, so nearly every
 * request opens buckets of its own — a small value such as 20 000 is live-like traffic, where many
 * requests add to the same open buckets and a checkpoint merges them).
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzip } from "node:zlib";
import { BenchServer } from "./bench-child.ts";
import { generateWorkload, spansPerRequest, workloadSeriesCount } from "./messaging-workload.ts";
import { type LoadRequest, type SendOptions, sendRequests } from "./otlp-load-client.ts";
import {
  createScratchPglite,
  createScratchPostgres,
  postgresReachable,
  type ScratchStorage,
} from "./scratch-storage.ts";

type Variant = "proto" | "gzip" | "json" | "baseline";
type Engine = "pglite" | "postgres";

const requestCount = Number(process.env.BENCH_REQUESTS ?? 400);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const warmupRequests = Math.min(64, Math.floor(requestCount / 10));
const profileDir = process.env.BENCH_PROFILE;
const variants = (process.env.BENCH_ONLY ?? "proto,gzip,json,baseline").split(",") as Variant[];
const engines = (process.env.BENCH_STORAGE ?? "pglite,postgres").split(",") as Engine[];
const withLog = process.env.BENCH_WAL !== "0";
const extraNodeFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
const checkpointIntervalMs = process.env.BENCH_CHECKPOINT_INTERVAL_MS
  ? Number(process.env.BENCH_CHECKPOINT_INTERVAL_MS)
  : undefined;

const gzipAsync = (body: Uint8Array): Promise<Buffer> =>
  new Promise((resolve, reject) => gzip(body, (error, out) => (error ? reject(error) : resolve(out))));

const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

const generationStarted = performance.now();
const spreadMs = process.env.BENCH_SPREAD_MS ? Number(process.env.BENCH_SPREAD_MS) : undefined;
const workload = generateWorkload({
  count: requestCount,
  nowMs: Date.now(),
  withJson: variants.includes("json"),
  ...(spreadMs !== undefined ? { spreadMs } : {}),
});
const bodies: Record<Variant, LoadRequest[]> = {
  proto: workload.map((request) => ({ body: request.proto, spans: request.spans })),
  baseline: workload.map((request) => ({ body: request.proto, spans: request.spans })),
  json: workload.map((request) => ({ body: request.json ?? new Uint8Array(0), spans: request.spans })),
  gzip: variants.includes("gzip")
    ? await Promise.all(
        workload.map(async (request) => ({ body: await gzipAsync(request.proto), spans: request.spans })),
      )
    : [],
};
const totalSpans = workload.reduce((sum, request) => sum + request.spans, 0);
const averageBytes = (list: LoadRequest[]): number =>
  list.length === 0 ? 0 : list.reduce((sum, request) => sum + request.body.length, 0) / totalSpans;
log(
  `workload: ${requestCount} requests × ${spansPerRequest} spans (${warmupRequests} warm-up), ` +
    `${workloadSeriesCount} series; protobuf ${averageBytes(bodies.proto).toFixed(0)} B/span, ` +
    `gzip ${averageBytes(bodies.gzip).toFixed(0)} B/span, JSON ${averageBytes(bodies.json).toFixed(0)} B/span; ` +
    `generated in ${((performance.now() - generationStarted) / 1000).toFixed(1)} s; ` +
    `concurrency ${concurrency}; node ${process.version}; ` +
    (spreadMs !== undefined ? `event time over ${spreadMs} ms; ` : "") +
    (withLog ? "2xx after the write-ahead log sync" : "2xx after the database commit (BENCH_WAL=0)"),
);

interface CellResult {
  variant: Variant;
  engine: Engine;
  spansPerSecond: number;
  /** Up to the database holding every timed span (the checkpoint after the last 2xx included). */
  spansPerSecondInDb: number;
  /** Server CPU (user + system, all threads) per span up to the database holding everything, in µs. */
  serverCpuUsPerSpan: number;
  /** The same up to the last 2xx only. */
  ackCpuUsPerSpan: number;
  /** The load client's own CPU per span over the timed requests (it shares the server's 2 cores). */
  clientCpuUsPerSpan: number;
  peakRssMiB: number;
  stored: number;
  sent: number;
  overloaded: number;
  initPeakRssMiB: number;
  /** Raw rows the server's commits or checkpoints wrote for the cell (series buckets, edges, exemplars). */
  rowsWritten: number;
  ok: boolean;
}

function sendOptions(variant: Variant, url: string): SendOptions {
  return {
    url,
    contentType: variant === "json" ? "application/json" : "application/x-protobuf",
    ...(variant === "gzip" ? { contentEncoding: "gzip" as const } : {}),
    concurrency,
    maxRetryDelayMs: 20,
  };
}

async function runCell(variant: Variant, engine: Engine): Promise<CellResult> {
  const storage: ScratchStorage =
    engine === "pglite" ? await createScratchPglite() : await createScratchPostgres();
  // The cell measures a server restarting on its data: a throwaway child creates the fresh PGlite data
  // directory first (createDb runs initdb in a process of its own, which peaks near 750 MiB; the
  // server's own peak on a first start is reported apart, below the table).
  let initPeakRssMiB = 0;
  if (engine === "pglite") {
    const init = await BenchServer.start({ decoder: "hand", ...storage.location });
    initPeakRssMiB = init.peakRssMiB();
    await init.stop();
  }
  const server = await BenchServer.start({
    decoder: variant === "baseline" ? "baseline" : "hand",
    ...storage.location,
    ...(withLog ? { writeAheadLogDir: storage.writeAheadLogDir } : {}),
    ...(checkpointIntervalMs !== undefined ? { checkpointIntervalMs } : {}),
    nodeFlags: extraNodeFlags,
  });
  try {
    const list = bodies[variant];
    const options = sendOptions(variant, server.url);
    const warmup = await sendRequests(list.slice(0, warmupRequests), options);
    await server.flush();
    if (profileDir) await server.startProfile();
    const cpuBefore = server.cpuMs();
    const clientCpuBefore = process.cpuUsage();
    const timed = await sendRequests(list.slice(warmupRequests), options);
    const ackCpuMs = server.cpuMs() - cpuBefore;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      await server.stopProfile(join(resolve(profileDir), `${variant}-${engine}.cpuprofile`));
    }
    const flushStarted = performance.now();
    await server.flush();
    const flushMs = performance.now() - flushStarted;
    const serverCpuMs = server.cpuMs() - cpuBefore;
    const timedSpans = list.slice(warmupRequests).reduce((sum, request) => sum + request.spans, 0);
    const peakRssMiB = server.peakRssMiB();
    const report = await server.report();
    const failures =
      [...warmup.acked, ...timed.acked].filter((acked) => !acked).length +
      warmup.otherStatuses.length +
      timed.otherStatuses.length;
    log(`  ${variant}/${engine}: ${JSON.stringify({ stats: report.stats, written: report.written })}`);
    log(`  ${variant}/${engine} memory (MiB): ${JSON.stringify(report.memory)}`);
    const ok = failures === 0 && report.seriesTotal === totalSpans && report.rawTotal === totalSpans;
    if (!ok) {
      log(
        `!!! MISMATCH ${variant}/${engine}: sent ${totalSpans} spans, series API total ${report.seriesTotal}, ` +
          `raw buckets ${report.rawTotal}, unacknowledged/failed requests ${failures} ` +
          `(statuses ${[...warmup.otherStatuses, ...timed.otherStatuses].join(",")}) !!!`,
      );
    }
    return {
      variant,
      engine,
      spansPerSecond: (timedSpans / timed.elapsedMs) * 1000,
      spansPerSecondInDb: (timedSpans / (timed.elapsedMs + flushMs)) * 1000,
      serverCpuUsPerSpan: (serverCpuMs * 1000) / timedSpans,
      ackCpuUsPerSpan: (ackCpuMs * 1000) / timedSpans,
      clientCpuUsPerSpan: (clientCpu.user + clientCpu.system) / timedSpans,
      peakRssMiB,
      stored: report.seriesTotal,
      sent: totalSpans,
      overloaded: warmup.overloaded + timed.overloaded,
      initPeakRssMiB,
      rowsWritten: report.written.seriesBuckets + report.written.edges + report.written.exemplars,
      ok,
    };
  } finally {
    await server.stop();
    await storage.drop();
  }
}

const postgres = engines.includes("postgres") ? await postgresReachable() : { ok: true as const };
if (!postgres.ok) log(`!!! SKIPPING PostgreSQL: ${postgres.reason}`);
const results: CellResult[] = [];
for (const engine of engines) {
  if (engine === "postgres" && !postgres.ok) continue;
  for (const variant of variants) {
    const result = await runCell(variant, engine);
    results.push(result);
    log(
      `${variant}/${engine}: ${Math.round(result.spansPerSecond).toLocaleString("en-US")} spans/s ` +
        `(${Math.round(result.spansPerSecondInDb).toLocaleString("en-US")} to the database), ` +
        `server CPU ${result.ackCpuUsPerSpan.toFixed(2)} µs/span to the last 2xx, ` +
        `${result.serverCpuUsPerSpan.toFixed(2)} µs/span to the database; load client ` +
        `${result.clientCpuUsPerSpan.toFixed(2)} µs/span`,
    );
  }
}

const labels: Record<Variant, string> = {
  proto: "protobuf (hand decoder)",
  gzip: "gzip protobuf (hand decoder)",
  json: "OTLP/JSON (hand decoder)",
  baseline: "protobuf (baseline: protobufjs)",
};
console.log("");
console.log(
  `${"encoding / pipeline".padEnd(34)}${"storage".padEnd(10)}${"spans/s".padStart(12)}${"to db".padStart(12)}` +
    `${"CPU µs/span".padStart(16)}${"peak RSS".padStart(12)}${"503s".padStart(7)}  stored = sent`,
);
for (const result of results) {
  console.log(
    `${labels[result.variant].padEnd(34)}${result.engine.padEnd(10)}` +
      `${Math.round(result.spansPerSecond).toLocaleString("en-US").padStart(12)}` +
      `${Math.round(result.spansPerSecondInDb).toLocaleString("en-US").padStart(12)}` +
      `${`${result.ackCpuUsPerSpan.toFixed(1)} / ${result.serverCpuUsPerSpan.toFixed(1)}`.padStart(16)}` +
      `${`${result.peakRssMiB.toFixed(0)} MiB`.padStart(12)}${String(result.overloaded).padStart(7)}  ` +
      `${result.ok ? "yes" : `NO (${result.stored} of ${result.sent})`}`,
  );
}
console.log(
  "spans/s: first request to last 2xx; to db: until a checkpoint after the last 2xx committed; CPU: server " +
    "process, all threads, to the last 2xx / to the database. The load client shares the 2 cores.",
);
const initPeak = Math.max(0, ...results.map((result) => result.initPeakRssMiB));
if (initPeak > 0)
  console.log(
    `(peak RSS of a server creating a fresh PGlite data directory, initdb's child not included, nor above: ` +
      `${initPeak.toFixed(0)} MiB)`,
  );
const mismatches = results.filter((result) => !result.ok).length;
if (mismatches > 0) console.log(`!!! ${mismatches} run(s) did not store exactly the spans sent !!!`);

const pglite = (variant: Variant): CellResult | undefined =>
  results.find((result) => result.variant === variant && result.engine === "pglite");
const rate = (variant: Variant): number => Math.round(pglite(variant)?.spansPerSecond ?? 0);
const ratio = rate("baseline") > 0 ? rate("proto") / rate("baseline") : 0;
// Faultline's own pipeline (the protobuf, gzip and JSON cells); the baseline is a comparison, not what
// `faultline serve` runs, and its peak is in the table above.
const rss = Math.max(
  0,
  ...results
    .filter((result) => result.engine === "pglite" && result.variant !== "baseline")
    .map((result) => result.peakRssMiB),
);

// The issue's targets (PGlite). For each one missed, what this run measured about where the time went.
const targets: Array<{ name: string; variant: Variant; minimum: number }> = [
  { name: "proto", variant: "proto", minimum: 500_000 },
  { name: "gzip", variant: "gzip", minimum: 300_000 },
  { name: "json", variant: "json", minimum: 150_000 },
];
for (const target of targets) {
  const cell = pglite(target.variant);
  if (!cell || cell.spansPerSecond >= target.minimum) continue;
  const timedSpans = totalSpans - warmupRequests * spansPerRequest;
  console.log(
    `target missed: ${target.name} ${rate(target.variant).toLocaleString("en-US")} < ` +
      `${target.minimum.toLocaleString("en-US")} spans/s. The server used ` +
      `${cell.ackCpuUsPerSpan.toFixed(1)} µs of CPU per span to the last 2xx and the load client ` +
      `${cell.clientCpuUsPerSpan.toFixed(1)} (the 2-core budget for both is ` +
      `${((2 * 1e6) / target.minimum).toFixed(1)}), and ${cell.serverCpuUsPerSpan.toFixed(1)} ` +
      `until the database held it, writing ${cell.rowsWritten.toLocaleString("en-US")} rows ` +
      `(${(cell.rowsWritten / totalSpans).toFixed(2)} per span, ${timedSpans.toLocaleString("en-US")} spans timed). ` +
      "Profile with BENCH_PROFILE=DIR; see docs/decisions/0004-ingest-write-ahead-log-and-checkpoints.md.",
  );
}
if (ratio > 0 && ratio < 2.5) console.log(`target missed: ratio ${ratio.toFixed(2)} < 2.5`);
if (rss > 400)
  console.log(
    `target missed: peak RSS ${Math.round(rss)} MiB > 400 MiB (each cell's "memory" line on stderr splits ` +
      "it: V8 heap, buffers, PGlite's WebAssembly memory and its thread's heap, at the sampled peak of each phase)",
  );
console.log(
  `ingest: proto ${rate("proto")} spans/s, gzip ${rate("gzip")} spans/s, json ${rate("json")} spans/s, ` +
    `baseline ${rate("baseline")} spans/s, ratio ${ratio.toFixed(2)}, rss ${Math.round(rss)} MiB`,
);
if (mismatches > 0) process.exitCode = 1;
