// Creates a PGlite data directory (runs initdb) and exits; createDb runs it as a child process so that
// initdb's memory peak, several hundred MB of WebAssembly memory, is never part of the server's
// resident set: a WebAssembly memory never shrinks and V8 does not hand freed memories back promptly.
// Plain JavaScript so it runs on bare node, without the TypeScript loader the server may use.
//   node initialize-pglite-data-dir.mjs DATA_DIR START_PARAMS_JSON INITDB_PARAMS_JSON
import { PGlite } from "@electric-sql/pglite";

const [dataDir, startParams, initDbStartParams] = process.argv.slice(2);
if (!dataDir || !startParams || !initDbStartParams) {
  process.stderr.write(
    "usage: initialize-pglite-data-dir.mjs DATA_DIR START_PARAMS_JSON INITDB_PARAMS_JSON\n",
  );
  process.exit(2);
}
const client = new PGlite({
  dataDir,
  startParams: JSON.parse(startParams),
  initDbStartParams: JSON.parse(initDbStartParams),
});
await client.waitReady;
await client.close();
