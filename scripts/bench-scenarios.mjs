#!/usr/bin/env node
// npm run bench:scenarios — starts a fresh `faultline serve` on a temporary embedded database, replays
// every public scenario of ../shared/bench through the real receivers and deploy API, and prints the
// replay's report with its `score:` line last. Figures, not pass/fail: scores are for reading.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const benchDir = process.env.FAULTLINE_BENCH_DIR ?? join(root, "..", "shared", "bench");
const replay = join(benchDir, "replay.mjs");
if (!existsSync(replay)) {
  console.error(`replay.mjs not found at ${replay}; set FAULTLINE_BENCH_DIR`);
  process.exit(2);
}
const dataDir = mkdtempSync(join(tmpdir(), "faultline-scenarios-"));
const server = spawn(
  process.execPath,
  [
    join(root, "apps/server/bin/faultline.mjs"),
    "serve",
    "--data-dir",
    dataDir,
    "--port",
    "0",
    "--otlp-port",
    "0",
    "--otlp-grpc-port",
    "0",
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const exited = new Promise((resolve) => server.once("exit", resolve));
/**
 * Stops the server and waits for it before removing its data: deleting the directory under a server
 * that is still checkpointing on its way out left it running (and its stdout undrained) after the
 * bench had exited. A server that has not stopped after 30 s is killed.
 */
const stop = async () => {
  if (server.exitCode === null && server.signalCode === null) {
    server.kill("SIGTERM");
    const killer = setTimeout(() => server.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(killer);
  }
  rmSync(dataDir, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  stop().then(() => process.exit(130));
});

const urls = await new Promise((resolve, reject) => {
  const found = {};
  createInterface({ input: server.stdout }).on("line", (line) => {
    try {
      const entry = JSON.parse(line);
      if (entry.msg === "API and UI listening") found.api = entry.url;
      if (entry.msg === "OTLP receivers listening") found.otlp = entry.otlpHttp;
      if (found.api && found.otlp) resolve(found);
    } catch {
      // not a log line
    }
  });
  server.once("exit", (code) => reject(new Error(`faultline serve exited with ${code} before it was ready`)));
});

const extra = process.argv.slice(2);
const child = spawn(
  process.execPath,
  [
    replay,
    "--dir",
    join(benchDir, "scenarios"),
    "--otlp",
    urls.otlp,
    "--api",
    urls.api,
    "--settle",
    "40",
    ...extra,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let scoreLine = "";
let spansSent = 0;
const environments = new Set();
createInterface({ input: child.stdout }).on("line", (line) => {
  const sent = /^\s*sent ([\d,]+) spans/.exec(line);
  if (sent?.[1]) spansSent += Number(sent[1].replaceAll(",", ""));
  const environment = /env=(\S+)/.exec(line);
  if (environment?.[1]) environments.add(environment[1]);
  if (line.startsWith("score:")) scoreLine = line;
  else console.log(line);
});
const code = await new Promise((resolve) => child.once("exit", resolve));
// Every acknowledged span must be counted exactly once in the series API (hourly rollups, all time).
let stored = 0;
for (const environment of environments) {
  const query = new URLSearchParams({
    environment,
    from: new Date(Date.now() - 7 * 86_400_000).toISOString(),
    to: new Date(Date.now() + 3_600_000).toISOString(),
    step: "1h",
  });
  const response = await fetch(`${urls.api}/api/v1/series?${query}`);
  const body = await response.json();
  for (const series of body.series ?? []) for (const point of series.points) stored += point.spans;
}
console.log(
  `series total ${stored.toLocaleString("en")} spans, replay sent ${spansSent.toLocaleString("en")}: ${stored === spansSent ? "equal" : "MISMATCH"}`,
);
await stop();
if (scoreLine) console.log(scoreLine);
process.exit(code ?? 1);
