import type { IncomingMessage, ServerResponse } from "node:http";

/** Most of a refused body read and thrown away so the client sees the answer, bytes. */
const lingerBytes = 8 * 1024 * 1024;
/** Longest wait for a refused body before the connection is closed, ms. */
const lingerMs = 5_000;

/**
 * After answering before the body was fully read (401, 413, 415, 503 …), drain and discard a bounded
 * amount of it so an ordinary client can finish writing and read the answer instead of a connection
 * reset; past the byte budget or the time limit, close the connection. Memory stays flat either way.
 */
export function lingerThenClose(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.destroyed) return;
  let seen = 0;
  const close = (): void => {
    cleanup();
    // Destroying before our answer is flushed would lose it; wait for it when it is still queued.
    if (res.writableFinished) req.destroy();
    else res.once("finish", () => req.destroy());
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > lingerBytes) close();
  };
  const timer = setTimeout(close, lingerMs);
  timer.unref();
  const cleanup = (): void => {
    clearTimeout(timer);
    req.off("data", onData);
    req.off("end", cleanup);
    req.off("close", cleanup);
  };
  req.on("data", onData);
  req.on("end", cleanup);
  req.on("close", cleanup);
  // A reset client makes the request emit "error"; nothing is left to answer.
  req.on("error", () => {});
  req.resume();
}
