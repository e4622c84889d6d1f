import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe } from "vitest";
import { createDb, type Database, type DbHandle } from "../create-db.ts";

/** The PostgreSQL server the storage tests also run on. Trust auth on this machine kind. */
export const testPostgresUrl =
  process.env.FAULTLINE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** When set (CI does), an unreachable PostgreSQL fails the run instead of skipping its half. */
const postgresRequired = process.env.FAULTLINE_REQUIRE_POSTGRES === "1";

const postgresProbe = await probePostgres(testPostgresUrl);

export interface DatabaseTestContext {
  /** The drizzle handle of this run's fresh database. Call inside tests or hooks. */
  db(): Database;
  handle(): DbHandle;
}

/**
 * Declares the same suite twice: on in-memory PGlite and on a fresh database of the real PostgreSQL
 * server, created for this file and dropped after it, so suites never see each other's rows.
 */
export function describeEachDatabase(title: string, body: (context: DatabaseTestContext) => void): void {
  describeOn("pglite", title, body);
  if (!postgresProbe.ok) {
    if (postgresRequired) {
      throw new Error(`PostgreSQL is required (FAULTLINE_REQUIRE_POSTGRES=1) but ${postgresProbe.reason}`);
    }
    console.warn(`[faultline] SKIPPING the PostgreSQL run of "${title}": ${postgresProbe.reason}`);
  }
  describeOn("postgres", title, body, !postgresProbe.ok);
}

function describeOn(
  engine: "pglite" | "postgres",
  title: string,
  body: (context: DatabaseTestContext) => void,
  skip = false,
): void {
  describe.skipIf(skip)(`${title} [${engine}]`, () => {
    let handle: DbHandle | undefined;
    let dropDatabase: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      if (engine === "pglite") {
        handle = await createDb();
        return;
      }
      const fresh = await createScratchDatabase(testPostgresUrl);
      dropDatabase = fresh.drop;
      handle = await createDb({ databaseUrl: fresh.url, poolSize: 4 });
      // Starting PGlite's WASM alone is ~3–5 s of CPU; with turbo running every package's suites at
      // once on two cores it took over a minute in CI. A safety net, not a performance bound.
    }, 180_000);
    afterAll(async () => {
      await handle?.close();
      await dropDatabase?.();
    }, 60_000);
    const current = (): DbHandle => {
      if (!handle) throw new Error("database not open yet: use it inside a test or hook");
      return handle;
    };
    body({ db: () => current().db, handle: current });
  });
}

/** Creates an empty database on the server for one suite; `drop()` removes it again. */
export async function createScratchDatabase(
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `faultline_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function probePostgres(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `PostgreSQL at ${url} is unreachable (${(error as Error).message})` };
  } finally {
    await client.end().catch(() => {});
  }
}
