/**
 * The server under test for the ingest benchmark and the durability tests, run as a child process so
 * that the load generator does not share its event loop.
 *
 *   node --import tsx packages/ingest/bench/bench-server.ts --decoder hand|baseline
 *     (--data-dir DIR | --database-url URL) [--wal-dir DIR [--checkpoint-interval-ms N]]
 *     [--max-pending-spans N] [--crash-after-commits N] [--crash-after-log-syncs N]
 *
 * `hand` is what `faultline serve` runs on its OTLP/HTTP port: createOtlpHttpServer → IngestPipeline
 * (hand-written decoders → aggregateSpans → with `--wal-dir`, write-ahead log sync then a checkpoint
 * every second, as `faultline serve` runs it; without, a database group commit per request group). `baseline` is the same server and pipeline
 * with decoding done the straightforward way: protobufjs decodes the whole message with the official
 * definitions, the reference normalizer turns it into spans, and `exportSpans` takes them from there
 * (keyed by the body's SHA-256, like the hand path, so retries are deduplicated the same way).
 *
 * Stdout carries JSON lines (the same start-up lines as `faultline serve`). Stdin takes commands:
 * `report` prints the stored span totals and pipeline stats; `profile-start` and `profile-stop PATH`
 * profile the main thread over a window and write the profile to PATH; `exit` closes cleanly (so a `--cpu-prof`
 * profile gets written).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createDb, readSeriesRange } from "@faultline/db";
import { defaultDecodeLimits } from "@faultline/otlp";
import { ExportTraceServiceRequestType } from "../../otlp/test-support/otlp-proto-root.ts";
import { normalizeReference } from "../../otlp/test-support/reference-normalizer.ts";
import { IngestPipeline } from "../src/pipeline/ingest-pipeline.ts";
import type { IngestLogger } from "../src/receivers/ingest-logger.ts";
import { createOtlpHttpServer } from "../src/receivers/otlp-http-server.ts";
import type { ExportOutcome, TraceSink } from "../src/receivers/trace-sink.ts";

const { values } = parseArgs({
  options: {
    decoder: { type: "string", default: "hand" },
    "data-dir": { type: "string" },
    "database-url": { type: "string" },
    "max-pending-spans": { type: "string" },
    "crash-after-commits": { type: "string" },
    "crash-after-log-syncs": { type: "string" },
    "wal-dir": { type: "string" },
    "checkpoint-interval-ms": { type: "string" },
    port: { type: "string", default: "0" },
  },
});

const emit = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const stderrLogger: IngestLogger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: "warn", msg, ...obj })}\n`),
  error: (obj, msg) =>
    process.stderr.write(
      `${JSON.stringify({ level: "error", msg, err: String(Reflect.get(obj, "err")) })}\n`,
    ),
};

const decoder = values.decoder;
if (decoder !== "hand" && decoder !== "baseline") throw new Error(`unknown --decoder ${decoder}`);
const databaseUrl = values["database-url"];
const dataDir = values["data-dir"];
if (!databaseUrl && !dataDir) throw new Error("pass --data-dir or --database-url");

const db = await createDb(databaseUrl ? { databaseUrl } : { dataDir });

/** VmHWM: the highest RSS so far, which sampling can miss (creating the database happens before it). */
function peakRssMiB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match?.[1] ? Math.round(Number(match[1]) / 1024) : 0;
}

/**
 * Where the resident memory is, in MiB: the server thread's V8 heap, buffers outside it, PGlite's
 * WebAssembly memory and the V8 heap of the thread PGlite runs on.
 */
function memoryBreakdown(): MemorySample {
  const usage = process.memoryUsage();
  const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
  return {
    rss: mib(usage.rss),
    heapTotal: mib(usage.heapTotal),
    heapUsed: mib(usage.heapUsed),
    external: mib(usage.external),
    arrayBuffers: mib(usage.arrayBuffers),
    wasm: mib(db.embeddedMemory()?.wasm ?? 0),
    databaseThreadHeap: mib(db.embeddedMemory()?.heap ?? 0),
  };
}
interface MemorySample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  wasm: number;
  databaseThreadHeap: number;
}
/**
 * The sample with the highest RSS in each phase (database ready, log replay, ingest, report): the
 * report's large reads would otherwise hide what ingest itself peaked at.
 */
const memoryPeaks = new Map<string, MemorySample>();
let memoryPhase = "database ready";
const sampleMemory = (): void => {
  // process.memoryUsage() walks every V8 heap space (milliseconds on a busy heap, a few percent of the
  // server thread at this rate); the RSS alone is one read, and the breakdown is taken only at a new peak.
  const known = memoryPeaks.get(memoryPhase);
  if (known !== undefined && process.memoryUsage.rss() / 1048576 <= known.rss) return;
  const sample = memoryBreakdown();
  if (known === undefined || sample.rss > known.rss) memoryPeaks.set(memoryPhase, sample);
};
sampleMemory();
// Sampled rather than hooked: the peak can come from the database engine, a request body or a checkpoint.
setInterval(sampleMemory, Number(process.env.BENCH_MEMORY_SAMPLE_MS ?? 100)).unref();
emit({ msg: "database ready", engine: db.engine, memory: memoryBreakdown(), peakRss: peakRssMiB() });

const crashAfterCommits = values["crash-after-commits"] ? Number(values["crash-after-commits"]) : null;
const crashAfterLogSyncs = values["crash-after-log-syncs"] ? Number(values["crash-after-log-syncs"]) : null;
let commits = 0;
let logSyncs = 0;
/** What the commits wrote, to tell how much storage work each span costs. */
const written = { seriesBuckets: 0, edges: 0, exemplars: 0, instanceVersions: 0 };
const pipeline = new IngestPipeline({
  db,
  logger: stderrLogger,
  ...(values["max-pending-spans"] ? { maxPendingSpans: Number(values["max-pending-spans"]) } : {}),
  ...(values["wal-dir"] ? { writeAheadLogDir: values["wal-dir"] } : {}),
  ...(values["checkpoint-interval-ms"]
    ? { checkpointIntervalMs: Number(values["checkpoint-interval-ms"]) }
    : {}),
  onLogSynced: () => {
    logSyncs += 1;
    // Synced but not one request of the group answered: durable, yet every client will retry.
    if (crashAfterLogSyncs !== null && logSyncs >= crashAfterLogSyncs) {
      emit({ msg: "crashing after log sync", logSyncs });
      process.kill(process.pid, "SIGKILL");
    }
  },
  // Diagnostics only: how much of a cell's time and memory the rollup fold takes.
  ...(process.env.BENCH_ROLLUP_INTERVAL_MS
    ? { rollupIntervalMs: Number(process.env.BENCH_ROLLUP_INTERVAL_MS) }
    : {}),
  onCommitted: (batch) => {
    commits += 1;
    written.seriesBuckets += batch.seriesBuckets.length;
    written.edges += batch.edges.length;
    written.exemplars += batch.exemplars.length;
    written.instanceVersions += batch.instanceVersions.length;
    // onCommitted runs synchronously right after the transaction committed: without a log, before any
    // response is written (durable, never acknowledged); with one, before the log segments the
    // checkpoint covers are deleted (replay must then skip what the database already holds).
    if (crashAfterCommits !== null && commits >= crashAfterCommits) {
      emit({ msg: "crashing after commit", commits });
      process.kill(process.pid, "SIGKILL");
    }
  },
});

const baselineSink: TraceSink = {
  isOverloaded: () => pipeline.isOverloaded(),
  async exportTraces({ body, encoding }): Promise<ExportOutcome> {
    if (encoding !== "proto") return { status: "invalid", message: "the baseline only decodes protobuf" };
    let decoded: ReturnType<typeof normalizeReference>;
    try {
      decoded = normalizeReference(ExportTraceServiceRequestType.decode(body), defaultDecodeLimits);
    } catch (error) {
      return { status: "invalid", message: (error as Error).message };
    }
    // Logged as received and keyed by the body's SHA-256, like the hand path's requests: the baseline
    // differs only in how it decodes.
    return pipeline.exportSpans(decoded.spans, undefined, { encoding: "proto", body });
  },
};

memoryPhase = "log replay";
await pipeline.start();
memoryPhase = "ingest";
const http = createOtlpHttpServer({
  sink: decoder === "hand" ? pipeline : baselineSink,
  bearerToken: null,
  cors: null,
  logger: stderrLogger,
});
const port = await http.listen(Number(values.port), "127.0.0.1");
emit({ msg: "OTLP receivers listening", otlpHttp: `http://127.0.0.1:${port}/v1/traces`, decoder });

async function report(): Promise<void> {
  sampleMemory();
  memoryPhase = "report";
  // What the series API does before reading: everything acknowledged must be in the database.
  await pipeline.flushAcknowledged();
  const nowMs = Date.now();
  // The hourly rollup through the series reader (what the API serves), and the raw 10 s buckets
  // summed in SQL: both must hold every accepted span exactly once.
  const hourly = await readSeriesRange(db, {
    environment: "production",
    stepSeconds: 3600,
    fromMs: nowMs - 8 * 24 * 3_600_000,
    toMs: nowMs + 3_600_000,
  });
  let seriesTotal = 0;
  for (const series of hourly) for (const point of series.points) seriesTotal += point.spans;
  const [raw] = await db.query<{ spans: string | number | null }>(
    "SELECT sum(spans) AS spans FROM series_buckets WHERE step_seconds = 10",
  );
  emit({
    msg: "report",
    seriesTotal,
    seriesCount: hourly.length,
    rawTotal: Number(raw?.spans ?? 0),
    stats: pipeline.stats,
    written,
    memory: { now: memoryBreakdown(), peakByPhase: Object.fromEntries(memoryPeaks), peakRss: peakRssMiB() },
  });
}

/** The main thread's CPU profiler over a chosen window (the bench's timed requests). */
let profiler: Session | null = null;
async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.setSamplingInterval", { interval: 200 });
  await profiler.post("Profiler.start");
}
async function stopProfile(path: string): Promise<void> {
  if (profiler === null) throw new Error("the profiler was not started");
  const { profile } = await profiler.post("Profiler.stop");
  profiler.disconnect();
  profiler = null;
  writeFileSync(path, JSON.stringify(profile));
}

let exiting = false;
async function exit(): Promise<void> {
  if (exiting) return;
  exiting = true;
  await http.close(2_000);
  await pipeline.close();
  await db.close();
  emit({ msg: "closed" });
  process.exit(0);
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = line.trim();
  if (command === "report")
    void report().catch((error: unknown) => emit({ msg: "error", error: String(error) }));
  else if (command === "flush")
    void pipeline
      .flushAcknowledged()
      .then(() => emit({ msg: "flushed" }))
      .catch((error: unknown) => emit({ msg: "error", error: String(error) }));
  else if (command === "exit") void exit();
  else if (command === "profile-start")
    void startProfile()
      .then(() => emit({ msg: "profiling" }))
      .catch((error: unknown) => emit({ msg: "error", error: String(error) }));
  else if (command.startsWith("profile-stop "))
    void stopProfile(command.slice("profile-stop ".length))
      .then(() => emit({ msg: "profile written" }))
      .catch((error: unknown) => emit({ msg: "error", error: String(error) }));
});
// The parent going away closes stdin: leave too, instead of lingering as an orphan.
process.stdin.on("end", () => void exit());
process.on("SIGTERM", () => void exit());
