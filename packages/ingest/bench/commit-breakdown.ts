/**
 * Where a group commit's time goes, statement by statement, on a file-backed PGlite:
 *   npx tsx packages/ingest/bench/commit-breakdown.ts [requests] [requestsPerCommit]
 * Pushes a pre-encoded messaging workload through IngestPipeline (no HTTP), `requestsPerCommit` requests
 * at a time, with a DbHandle wrapper that times each statement by its first words.
 */
import type { DbHandle } from "@faultline/db";
import { createDb, foldRollups } from "@faultline/db";
import { IngestPipeline } from "../src/pipeline/ingest-pipeline.ts";
import { generateWorkload } from "./messaging-workload.ts";
import { createScratchPglite } from "./scratch-storage.ts";

const requestCount = Number(process.argv[2] ?? 200);
const perCommit = Number(process.argv[3] ?? 8);
const storage = await createScratchPglite();
const location = storage.location as { dataDir: string };
const inner = await createDb(
  process.env.BREAKDOWN_DATABASE_URL ? { databaseUrl: process.env.BREAKDOWN_DATABASE_URL } : location,
);
const timings = new Map<string, { ms: number; calls: number }>();
const label = (sqlText: string): string => {
  const match = /(INSERT INTO \w+|DELETE FROM \w+|SELECT|COPY \w+|CREATE \w+ \w+|UPDATE \w+)/i.exec(sqlText);
  if (match?.[1] === "SELECT") return sqlText.replace(/\s+/g, " ").trim().slice(0, 60);
  return match?.[1] ?? sqlText.slice(0, 30);
};
/** CPU time of this process in ms: on a shared box, steadier than wall time. */
const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const record = (name: string, ms: number): void => {
  const entry = timings.get(name) ?? { ms: 0, calls: 0 };
  entry.ms += ms;
  entry.calls += 1;
  timings.set(name, entry);
};
const db: DbHandle = {
  ...inner,
  query: inner.query,
  transaction: async (work) => {
    const started = cpuMs();
    const result = await inner.transaction((query) =>
      work(async (sqlText, params) => {
        const t = cpuMs();
        try {
          return await query(sqlText, params);
        } finally {
          record(label(sqlText), cpuMs() - t);
        }
      }),
    );
    record("(transaction total)", cpuMs() - started);
    return result;
  },
};
const workload = generateWorkload({ count: requestCount, nowMs: Date.now(), withJson: false });
// Fold once at the end (close), so every run does the same work.
const pipeline = new IngestPipeline({ db, rollupIntervalMs: 3_600_000 });
const started = performance.now();
const startedCpu = cpuMs();
for (let index = 0; index < workload.length; index += perCommit) {
  await Promise.all(
    workload
      .slice(index, index + perCommit)
      .map((request) => pipeline.exportTraces({ body: request.proto, encoding: "proto" })),
  );
}
await pipeline.close();
while ((await foldRollups(db)).bucketTimes > 0) {}
const elapsed = performance.now() - started;
const cpu = cpuMs() - startedCpu;
const spans = pipeline.stats.acceptedSpans;
console.log(
  `${requestCount} requests, ${perCommit}/commit, ${pipeline.stats.commits} commits: ${Math.round((spans / elapsed) * 1000)} spans/s wall, ` +
    `${((cpu * 1000) / spans).toFixed(1)} µs CPU/span (${Math.round((spans / cpu) * 1000)} spans per CPU-s); times below are CPU ms`,
);
for (const [name, entry] of [...timings].sort((a, b) => b[1].ms - a[1].ms))
  console.log(
    `${name.padEnd(40)} ${entry.ms.toFixed(0).padStart(8)} ms ${String(entry.calls).padStart(6)} calls`,
  );
await inner.close();
await storage.drop();
