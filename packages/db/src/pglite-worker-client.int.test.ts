import { afterEach, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "./create-db.ts";

// Embedded PGlite on a worker thread (createDb's embeddedOnWorkerThread): the event loop keeps turning
// while a statement runs, and transactions, errors and results behave as with PGlite in process.

describe("embedded PGlite on a worker thread", () => {
  const handles: DbHandle[] = [];
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
  });
  const open = async (): Promise<DbHandle> => {
    const handle = await createDb({ migrate: false, embeddedOnWorkerThread: true });
    handles.push(handle);
    return handle;
  };

  it("keeps the event loop turning while a long statement runs", async () => {
    const db = await open();
    let turns = 0;
    let running = true;
    const turn = (): void => {
      turns += 1;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    // Some hundreds of milliseconds of PostgreSQL work in one statement. In process, WebAssembly runs it
    // synchronously: the loop turns a few times around it, never during it.
    const [row] = await db.query<{ total: string }>(
      "SELECT sum(g)::text AS total FROM generate_series(1, 3000000) AS g",
    );
    running = false;
    expect(row?.total).toBe("4500001500000");
    expect(turns).toBeGreaterThan(100);
  });

  it("commits a transaction that resolves and rolls back one that throws, with PostgreSQL's error fields", async () => {
    const db = await open();
    await db.query("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)");
    await db.transaction(async (query) => {
      await query("INSERT INTO notes VALUES (1, 'kept')");
    });
    const failure = await db
      .transaction(async (query) => {
        await query("INSERT INTO notes VALUES (2, 'rolled back')");
        await query("INSERT INTO notes VALUES (1, 'duplicate')");
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ code: "23505", constraint: "notes_pkey" });
    expect(await db.query("SELECT id, body FROM notes ORDER BY id")).toEqual([{ id: 1, body: "kept" }]);
    // Statements outside a transaction wait for it, as in process: the insert lands after the commit.
    const inTransaction = db.transaction(async (query) => {
      await query("INSERT INTO notes VALUES (3, 'first')");
      return (await query<{ n: number }>("SELECT count(*)::int AS n FROM notes"))[0]?.n;
    });
    const outside = db.query("INSERT INTO notes VALUES (4, 'second')");
    expect(await inTransaction).toBe(2);
    await outside;
    expect((await db.query<{ id: number }>("SELECT id FROM notes ORDER BY id")).map((row) => row.id)).toEqual(
      [1, 3, 4],
    );
  });

  it("returns values of every kind as PGlite parses them, and reports its memory", async () => {
    const db = await open();
    const [row] = await db.query<Record<string, unknown>>(
      "SELECT timestamptz '2026-12-06 10:00:00+00' AS at, '{\"a\": [1, 2]}'::jsonb AS doc, " +
        "'\\x0102'::bytea AS bytes, $1::text AS param",
      ["passed"],
    );
    expect(row?.at).toEqual(new Date("2026-12-06T10:00:00Z"));
    expect(row?.doc).toEqual({ a: [1, 2] });
    expect(row?.bytes).toEqual(new Uint8Array([1, 2]));
    expect(row?.param).toBe("passed");
    expect(db.embeddedMemory()?.wasm).toBeGreaterThan(0);
    expect(db.embeddedMemory()?.heap).toBeGreaterThan(0);
  });

  it("refuses queries once closed", async () => {
    const db = await createDb({ migrate: false, embeddedOnWorkerThread: true });
    await db.close();
    await expect(db.query("SELECT 1")).rejects.toThrow(/closed/);
  });
});
