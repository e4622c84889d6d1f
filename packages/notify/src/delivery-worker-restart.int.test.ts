import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createDb,
  type DbHandle,
  listIncidentDeliveries,
  saveIncident,
  upsertNotificationDestination,
  upsertNotificationRule,
} from "@faultline/db";
import { createScratchDatabase, testPostgresUrl } from "@faultline/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { DeliveryWorker } from "./delivery-worker.ts";
import { startReceiver, waitFor } from "./testing/start-receiver.ts";

// A real restart: the worker runs in a child process that is SIGKILLed while the receiver holds its
// request; the restarted worker delivers the page once the dead one's lease expires. Nothing is lost,
// and the only duplicate is the documented one, with the same idempotency key.

const workerScript = fileURLToPath(new URL("./testing/run-delivery-worker.ts", import.meta.url));
const leaseMs = 3_000;

async function seed(db: DbHandle, url: string): Promise<void> {
  await upsertNotificationDestination(db, {
    id: "oncall",
    kind: "webhook",
    name: "oncall",
    settings: { url },
    enabled: true,
    rateLimitPerMinute: 30,
    source: "api",
  });
  await upsertNotificationRule(db, {
    id: "all",
    destinationId: "oncall",
    environments: [],
    services: [],
    minSeverity: "sev4",
    signals: [],
    events: [],
    enabled: true,
    source: "api",
  });
  const now = Date.now();
  await saveIncident(db, {
    id: "inc-restart",
    environment: "production",
    title: "identity errors",
    status: "open",
    severity: "sev1",
    signal: "error_rate",
    rootService: "identity",
    startedAtMs: now - 60_000,
    detectedAtMs: now - 30_000,
    endedAtMs: null,
    services: ["identity"],
    surfaces: ["web"],
    affectedUsers: 100,
    causeChangeId: null,
    suspects: [],
    events: [],
  });
}

const engines = [
  { name: "PGlite on disk", postgres: false },
  { name: "PostgreSQL", postgres: true },
] as const;

describe("a delivery worker killed mid-delivery", () => {
  let child: ChildProcess | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    child?.kill("SIGKILL");
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  }, 60_000);

  for (const engine of engines) {
    it(`loses nothing and duplicates only under the idempotency key (${engine.name})`, async () => {
      const receiver = await startReceiver((_, index) => (index === 0 ? "hang" : { status: 200 }));
      cleanups.push(() => receiver.close());
      let open: () => Promise<DbHandle>;
      let env: Record<string, string>;
      if (engine.postgres) {
        let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
        try {
          scratch = await createScratchDatabase(testPostgresUrl);
        } catch (error) {
          if (process.env.FAULTLINE_REQUIRE_POSTGRES === "1") throw error;
          console.warn(`[faultline] SKIPPING the PostgreSQL restart test: ${(error as Error).message}`);
          return;
        }
        cleanups.push(() => scratch.drop());
        open = () => createDb({ databaseUrl: scratch.url, poolSize: 2 });
        env = { FAULTLINE_TEST_WORKER_DATABASE_URL: scratch.url };
      } else {
        const dir = await mkdtemp(join(tmpdir(), "faultline-notify-restart-"));
        cleanups.push(() => rm(dir, { recursive: true, force: true }));
        open = () => createDb({ dataDir: join(dir, "data") });
        env = { FAULTLINE_TEST_WORKER_DATA_DIR: join(dir, "data") };
      }
      // PGlite on disk has one owner at a time: seed, close, then hand the directory to the child.
      const seeding = await open();
      await seed(seeding, receiver.url);
      await seeding.close();

      child = spawn(process.execPath, ["--import", "tsx", workerScript], {
        env: { ...process.env, ...env, FAULTLINE_TEST_WORKER_LEASE_MS: String(leaseMs) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      // Generous: on a loaded machine the child spends a while starting tsx and opening PGlite.
      await waitFor(() => receiver.requests.length === 1, 200_000, "the child worker's request");
      child.kill("SIGKILL");
      await exited;

      const db = await open();
      cleanups.push(() => db.close());
      const [held] = await listIncidentDeliveries(db, "inc-restart");
      expect(held).toMatchObject({ status: "sending", attempts: 1 });
      const restarted = new DeliveryWorker({ db, publicUrl: "http://faultline.test", pollMs: 100, leaseMs });
      cleanups.push(() => restarted.close());
      restarted.start();
      await waitFor(
        async () => (await listIncidentDeliveries(db, "inc-restart"))[0]?.status === "delivered",
        60_000,
        "the restarted worker's delivery",
      );
      expect((await listIncidentDeliveries(db, "inc-restart"))[0]).toMatchObject({
        status: "delivered",
        attempts: 2,
      });
      const keys = receiver.requests.map((request) => request.headers["idempotency-key"]);
      expect(keys).toEqual(["inc-restart/opened/oncall", "inc-restart/opened/oncall"]);
    }, 300_000);
  }
});
