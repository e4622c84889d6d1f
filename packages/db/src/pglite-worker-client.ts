import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const workerScript = fileURLToPath(new URL("./pglite-worker.mjs", import.meta.url));

export interface PgliteWorkerOptions {
  /** Data directory (already initialised); none: PGlite in memory. */
  dataDir?: string;
  startParams: readonly string[];
  migrationsFolder: string;
  migrate: boolean;
}

export interface WorkerQueryOptions {
  rowMode?: "object" | "array";
  /** Keep timestamp, date and interval values as PostgreSQL's text (what drizzle's PGlite session asks for). */
  keepTemporalText?: boolean;
}

export interface WorkerQueryResult<Row> {
  rows: Row[];
  affectedRows?: number;
  fields: Array<{ name: string; dataTypeID: number }>;
}

interface WorkerError {
  message: string;
  name?: string;
  [field: string]: string | undefined;
}

/**
 * The worker thread's young generation, in MiB (V8's default here: 48, i.e. 16 MiB semi-spaces). What the
 * thread allocates lives for one statement (parameters, results, the wire protocol) and what it keeps is
 * PGlite's module (under 15 MiB of heap at the peak of bench:ingest), so a smaller nursery promotes
 * little more. bench:ingest proto on PGlite, three back-to-back pairs at load 2.6-4.9: peak RSS 482, 494,
 * 472 MiB with the default, 466, 449, 458 MiB with 12; server CPU to the database 22.8-24.0 vs 23.1-25.3
 * µs per span.
 */
const workerYoungGenerationMb = 12;

/** The worker's memory as of a reply: PGlite's WebAssembly memory and the thread's JavaScript heap. */
export interface WorkerMemory {
  wasm: number | null;
  heap: number;
}

type Reply =
  | { id: number; ok: true; result: unknown; memory: WorkerMemory }
  | { id: number; ok: false; error: WorkerError; memory: WorkerMemory };

type Startup = { ready: true; memory: WorkerMemory } | { ready: false; error: WorkerError };

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** An error raised in the worker, with PostgreSQL's fields (code, detail, constraint, …) copied over. */
function errorFrom(error: WorkerError): Error {
  const { message, name: _name, ...fields } = error;
  return Object.assign(new Error(message), fields);
}

/**
 * Embedded PGlite on a worker thread (pglite-worker.mjs), spoken to by messages. Statements, result
 * parsing and PGlite's file I/O run on that thread, so a long write no longer stops the event loop that
 * reads and answers exports. Transactions keep PGlite's semantics: one at a time, other statements wait.
 *
 * An open database keeps the process alive, as embedded PGlite did in process: a process that only waits
 * for unreferenced timers (a delivery worker on its own) would otherwise exit. `close()` releases it.
 */
export class PgliteWorkerClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastMemory: WorkerMemory = { wasm: null, heap: 0 };
  private failure: Error | null = null;
  private isClosed = false;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: Reply) => this.settle(reply));
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`the PGlite worker exited (code ${code})`)));
  }

  /** Starts the worker, opens PGlite and applies migrations there; resolves once it answers queries. */
  static async start(options: PgliteWorkerOptions): Promise<PgliteWorkerClient> {
    const worker = new Worker(workerScript, {
      workerData: { ...options, startParams: [...options.startParams] },
      // Node's own flags (a TypeScript loader, profiling) are not for a plain-JavaScript worker.
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: workerYoungGenerationMb },
    });
    const startup = await new Promise<Startup>((resolve, reject) => {
      const onExit = (code: number): void =>
        reject(new Error(`the PGlite worker exited while starting (code ${code})`));
      worker.once("error", reject);
      worker.once("exit", onExit);
      worker.once("message", (message: Startup) => {
        worker.off("error", reject);
        worker.off("exit", onExit);
        resolve(message);
      });
    });
    if (!startup.ready) {
      await worker.terminate();
      throw errorFrom(startup.error);
    }
    const client = new PgliteWorkerClient(worker);
    client.lastMemory = startup.memory;
    return client;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The worker's memory in bytes, as of the last reply. */
  memory(): WorkerMemory {
    return this.lastMemory;
  }

  query<Row>(
    sqlText: string,
    params?: readonly unknown[],
    options: WorkerQueryOptions = {},
    transaction?: number,
  ): Promise<WorkerQueryResult<Row>> {
    return this.request({
      op: "query",
      sql: sqlText,
      params: params ? [...params] : [],
      ...options,
      ...(transaction !== undefined ? { transaction } : {}),
    }) as Promise<WorkerQueryResult<Row>>;
  }

  /**
   * Runs `work` in one transaction: commits when it resolves, rolls back when it throws. `work` gets a
   * query function bound to the transaction.
   */
  async transaction<T>(
    work: (
      query: <Row>(
        sqlText: string,
        params?: readonly unknown[],
        options?: WorkerQueryOptions,
      ) => Promise<WorkerQueryResult<Row>>,
    ) => Promise<T>,
  ): Promise<T> {
    const { transaction } = (await this.request({ op: "begin" })) as { transaction: number };
    let result: T;
    try {
      result = await work((sqlText, params, options) => this.query(sqlText, params, options, transaction));
    } catch (error) {
      await this.request({ op: "end", transaction, commit: false }).catch(() => {});
      throw error;
    }
    await this.request({ op: "end", transaction, commit: true });
    return result;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    try {
      await this.request({ op: "close" });
    } finally {
      this.isClosed = true;
      // A statement still unanswered now never will be: settle it rather than leave its caller waiting.
      const closed = new Error("the PGlite database was closed before answering");
      for (const pending of this.pending.values()) pending.reject(closed);
      this.pending.clear();
      await this.worker.terminate();
    }
  }

  private request(message: Record<string, unknown>): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.isClosed) return Promise.reject(new Error("the PGlite database is closed"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    this.lastMemory = reply.memory;
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(errorFrom(reply.error));
  }

  private fail(error: Error): void {
    if (this.isClosed) return;
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }
}
