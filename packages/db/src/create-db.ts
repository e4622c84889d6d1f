import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
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
  close(): Promise<void>;
}

/** A raw parameterised query inside a transaction; returns the rows. */
export type RawQuery = <Row>(sqlText: string, params?: readonly unknown[]) => Promise<Row[]>;

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
      close: () => pool.end(),
    };
  }
  const client = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite(client, { schema });
  try {
    if (shouldMigrate) await migratePglite(db, { migrationsFolder });
  } catch (error) {
    await client.close();
    throw error;
  }
  // PGlite has no autovacuum: without this its planner never learns a table's size (plans for an
  // empty database on a million rows). Refreshed now, then periodically; a failure only costs plans.
  let statisticsTimer: ReturnType<typeof setInterval> | undefined;
  const handle: DbHandle = {
    db: db as unknown as Database,
    engine: "pglite",
    location: options.dataDir ?? "memory",
    query: async <Row>(sqlText: string, params?: readonly unknown[]) => {
      const result = await client.query<Row>(sqlText, params ? [...params] : undefined);
      return result.rows;
    },
    transaction: (work) =>
      client.transaction((tx) =>
        work(async <Row>(sqlText: string, params?: readonly unknown[]) => {
          const result = await tx.query<Row>(sqlText, params ? [...params] : undefined);
          return result.rows;
        }),
      ),
    close: () => {
      clearInterval(statisticsTimer);
      return client.close();
    },
  };
  await refreshPlannerStatistics(handle).catch(() => []);
  statisticsTimer = setInterval(() => {
    if (!client.closed) void refreshPlannerStatistics(handle).catch(() => []);
  }, plannerStatisticsIntervalMs);
  statisticsTimer.unref();
  return handle;
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
