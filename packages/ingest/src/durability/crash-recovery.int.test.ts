import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BenchServer } from "../../bench/bench-child.ts";
import { generateWorkload, type WorkloadRequest } from "../../bench/messaging-workload.ts";
import { type LoadRequest, sendRequests } from "../../bench/otlp-load-client.ts";
import {
  createScratchPglite,
  createScratchPostgres,
  postgresReachable,
  type ScratchStorage,
} from "../../bench/scratch-storage.ts";

// A 2xx means durable, and a retried request is never counted twice: the server runs in a child
// process that is killed with SIGKILL under load, restarted on the same data, and an exporter-like
// client retries every request it got no 2xx for. Every span must then be stored exactly once. Both
// acknowledgement paths are covered: after the write-ahead log sync (what `faultline serve` runs),
// and after a database commit (no log).

const postgres = await postgresReachable();
if (!postgres.ok) {
  if (process.env.FAULTLINE_REQUIRE_POSTGRES === "1") throw new Error(postgres.reason);
  console.warn(`[faultline] SKIPPING the PostgreSQL crash-recovery tests: ${postgres.reason}`);
}

const requestCount = 40;
const concurrency = 8;

const engines = [
  { engine: "pglite (on disk)", create: createScratchPglite, skip: false },
  { engine: "postgres", create: createScratchPostgres, skip: !postgres.ok },
];
const cases = engines.flatMap((engine) => [
  { ...engine, ack: "write-ahead log sync", withLog: true },
  { ...engine, ack: "database commit", withLog: false },
]);

describe.each(cases)("crash recovery [$engine, 2xx after the $ack]", ({ create, skip, withLog }) => {
  let workload: WorkloadRequest[] = [];
  let requests: LoadRequest[] = [];
  let totalSpans = 0;
  let storage: ScratchStorage | undefined;
  const servers: BenchServer[] = [];

  beforeAll(() => {
    workload = generateWorkload({ count: requestCount, nowMs: Date.now(), withJson: false });
    requests = workload.map((request) => ({ body: request.proto, spans: request.spans }));
    totalSpans = workload.reduce((sum, request) => sum + request.spans, 0);
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.kill();
    await storage?.drop();
    storage = undefined;
  });

  const start = async (
    crash: { afterCommits?: number; afterLogSyncs?: number } = {},
  ): Promise<BenchServer> => {
    if (!storage) storage = await create();
    const server = await BenchServer.start({
      decoder: "hand",
      ...storage.location,
      // A short interval, so checkpoints happen while the test's requests arrive.
      ...(withLog ? { writeAheadLogDir: storage.writeAheadLogDir, checkpointIntervalMs: 50 } : {}),
      ...(crash.afterCommits === undefined ? {} : { crashAfterCommits: crash.afterCommits }),
      ...(crash.afterLogSyncs === undefined ? {} : { crashAfterLogSyncs: crash.afterLogSyncs }),
    });
    servers.push(server);
    return server;
  };

  /** The exporter's retry after a restart: every request without a 2xx, until each gets one. */
  const retryUnacknowledged = async (server: BenchServer, acked: readonly boolean[]) => {
    const pending = requests.filter((_, index) => !acked[index]);
    const retry = await sendRequests(pending, {
      url: server.url,
      contentType: "application/x-protobuf",
      concurrency,
    });
    expect(retry.otherStatuses).toEqual([]);
    expect(retry.acked.every(Boolean)).toBe(true);
    return pending.length;
  };

  it.skipIf(skip)(
    "counts every span exactly once after kill -9 under load and client retries",
    async () => {
      const first = await start();
      let acks = 0;
      let killed = false;
      // The kill is triggered by the 10th acknowledgement, while up to 7 more requests are in flight.
      const outcome = await sendRequests(requests, {
        url: first.url,
        contentType: "application/x-protobuf",
        concurrency,
        onAck: () => {
          acks += 1;
          if (acks === 10) {
            killed = true;
            void first.kill();
          }
        },
        shouldStop: () => killed,
      });
      await first.exited;
      const ackedBeforeCrash = outcome.acked.filter(Boolean).length;
      expect(ackedBeforeCrash).toBeGreaterThanOrEqual(10);
      expect(ackedBeforeCrash).toBeLessThan(requestCount);

      const second = await start();
      const retried = await retryUnacknowledged(second, outcome.acked);
      expect(retried).toBe(requestCount - ackedBeforeCrash);
      const report = await second.report();
      expect(report.seriesTotal).toBe(totalSpans);
      expect(report.rawTotal).toBe(totalSpans);
    },
    180_000,
  );

  it.skipIf(skip)(
    "does not count twice a request that was made durable but whose acknowledgement was lost",
    async () => {
      // The child kills itself right after its 3rd commit (log sync, with a log) became durable and
      // before any of its requests was answered: the worst case for exactly-once.
      const first = await start(withLog ? { afterLogSyncs: 3 } : { afterCommits: 3 });
      const outcome = await sendRequests(requests, {
        url: first.url,
        contentType: "application/x-protobuf",
        concurrency,
      });
      await first.waitFor(
        (line) => line.msg === (withLog ? "crashing after log sync" : "crashing after commit"),
      );
      expect(await first.exited).not.toBe(0);
      const ackedBeforeCrash = outcome.acked.filter(Boolean).length;
      expect(ackedBeforeCrash).toBeLessThan(requestCount);

      const second = await start();
      await retryUnacknowledged(second, outcome.acked);
      const report = await second.report();
      // The requests of the 3rd commit were retried and recognised by their receipts.
      expect(report.stats.duplicates).toBeGreaterThanOrEqual(1);
      // Each request holds 512 spans: only those neither acknowledged nor already committed count now.
      expect(report.stats.acceptedSpans).toBe(
        totalSpans - (ackedBeforeCrash + report.stats.duplicates) * 512,
      );
      expect(report.seriesTotal).toBe(totalSpans);
      expect(report.rawTotal).toBe(totalSpans);
    },
    180_000,
  );

  it.skipIf(skip || !withLog)(
    "replays only what no checkpoint committed when killed between a checkpoint and trimming the log",
    async () => {
      // Killed right after the first checkpoint committed, before the log segments it covers were
      // deleted: replaying them as well would count their spans twice.
      const first = await start({ afterCommits: 1 });
      const outcome = await sendRequests(requests, {
        url: first.url,
        contentType: "application/x-protobuf",
        concurrency,
      });
      // If the load ended before the timer checkpointed, a read barrier forces one (and the kill).
      void first.flush().catch(() => {});
      await first.waitFor((line) => line.msg === "crashing after commit");
      expect(await first.exited).not.toBe(0);

      const second = await start();
      await retryUnacknowledged(second, outcome.acked);
      const report = await second.report();
      expect(report.seriesTotal).toBe(totalSpans);
      expect(report.rawTotal).toBe(totalSpans);
    },
    180_000,
  );
});
