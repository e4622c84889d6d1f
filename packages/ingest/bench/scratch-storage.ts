/**
 * Fresh storage for one benchmark run or test: a temporary PGlite data directory, or a scratch database
 * on the PostgreSQL server (created through @faultline/db, so this package needs no driver of its own).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb } from "@faultline/db";

export const postgresServerUrl =
  process.env.FAULTLINE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface ScratchStorage {
  engine: "pglite" | "postgres";
  /** What to pass to the bench server. */
  location: { dataDir: string } | { databaseUrl: string };
  /** A fresh directory for the ingest write-ahead log, beside the database. */
  writeAheadLogDir: string;
  drop(): Promise<void>;
}

export async function createScratchPglite(): Promise<ScratchStorage> {
  const dataDir = await mkdtemp(join(tmpdir(), "faultline-ingest-"));
  const writeAheadLogDir = await mkdtemp(join(tmpdir(), "faultline-ingest-wal-"));
  return {
    engine: "pglite",
    location: { dataDir },
    writeAheadLogDir,
    drop: async () => {
      await rm(dataDir, { recursive: true, force: true });
      await rm(writeAheadLogDir, { recursive: true, force: true });
    },
  };
}

async function onServer<T>(work: (query: (sql: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const admin = await createDb({ databaseUrl: postgresServerUrl, migrate: false, poolSize: 1 });
  try {
    return await work((sql) => admin.query(sql));
  } finally {
    await admin.close();
  }
}

export async function createScratchPostgres(): Promise<ScratchStorage> {
  const name = `faultline_ingest_${randomBytes(6).toString("hex")}`;
  await onServer((query) => query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresServerUrl);
  url.pathname = `/${name}`;
  const writeAheadLogDir = await mkdtemp(join(tmpdir(), "faultline-ingest-wal-"));
  return {
    engine: "postgres",
    location: { databaseUrl: url.toString() },
    writeAheadLogDir,
    drop: async () => {
      await onServer((query) => query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await rm(writeAheadLogDir, { recursive: true, force: true });
    },
  };
}

/** Whether the PostgreSQL server answers; the bench and tests skip (loudly) what needs it when not. */
export async function postgresReachable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await onServer((query) => query("SELECT 1"));
    return { ok: true };
  } catch (error) {
    return {
      ok: false,
      reason: `PostgreSQL at ${postgresServerUrl} is unreachable (${(error as Error).message})`,
    };
  }
}
