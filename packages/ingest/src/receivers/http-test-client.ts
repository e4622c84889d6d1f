// Test support only: a tiny HTTP client over real loopback sockets that reports the answer even
// when the server stops reading the body early (which is exactly what the 413 paths do).
import { request as httpRequest } from "node:http";
import { connect } from "node:net";

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface TestRequest {
  port: number;
  path?: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  /** A single buffer, or chunks written one by one without Content-Length (chunked encoding). */
  body?: Uint8Array | readonly Uint8Array[];
}

/** Sends one request on a fresh connection; resolves with the response, rejects only without one. */
export function send(req: TestRequest): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string | string[]> = { ...(req.headers ?? {}) };
    const body = req.body;
    if (body instanceof Uint8Array && headers["content-length"] === undefined) {
      headers["content-length"] = String(body.length);
    }
    const r = httpRequest(
      {
        host: "127.0.0.1",
        port: req.port,
        path: req.path ?? "/v1/traces",
        method: req.method ?? "POST",
        headers,
        agent: false,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    r.on("error", (err) => {
      if (!answered) reject(err);
    });
    if (body === undefined) r.end();
    else if (body instanceof Uint8Array) r.end(body);
    else {
      const writeAll = async (): Promise<void> => {
        for (const chunk of body) {
          if (r.destroyed) return;
          if (!r.write(chunk)) {
            await new Promise<void>((done) => {
              const settle = (): void => {
                r.off("drain", settle);
                r.off("close", settle);
                done();
              };
              r.on("drain", settle);
              r.on("close", settle);
            });
          }
        }
        r.end();
      };
      writeAll().catch(() => {});
    }
  });
}

/** Writes raw bytes on a socket and collects whatever comes back until the server closes it. */
export function sendRaw(
  port: number,
  chunks: readonly (string | Uint8Array)[],
  options: { gapMs?: number; waitMs?: number } = {},
): Promise<{ text: string; closedByServer: boolean; elapsedMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    let closedByServer = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve({
        text: Buffer.concat(received).toString("latin1"),
        closedByServer,
        elapsedMs: Date.now() - started,
      });
    };
    const giveUp = setTimeout(finish, options.waitMs ?? 10_000);
    socket.on("data", (c: Buffer) => received.push(c));
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", () => {
      closedByServer = true;
      finish();
    });
    socket.on("error", () => {});
    const gap = options.gapMs ?? 0;
    const writeAll = async (): Promise<void> => {
      for (const chunk of chunks) {
        if (socket.destroyed || done) return;
        socket.write(chunk);
        if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      }
    };
    socket.on("connect", () => {
      writeAll().catch(() => {});
    });
  });
}
