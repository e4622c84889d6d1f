import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDb } from "./create-db.ts";
import { recordChangeEvent } from "./repositories/change-event-repository.ts";
import { createScratchDatabase, describeEachDatabase, testPostgresUrl } from "./testing/index.ts";

describeEachDatabase("createDb", ({ handle }) => {
  it("applies every migration, including the sketch merge functions", async () => {
    const tables = await handle().query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((row) => row.table_name)).toEqual([
      "change_events",
      "error_exemplars",
      "graph_edges",
      "incident_events",
      "incident_suspects",
      "incidents",
      "ingest_receipts",
      "notification_deliveries",
      "notification_destinations",
      "notification_events",
      "notification_mutes",
      "notification_rules",
      "postmortem_action_items",
      "postmortem_chart_snapshots",
      "postmortem_revisions",
      "postmortem_templates",
      "postmortems",
      "rollup_pending",
      "series",
      "series_buckets",
      "service_buckets",
      "service_instance_versions",
      "services",
    ]);
    const merged = await handle().query<{ bins: Record<string, number> }>(
      `SELECT faultline_sketch_add('{"1":2,"5":1}'::jsonb, '{"5":3,"7":1}'::jsonb) AS bins`,
    );
    expect(merged[0]?.bins).toEqual({ "1": 2, "5": 4, "7": 1 });
  });

  it("reports its engine", () => {
    expect(["pglite", "postgres"]).toContain(handle().engine);
  });
});

describe("createDb on disk", () => {
  it("keeps data in a PGlite data directory across a close and reopen", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "faultline-db-"));
    try {
      const first = await createDb({ dataDir });
      const startedAt = new Date("2026-11-27T10:00:00Z");
      const { id } = await recordChangeEvent(first.db, {
        environment: "production",
        service: "identity",
        kind: "config",
        source: "api",
        startedAt,
        idempotencyKey: "disk-test",
      });
      await first.close();

      const second = await createDb({ dataDir });
      const again = await recordChangeEvent(second.db, {
        environment: "production",
        service: "identity",
        kind: "config",
        source: "api",
        startedAt,
        idempotencyKey: "disk-test",
      });
      await second.close();
      expect(again).toEqual({ id, created: false });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("opens a PGlite data directory with the memory-bounding settings, on first start and after", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "faultline-db-"));
    try {
      for (const start of ["creates the directory", "reopens it"]) {
        const handle = await createDb({ dataDir });
        try {
          const [settings] = await handle.query<{ shared_buffers: string; maintenance_work_mem: string }>(
            "SELECT current_setting('shared_buffers') AS shared_buffers, " +
              "current_setting('maintenance_work_mem') AS maintenance_work_mem",
          );
          expect({ start, ...settings }).toEqual({
            start,
            shared_buffers: "16MB",
            maintenance_work_mem: "16MB",
          });
          // Untouched beyond PGlite's initial 128 MiB: shared_buffers fit in it, initdb ran elsewhere.
          expect(handle.embeddedMemory()?.wasm).toBe(128 * 1024 * 1024);
        } finally {
          await handle.close();
        }
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("says which data directory could not be initialised, and why", async () => {
    const parent = await mkdtemp(join(tmpdir(), "faultline-db-"));
    try {
      const blocker = join(parent, "not-a-directory");
      await writeFile(blocker, "");
      await expect(createDb({ dataDir: join(blocker, "db") })).rejects.toThrow(
        /initialising the PGlite data directory .*not-a-directory\/db failed/,
      );
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it("masks the password of a PostgreSQL URL in its location", async () => {
    const scratch = await createScratchDatabase(testPostgresUrl).catch(() => undefined);
    if (!scratch) return; // covered by the skip message of the suites above
    const withPassword = new URL(scratch.url);
    withPassword.password = "s3cret";
    const handle = await createDb({ databaseUrl: withPassword.toString(), migrate: false });
    try {
      expect(handle.location).not.toContain("s3cret");
      expect(handle.location).toContain("***");
    } finally {
      await handle.close();
      await scratch.drop();
    }
  });
});
