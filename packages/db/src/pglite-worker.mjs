// Embedded PGlite in a worker thread. PGlite is PostgreSQL compiled to WebAssembly: every statement,
// the parsing of its results and its file I/O run on the thread that owns it, and a large write (an
// ingest checkpoint, a rollup fold) held the server's event loop for hundreds of milliseconds, during
// which no export was read or answered. Here PGlite runs on a thread of its own and the server talks to
// it by messages (pglite-worker-client.ts), so that work runs beside the event loop, on the other core.
// Plain JavaScript so it runs on bare node, without the TypeScript loader the server may use.
//
// workerData: { dataDir?, startParams, migrationsFolder, migrate }
// Requests: { id, op: "query", sql, params, rowMode?, keepTemporalText?, transaction? }
//           { id, op: "begin" } → { transaction }, { id, op: "end", transaction, commit }, { id, op: "close" }
// Replies:  { id, ok: true, result, memory } or { id, ok: false, error, memory }
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, types } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";

const keepText = (value) => value;
// drizzle's PGlite session keeps these types as the text PostgreSQL sent and converts them itself; its
// parsers are functions, which cannot cross threads, so the flag `keepTemporalText` stands for them.
const drizzleParsers = {
  [types.TIMESTAMP]: keepText,
  [types.TIMESTAMPTZ]: keepText,
  [types.INTERVAL]: keepText,
  [types.DATE]: keepText,
  1231: keepText, // numeric[]
  1115: keepText, // timestamp[]
  1185: keepText, // timestamptz[]
  1187: keepText, // interval[]
  1182: keepText, // date[]
};

/** Thrown into a transaction's callback to make PGlite roll it back. */
const rollbackRequested = Symbol("rollback requested");

/** Open transactions by id: PGlite's transaction handle and how to end it. */
const openTransactions = new Map();
let nextTransactionId = 1;

const { dataDir, startParams, migrationsFolder } = workerData;
const client = new PGlite({ ...(dataDir ? { dataDir } : {}), startParams });

/**
 * This thread's memory: PGlite's WebAssembly memory (PGlite keeps its Emscripten module private; its heap
 * view's length is the memory's size) and the thread's own JavaScript heap, which the server's
 * process.memoryUsage() does not include.
 */
function memoryBytes() {
  const heap = Reflect.get(client, "mod")?.HEAPU8;
  return { wasm: heap ? heap.byteLength : null, heap: getHeapStatistics().total_heap_size };
}

/** Errors cross threads as plain objects: message and PostgreSQL's fields (code, detail, …). */
function serializeError(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields = {};
  for (const key of ["code", "detail", "hint", "severity", "constraint", "table", "column", "schema"]) {
    const value = Reflect.get(error, key);
    if (typeof value === "string") fields[key] = value;
  }
  return { message: error.message, name: error.name, ...fields };
}

async function run(request) {
  switch (request.op) {
    case "query": {
      const target = request.transaction ? openTransactions.get(request.transaction)?.tx : client;
      if (!target) throw new Error(`transaction ${request.transaction} is not open`);
      const result = await target.query(request.sql, request.params, {
        rowMode: request.rowMode ?? "object",
        ...(request.keepTemporalText ? { parsers: drizzleParsers } : {}),
      });
      return { rows: result.rows, affectedRows: result.affectedRows, fields: result.fields };
    }
    case "begin":
      return beginTransaction();
    case "end": {
      const open = openTransactions.get(request.transaction);
      if (!open) throw new Error(`transaction ${request.transaction} is not open`);
      openTransactions.delete(request.transaction);
      if (request.commit) open.end.resolve();
      else open.end.reject(rollbackRequested);
      try {
        await open.done;
      } catch (error) {
        if (error !== rollbackRequested) throw error;
      }
      return {};
    }
    case "close":
      await client.close();
      return {};
    default:
      throw new Error(`unknown request ${String(request.op)}`);
  }
}

/**
 * Starts a PGlite transaction whose callback stays open until an "end" request settles it: resolving
 * commits, rejecting with `rollbackRequested` rolls back. Statements of other requests wait for it, as
 * they would in process (PGlite runs one transaction at a time).
 */
function beginTransaction() {
  const id = nextTransactionId++;
  return new Promise((resolveBegin, rejectBegin) => {
    let begun = false;
    const record = { tx: undefined, end: undefined, done: undefined };
    const ended = new Promise((resolve, reject) => {
      record.end = { resolve, reject };
    });
    // A rollback rejection is expected; keep it from counting as unhandled before "end" awaits it.
    ended.catch(() => {});
    record.done = client.transaction(async (tx) => {
      record.tx = tx;
      openTransactions.set(id, record);
      begun = true;
      resolveBegin({ transaction: id });
      await ended;
    });
    record.done.catch((error) => {
      if (!begun) rejectBegin(error);
    });
  });
}

parentPort.on("message", (request) => {
  run(request).then(
    (result) => parentPort.postMessage({ id: request.id, ok: true, result, memory: memoryBytes() }),
    (error) =>
      parentPort.postMessage({
        id: request.id,
        ok: false,
        error: serializeError(error),
        memory: memoryBytes(),
      }),
  );
});

try {
  await client.waitReady;
  if (workerData.migrate) await migrate(drizzle(client), { migrationsFolder });
  parentPort.postMessage({ ready: true, memory: memoryBytes() });
} catch (error) {
  parentPort.postMessage({ ready: false, error: serializeError(error) });
  await client.close().catch(() => {});
}
