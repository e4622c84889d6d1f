// A delivery worker in its own process, for the restart test: it is killed with SIGKILL mid-delivery.
import { createDb } from "@faultline/db";
import { DeliveryWorker } from "../delivery-worker.ts";

const databaseUrl = process.env.FAULTLINE_TEST_WORKER_DATABASE_URL;
const dataDir = process.env.FAULTLINE_TEST_WORKER_DATA_DIR;
const db = await createDb(databaseUrl ? { databaseUrl } : { dataDir: dataDir ?? "" });
const worker = new DeliveryWorker({
  db,
  publicUrl: "http://faultline.test",
  owner: "child-worker",
  pollMs: 100,
  timeoutMs: 60_000,
  leaseMs: Number(process.env.FAULTLINE_TEST_WORKER_LEASE_MS ?? 3_000),
  routing: { openHoldMs: 0, resolveHoldMs: 0 },
});
worker.start();
process.stdout.write("started\n");
