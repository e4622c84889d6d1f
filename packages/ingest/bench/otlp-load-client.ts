/**
 * An OTLP/HTTP load client for the benchmark and the durability tests: a fixed number of requests in
 * flight over keep-alive connections, each request's outcome recorded, 503s retried after their
 * Retry-After like an OTLP exporter does.
 */
import { Agent, request as httpRequest } from "node:http";

export interface LoadRequest {
  body: Uint8Array;
  spans: number;
}

export interface SendOptions {
  /** `http://host:port/v1/traces` */
  url: string;
  contentType: "application/x-protobuf" | "application/json";
  contentEncoding?: "gzip";
  concurrency: number;
  /**
   * Upper bound on how long a 503 waits before its retry, in ms. The bench lowers it so a rare 503 does
   * not stall a run for a whole Retry-After second; tests leave it at the server's value.
   */
  maxRetryDelayMs?: number;
  /** Called after each 2xx, with the request's index. */
  onAck?: (index: number) => void;
  /** When it returns true, no new request is started (in-flight ones still finish or fail). */
  shouldStop?: () => boolean;
}

export interface SendResult {
  /** Per request: true once a 2xx came back. */
  acked: boolean[];
  /** Requests that failed without an answer (connection refused or reset). */
  connectionErrors: number;
  /** 503 answers (each was retried). */
  overloaded: number;
  /** Answers other than 2xx and 503 (never retried: the bench and tests treat them as bugs). */
  otherStatuses: number[];
  /** From the first request sent to the last answer, in ms. */
  elapsedMs: number;
}

interface Answer {
  status: number;
  retryAfterSeconds: number;
}

function post(agent: Agent, url: URL, options: SendOptions, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        method: "POST",
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: {
          "content-type": options.contentType,
          "content-length": body.length,
          ...(options.contentEncoding ? { "content-encoding": options.contentEncoding } : {}),
        },
      },
      (res) => {
        // The body is a small OTLP response; drain it so the socket goes back to the pool.
        res.resume();
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfterSeconds: Number(res.headers["retry-after"] ?? 1),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Sends every request once it gets a 2xx (503 → retried), `concurrency` at a time. */
export async function sendRequests(
  requests: readonly LoadRequest[],
  options: SendOptions,
): Promise<SendResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: SendResult = {
    acked: requests.map(() => false),
    connectionErrors: 0,
    overloaded: 0,
    otherStatuses: [],
    elapsedMs: 0,
  };
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests.length && !options.shouldStop?.()) {
      const index = next;
      next += 1;
      const request = requests[index];
      if (!request) break;
      for (;;) {
        let answer: Answer;
        try {
          answer = await post(agent, url, options, request.body);
        } catch {
          result.connectionErrors += 1;
          break;
        }
        if (answer.status >= 200 && answer.status < 300) {
          result.acked[index] = true;
          options.onAck?.(index);
          break;
        }
        if (answer.status !== 503) {
          result.otherStatuses.push(answer.status);
          break;
        }
        result.overloaded += 1;
        const delayMs = Math.min(
          answer.retryAfterSeconds * 1000,
          options.maxRetryDelayMs ?? Number.POSITIVE_INFINITY,
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  result.elapsedMs = performance.now() - started;
  return result;
}
