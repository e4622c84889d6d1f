import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { PgliteWorkerClient, type WorkerQueryOptions } from "./pglite-worker-client.ts";
import { plannerStatisticsIntervalMs, refreshPlannerStatistics } from "./planner-statistics.ts";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;

/** The one typed handle every repository takes, whichever engine is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export interface CreateDbOptions {
  /** A PostgreSQL connection string. Takes precedence over `dataDir`. */
  databaseUrl?: string;
  /** Directory for embedded PGlite. Neither option: PGlite in memory (tests). */
  dataDir?: string;
  /** Apply pending migrations before returning. Default true. */
  migrate?: boolean;
  /** Connection pool size for PostgreSQL. Default 10. */
  poolSize?: number;
  /**
   * Run embedded PGlite on a worker thread of its own (decision 5), so its statements do not hold the
   * caller's event loop. Default true; false runs it on the calling thread.
   */
  embeddedOnWorkerThread?: boolean;
}

export interface DbHandle {
  db: Database;
  engine: "pglite" | "postgres";
  /** Where the data lives, with any password masked; safe to log. */
  location: string;
  /**
   * Runs one raw parameterised SQL statement on the underlying client and returns its rows. For hot
   * paths where drizzle's query builder costs too much (bulk upserts), maintenance and tests.
   */
  query<Row>(sqlText: string, params?: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs `work` in one transaction on one connection, with raw queries; commits when it resolves and
   * rolls back when it throws. What it wrote is durable once the returned promise resolves.
   */
  transaction<T>(work: (query: RawQuery) => Promise<T>): Promise<T>;
  /**
   * Embedded PGlite's memory in bytes (null on PostgreSQL): its WebAssembly memory, which only ever
   * grows, and the JavaScript heap of the worker thread it runs on. Both are much of an embedded
   * server's resident memory and neither shows in the server thread's process.memoryUsage(), so memory
   * diagnostics report them.
   */
  embeddedMemory(): { wasm: number | null; heap: number | null } | null;
  close(): Promise<void>;
}

/** A raw parameterised query inside a transaction; returns the rows. */
export type RawQuery = <Row>(sqlText: string, params?: readonly unknown[]) => Promise<Row[]>;

/**
 * PostgreSQL settings that bound embedded PGlite's memory. Its WebAssembly memory never shrinks and
 * PGlite touches all of shared_buffers when it starts, so PostgreSQL's default 128 MB alone was a third
 * of the server's resident set. PGlite's data files are ordinary files, so a page evicted from these
 * buffers is still in the OS page cache: reading it again costs a copy, not a disk access.
 */
export const embeddedMemorySettings: readonly string[] = [
  "-c",
  "shared_buffers=16MB",
  // Index builds and VACUUM (migrations, maintenance) could otherwise grow that memory by 64 MB for good.
  "-c",
  "maintenance_work_mem=16MB",
];

const initializeDataDirScript = fileURLToPath(new URL("./initialize-pglite-data-dir.mjs", import.meta.url));

export const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

/**
 * Opens embedded PGlite (on disk or in memory) or a PostgreSQL pool behind the same drizzle handle,
 * and applies the committed migrations. Each call returns an independent handle: there is no
 * module-level singleton, so tests and several servers in one process never share state.
 */
export async function createDb(options: CreateDbOptions = {}): Promise<DbHandle> {
  const shouldMigrate = options.migrate ?? true;
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client that errors (server restart) must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    const db = drizzleNodePg(pool, { schema });
    try {
      if (shouldMigrate) await migrateNodePg(db, { migrationsFolder });
    } catch (error) {
      await pool.end();
      throw error;
    }
    return {
      db: db as unknown as Database,
      engine: "postgres",
      location: maskPassword(options.databaseUrl),
      query: async <Row>(sqlText: string, params?: readonly unknown[]) => {
        const result = await pool.query(sqlText, params ? [...params] : undefined);
        return result.rows as Row[];
      },
      transaction: async (work) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const result = await work(async <Row>(sqlText: string, params?: readonly unknown[]) => {
            const rows = await client.query(sqlText, params ? [...params] : undefined);
            return rows.rows as Row[];
          });
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      embeddedMemory: () => null,
      close: () => pool.end(),
    };
  }
  if (options.dataDir) await initializeDataDir(options.dataDir);
  if (options.embeddedOnWorkerThread === false) return openPgliteInProcess(options, shouldMigrate);
  const client = await PgliteWorkerClient.start({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    startParams: [...PGlite.defaultStartParams, ...embeddedMemorySettings],
    migrationsFolder,
    migrate: shouldMigrate,
  });
  const db = drizzlePglite(drizzleClientOf(client), { schema });
  return withPlannerStatistics(
    {
      db: db as unknown as Database,
      engine: "pglite",
      location: options.dataDir ?? "memory",
      query: async <Row>(sqlText: string, params?: readonly unknown[]) =>
        (await client.query<Row>(sqlText, params)).rows,
      transaction: (work) =>
        client.transaction((query) =>
          work(
            async <Row>(sqlText: string, params?: readonly unknown[]) =>
              (await query<Row>(sqlText, params)).rows,
          ),
        ),
      embeddedMemory: () => client.memory(),
      close: () => client.close(),
    },
    () => client.closed,
  );
}

/**
 * PGlite has no autovacuum: without this its planner never learns a table's size (plans for an empty
 * database on a million rows). Refreshed now, then periodically until the handle closes; a failure only
 * costs plans.
 */
async function withPlannerStatistics(handle: DbHandle, isClosed: () => boolean): Promise<DbHandle> {
  await refreshPlannerStatistics(handle).catch(() => []);
  const statisticsTimer = setInterval(() => {
    if (!isClosed()) void refreshPlannerStatistics(handle).catch(() => []);
  }, plannerStatisticsIntervalMs);
  statisticsTimer.unref();
  const close = handle.close;
  return {
    ...handle,
    close: () => {
      clearInterval(statisticsTimer);
      return close();
    },
  };
}

/**
 * Runs initdb for a data directory that has none yet, in a child process (initialize-pglite-data-dir.mjs):
 * in this process it peaked near 800 MB of RSS and left ~100 MB more resident for good (PGlite runs it
 * in a second WebAssembly instance). A directory PGlite already
 * initialised (it holds PG_VERSION) is opened as it is. Paths with a scheme (memory://, idb://) are left
 * to PGlite.
 */
async function initializeDataDir(dataDir: string): Promise<void> {
  if (dataDir.includes("://") || existsSync(join(dataDir, "PG_VERSION"))) return;
  const startParams = JSON.stringify([...PGlite.defaultStartParams, ...embeddedMemorySettings]);
  const initDbStartParams = JSON.stringify(embeddedMemorySettings);
  const child = spawn(process.execPath, [initializeDataDirScript, dataDir, startParams, initDbStartParams], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  if (exitCode !== 0) {
    throw new Error(
      `initialising the PGlite data directory ${dataDir} failed (exit ${exitCode}): ${stderr.trim()}`,
    );
  }
}

/** Embedded PGlite on the calling thread: every statement runs on its event loop. */
async function openPgliteInProcess(options: CreateDbOptions, shouldMigrate: boolean): Promise<DbHandle> {
  const client = new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    startParams: [...PGlite.defaultStartParams, ...embeddedMemorySettings],
  });
  await client.waitReady;
  const db = drizzlePglite(client, { schema });
  try {
    if (shouldMigrate) await migratePglite(db, { migrationsFolder });
  } catch (error) {
    await client.close();
    throw error;
  }
  return withPlannerStatistics(
    {
      db: db as unknown as Database,
      engine: "pglite",
      location: options.dataDir ?? "memory",
      query: async <Row>(sqlText: string, params?: readonly unknown[]) =>
        (await client.query<Row>(sqlText, params ? [...params] : undefined)).rows,
      transaction: (work) =>
        client.transaction((tx) =>
          work(
            async <Row>(sqlText: string, params?: readonly unknown[]) =>
              (await tx.query<Row>(sqlText, params ? [...params] : undefined)).rows,
          ),
        ),
      // Its JavaScript heap is this thread's, in process.memoryUsage().
      embeddedMemory: () => ({ wasm: wasmMemoryBytes(client), heap: null }),
      close: () => client.close(),
    },
    () => client.closed,
  );
}

/** PGlite keeps its Emscripten module private; its heap view's length is the WebAssembly memory size. */
function wasmMemoryBytes(client: PGlite): number | null {
  const heap = (Reflect.get(client, "mod") as { HEAPU8?: Uint8Array } | undefined)?.HEAPU8;
  return heap ? heap.byteLength : null;
}

function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres (unparseable URL)";
  }
}

/** PGlite's query options as drizzle's PGlite session passes them: a row mode and, for dates, parsers. */
interface DrizzleQueryConfig {
  rowMode?: "object" | "array";
  parsers?: unknown;
}

/**
 * The part of PGlite's client interface drizzle's PGlite session uses (query and transaction), served by
 * the worker. drizzle's parsers only keep dates as text; they are functions and cannot cross threads,
 * so they travel as a flag and the worker applies the same ones.
 */
function drizzleClientOf(client: PgliteWorkerClient): PGlite {
  const optionsOf = (config?: DrizzleQueryConfig): WorkerQueryOptions => ({
    ...(config?.rowMode ? { rowMode: config.rowMode } : {}),
    ...(config?.parsers ? { keepTemporalText: true } : {}),
  });
  type Query = (sqlText: string, params?: unknown[], config?: DrizzleQueryConfig) => Promise<unknown>;
  const facade: { query: Query; transaction<T>(callback: (tx: { query: Query }) => Promise<T>): Promise<T> } =
    {
      query: (sqlText, params, config) => client.query(sqlText, params, optionsOf(config)),
      transaction: (callback) =>
        client.transaction((query) =>
          callback({ query: (sqlText, params, config) => query(sqlText, params, optionsOf(config)) }),
        ),
    };
  return facade as unknown as PGlite;
}
