/**
 * Starts bench-server.ts as a child process and talks to it through its JSON stdout lines and stdin
 * commands, so callers wait on events (a log line, a report) rather than on time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const serverScript = fileURLToPath(new URL("./bench-server.ts", import.meta.url));
/** USER_HZ: Linux reports process CPU times in 1/100 s on every mainstream architecture. */
const clockTicksPerSecond = 100;

export interface BenchServerOptions {
  decoder: "hand" | "baseline";
  dataDir?: string;
  databaseUrl?: string;
  /** Acknowledge after the write-ahead log sync, checkpoint to the database (the product's path). */
  writeAheadLogDir?: string;
  /** With a write-ahead log: checkpoint interval in ms. */
  checkpointIntervalMs?: number;
  maxPendingSpans?: number;
  /** Dies (SIGKILL) right after this many commits or checkpoints, before the log is trimmed. */
  crashAfterCommits?: number;
  /** Dies (SIGKILL) right after this many log syncs, before any of the last group is acknowledged. */
  crashAfterLogSyncs?: number;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
  /** How long start-up may take before it counts as failed, in ms (default 60 000). */
  startTimeoutMs?: number;
}

export interface BenchReport {
  seriesTotal: number;
  seriesCount: number;
  rawTotal: number;
  stats: {
    requests: number;
    acceptedSpans: number;
    duplicates: number;
    commits: number;
    failedCommits: number;
    logSyncs: number;
    recoveredSpans: number;
  };
  /** Raw (10 s) rows the commits wrote; rollups come on top. */
  written: { seriesBuckets: number; edges: number; exemplars: number; instanceVersions: number };
  /**
   * Memory in MiB: now, at the highest sampled RSS (with the phase it was in) and VmHWM. `wasm` is PGlite's
   * WebAssembly memory, also counted in `external`.
   */
  memory: { now: MemorySample; peak: MemorySample & { phase: string }; peakRss: number };
}

export interface MemorySample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  wasm: number;
}

type Line = Record<string, unknown>;

export class BenchServer {
  readonly url: string;
  private readonly child: ChildProcess;
  private readonly lines: Line[];
  private readonly waiters: Array<{ matches: (line: Line) => boolean; resolve: (line: Line) => void }>;
  readonly exited: Promise<number | null>;

  private constructor(
    child: ChildProcess,
    url: string,
    lines: Line[],
    waiters: BenchServer["waiters"],
    exited: Promise<number | null>,
  ) {
    this.child = child;
    // A command written to a child that has just died (the crash tests kill it at chosen points) fails
    // with EPIPE on the pipe, not on the write: without a listener that is an uncaught exception.
    // Whoever waits for the answer finds out from the exit instead.
    this.child.stdin?.on("error", () => {});
    this.url = url;
    this.lines = lines;
    this.waiters = waiters;
    this.exited = exited;
  }

  static async start(options: BenchServerOptions): Promise<BenchServer> {
    const args = [
      ...(options.nodeFlags ?? []),
      "--import",
      "tsx",
      serverScript,
      "--decoder",
      options.decoder,
    ];
    if (options.dataDir) args.push("--data-dir", options.dataDir);
    if (options.databaseUrl) args.push("--database-url", options.databaseUrl);
    if (options.maxPendingSpans !== undefined)
      args.push("--max-pending-spans", String(options.maxPendingSpans));
    if (options.crashAfterCommits !== undefined)
      args.push("--crash-after-commits", String(options.crashAfterCommits));
    if (options.crashAfterLogSyncs !== undefined)
      args.push("--crash-after-log-syncs", String(options.crashAfterLogSyncs));
    if (options.writeAheadLogDir) args.push("--wal-dir", options.writeAheadLogDir);
    if (options.checkpointIntervalMs !== undefined)
      args.push("--checkpoint-interval-ms", String(options.checkpointIntervalMs));
    const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
    const lines: Line[] = [];
    const waiters: BenchServer["waiters"] = [];
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    if (!child.stdout) throw new Error("child has no stdout");
    createInterface({ input: child.stdout }).on("line", (text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return;
      }
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.matches(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
    const listening = await waitForLine(
      lines,
      waiters,
      exited,
      (line) => line.msg === "OTLP receivers listening",
      options.startTimeoutMs ?? 60_000,
    );
    return new BenchServer(child, String(listening.otlpHttp), lines, waiters, exited);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("child has no pid");
    return this.child.pid;
  }

  /** Resolves with the first line (already seen or future) that matches; rejects if the child exits. */
  waitFor(matches: (line: Line) => boolean, timeoutMs = 60_000): Promise<Line> {
    return waitForLine(this.lines, this.waiters, this.exited, matches, timeoutMs);
  }

  /** Peak resident set (VmHWM) of the child so far, in MiB. */
  peakRssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    if (!match?.[1]) throw new Error("no VmHWM in /proc status");
    return Number(match[1]) / 1024;
  }

  async report(timeoutMs = 120_000): Promise<BenchReport> {
    const seen = this.lines.length;
    this.child.stdin?.write("report\n");
    const line = await this.waitFor(
      (candidate) => candidate.msg === "report" && this.lines.indexOf(candidate) >= seen,
      timeoutMs,
    );
    return line as unknown as BenchReport;
  }

  /** CPU time (user + system) the child has used so far, in ms, from /proc (GC and libuv threads included). */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / clockTicksPerSecond;
  }

  /** Asks the child to checkpoint everything acknowledged; resolves once the database holds it. */
  async flush(timeoutMs = 120_000): Promise<void> {
    const seen = this.lines.length;
    this.child.stdin?.write("flush\n");
    await this.waitFor(
      (candidate) => candidate.msg === "flushed" && this.lines.indexOf(candidate) >= seen,
      timeoutMs,
    );
  }

  /**
   * Starts the V8 CPU profiler in the child's main thread (node:inspector), so a profile covers only the
   * requests timed between this call and `stopProfile`, not start-up, warm-up or the report.
   */
  async startProfile(timeoutMs = 10_000): Promise<void> {
    const seen = this.lines.length;
    this.child.stdin?.write("profile-start\n");
    await this.waitFor(
      (candidate) => candidate.msg === "profiling" && this.lines.indexOf(candidate) >= seen,
      timeoutMs,
    );
  }

  /** Stops the profiler and has the child write the `.cpuprofile` to `path`. */
  async stopProfile(path: string, timeoutMs = 30_000): Promise<void> {
    const seen = this.lines.length;
    this.child.stdin?.write(`profile-stop ${path}\n`);
    await this.waitFor(
      (candidate) => candidate.msg === "profile written" && this.lines.indexOf(candidate) >= seen,
      timeoutMs,
    );
  }

  /** Closes cleanly (commits what was accepted; writes a --cpu-prof profile) and waits for the exit. */
  async stop(): Promise<void> {
    this.child.stdin?.write("exit\n");
    await this.exited;
  }

  /** kill -9: no chance to flush, close or answer anything. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

function waitForLine(
  lines: readonly Line[],
  waiters: BenchServer["waiters"],
  exited: Promise<number | null>,
  matches: (line: Line) => boolean,
  timeoutMs: number,
): Promise<Line> {
  const seen = lines.find(matches);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no matching line from the bench server in ${timeoutMs} ms`)),
      timeoutMs,
    );
    waiters.push({
      matches,
      resolve: (line) => {
        clearTimeout(timer);
        resolve(line);
      },
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited (${code}) before the expected line`));
    });
  });
}
