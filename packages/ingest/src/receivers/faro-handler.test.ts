import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFaroHandler, isFaroCollectPath } from "./faro-handler.ts";
import { send, type TestResponse } from "./http-test-client.ts";
import { createOtlpHttpServer, type OtlpHttpServer } from "./otlp-http-server.ts";
import { RecordingBrowserSignalSink } from "./recording-browser-signal-sink.ts";
import { createRecordingSink } from "./recording-trace-sink.ts";

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const spanId = "00f067aa0ba902b7";
const apiKey = "faro-app-key-123";
const allowedOrigin = "https://chat.example";
const meta = {
  app: { name: "dm-web", version: "4.2.0", environment: "production" },
  session: { id: "sess-1" },
  user: { id: "user-1" },
  page: { url: "https://chat.example/conversations/42" },
};
const exception = {
  type: "TypeError",
  value: "boom",
  timestamp: "2026-11-27T11:59:01.000Z",
  trace: { trace_id: traceId, span_id: spanId },
};
const pageLoad = {
  name: "faro.performance.navigation",
  attributes: { pageLoadTime: "500" },
  timestamp: "2026-11-27T11:59:00.000Z",
};
const traces = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: "dm-web" } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId,
              spanId,
              name: "HTTP GET",
              kind: 3,
              startTimeUnixNano: "1795780740000000000",
              endTimeUnixNano: "1795780740100000000",
            },
          ],
        },
      ],
    },
  ],
};

describe("Faro receiver on the OTLP port", () => {
  const sink = new RecordingBrowserSignalSink();
  let nowMs = Date.parse("2026-11-27T12:00:00Z");
  let server: OtlpHttpServer;
  let port = 0;

  beforeAll(async () => {
    server = createOtlpHttpServer({ sink: createRecordingSink() });
    server.handler.route(
      isFaroCollectPath,
      createFaroHandler({
        sink,
        apiKey,
        allowedOrigins: [allowedOrigin],
        maxBodyBytes: 512 * 1024,
        rateLimit: { ratePerSecond: 1, burst: 3 },
        clock: () => nowMs,
      }),
    );
    port = await server.listen(0);
  });
  afterAll(() => server.close(1000));
  beforeEach(() => {
    // Each test gets a fresh minute, so bucket state from other tests has refilled.
    nowMs += 60_000;
    sink.spans.length = 0;
    sink.overloaded = false;
  });

  let appCounter = 0;
  const collect = (
    body: unknown,
    headers: Record<string, string> = {},
    path = `/collect/app${++appCounter}`,
  ): Promise<TestResponse> =>
    send({
      port,
      path,
      headers: { "content-type": "application/json", "x-api-key": apiKey, origin: allowedOrigin, ...headers },
      body:
        typeof body === "string"
          ? Buffer.from(body)
          : body instanceof Uint8Array
            ? body
            : Buffer.from(JSON.stringify(body)),
    });

  it("21: accepts each signal kind alone and all together with 202, feeding spans to the sink", async () => {
    for (const part of [
      { logs: [{ message: "m", level: "info", timestamp: "2026-11-27T11:59:00Z" }] },
      { exceptions: [exception] },
      { measurements: [{ type: "web-vitals", values: { lcp: 1 } }] },
      { events: [pageLoad] },
      { traces },
    ]) {
      const response = await collect({ meta, ...part });
      expect(response.status).toBe(202);
      expect(response.body.toString()).toBe("ok");
    }
    expect(sink.spans.map((s) => `${s.kind}:${s.statusCode}`)).toEqual([
      "browser:error",
      "browser:unset",
      "client:unset",
    ]);
    sink.spans.length = 0;
    const all = await collect(
      { meta, logs: [], exceptions: [exception], measurements: [], events: [pageLoad], traces },
      {},
      "/collect",
    );
    expect(all.status).toBe(202);
    expect(sink.spans).toHaveLength(3);
    // The browser error and the browser's HTTP span share the trace, which continues into the backend.
    expect(sink.spans.filter((s) => s.traceId === traceId)).toHaveLength(2);
    expect(sink.spans[0]).toMatchObject({
      name: "/conversations/:id",
      resource: { serviceName: "dm-web", serviceVersion: "4.2.0" },
    });
  });

  it("22: answers a CORS preflight from an allowed origin with the SDK's headers; none for others", async () => {
    const preflight = (origin: string) =>
      send({
        port,
        path: "/collect",
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers":
            "content-type, x-api-key, x-faro-session-id, traceparent, content-encoding, idempotency-key",
        },
      });
    const allowed = await preflight(allowedOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers["access-control-allow-origin"]).toBe(allowedOrigin);
    const allowedHeaders = String(allowed.headers["access-control-allow-headers"]).split(", ");
    expect(allowedHeaders).toEqual(
      expect.arrayContaining([
        "content-type",
        "x-api-key",
        "x-faro-session-id",
        "traceparent",
        "content-encoding",
        "idempotency-key",
      ]),
    );
    expect(allowed.headers["access-control-allow-methods"]).toContain("POST");
    const denied = await preflight("https://evil.example");
    expect(denied.headers["access-control-allow-origin"]).toBeUndefined();
    expect(denied.headers["access-control-allow-headers"]).toBeUndefined();
    const post = await collect({ meta }, { origin: "https://evil.example" });
    expect(post.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("23: refuses a wrong, missing or huge x-api-key with 401, without echoing it", async () => {
    for (const headers of [{ "x-api-key": "wrong-key" }, { "x-api-key": "k".repeat(8_000) }]) {
      const response = await collect({ meta }, headers);
      expect(response.status).toBe(401);
      expect(response.body.toString()).not.toContain("wrong");
    }
    const missing = await send({
      port,
      path: "/collect/nokey",
      headers: { "content-type": "application/json" },
      body: Buffer.from("{}"),
    });
    expect(missing.status).toBe(401);
  });

  it("24: rate-limits per app with 429 and Retry-After, other apps unaffected, refilling with time", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await collect({ meta }, {}, "/collect/noisy")).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const limited = await collect({ meta }, {}, "/collect/noisy");
    expect(limited.headers["retry-after"]).toBe("1");
    expect(limited.headers["access-control-expose-headers"]).toContain("Retry-After");
    expect((await collect({ meta }, {}, "/collect/quiet")).status).toBe(202);
    nowMs += 1000;
    expect((await collect({ meta }, {}, "/collect/noisy")).status).toBe(202);
  });

  it("25: answers 413 over the cap with and without Content-Length, and for a gzip bomb", async () => {
    const big = Buffer.from(JSON.stringify({ meta, logs: [{ message: "x".repeat(600 * 1024) }] }));
    expect((await collect(big)).status).toBe(413);
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(32 * 1024, 0x20));
    const chunked = await send({
      port,
      path: "/collect/chunked",
      headers: { "content-type": "application/json", "x-api-key": apiKey },
      body: chunks,
    });
    expect(chunked.status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(512 * 1024);
    expect((await collect(bomb, { "content-encoding": "gzip" })).status).toBe(413);
    const small = gzipSync(Buffer.from(JSON.stringify({ meta, exceptions: [exception] })));
    expect((await collect(small, { "content-encoding": "gzip" })).status).toBe(202);
    expect((await collect(Buffer.from("not gzip"), { "content-encoding": "gzip" })).status).toBe(400);
  });

  it("26: answers 400 for invalid JSON without quoting it; accepts a payload without meta", async () => {
    const invalid = await collect('{"meta": <script>alert(1)</script>');
    expect(invalid.status).toBe(400);
    expect(invalid.body.toString()).not.toContain("script");
    expect((await collect("[1,2]")).status).toBe(400);
    expect((await collect({ exceptions: [exception] })).status).toBe(202);
    expect(sink.spans[0]?.resource.serviceName).toBe("unknown_service");
  });

  it("27: drops malformed trace ids instead of failing", async () => {
    const bad = { ...exception, trace: { trace_id: "xyz", span_id: "123" } };
    const response = await collect({ meta, exceptions: [bad], logs: [{ trace: { trace_id: 5 } }] });
    expect(response.status).toBe(202);
    expect(sink.spans[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(sink.spans[0]?.traceId).not.toBe("xyz");
  });

  it("28: never tells the SDK its session is invalid", async () => {
    const response = await collect({ meta }, { "x-faro-session-id": "forged\u0001id".replace("\u0001", "") });
    expect(response.status).toBe(202);
    expect(response.headers["x-faro-session-status"]).toBeUndefined();
  });

  it("§8: survives odd values, wrong methods, types and encodings with the right status, never 500", async () => {
    const odd = {
      meta: {
        app: { name: "<img src=x onerror=alert(1)>", version: 7 },
        page: { url: "javascript:alert(1)" },
        __proto__: { polluted: true },
      },
      exceptions: [
        {
          type: null,
          value: { nested: true },
          timestamp: "0001-01-01T00:00:00Z",
          stacktrace: { frames: [1, "a", null] },
        },
      ],
      measurements: [{ values: { a: "NaN", b: null } }],
      events: Array.from({ length: 2000 }, () => ({
        name: "faro.performance.navigation",
        attributes: { pageLoadTime: "-5" },
      })),
      traces: { resourceSpans: "not an array" },
    };
    const response = await collect(odd);
    expect(response.status).toBe(202);
    expect(sink.spans).toHaveLength(1001);
    expect(sink.spans[0]?.name).toBe("unknown_page");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    expect((await send({ port, path: "/collect", method: "GET" })).status).toBe(405);
    expect((await collect({ meta }, { "content-type": "multipart/form-data; boundary=x" })).status).toBe(415);
    expect((await collect({ meta }, { "content-type": "text/plain" })).status).toBe(202);
    expect((await collect({ meta }, { "content-encoding": "br" })).status).toBe(415);
    expect((await send({ port, path: "/collect/../v1/traces/x", body: Buffer.from("{}") })).status).toBe(404);
  });

  it("answers 429 with Retry-After while the sink is overloaded, and 202 when the sink fails", async () => {
    sink.overloaded = true;
    const overloaded = await collect({ meta, exceptions: [exception] });
    expect(overloaded.status).toBe(429);
    expect(overloaded.headers["retry-after"]).toBe("1");
    sink.overloaded = false;
    sink.failNext = true;
    expect((await collect({ meta, exceptions: [exception] })).status).toBe(202);
  });

  it("matches only the Faro paths", () => {
    expect(["/collect", "/collect/", "/collect/my-app_1"].every(isFaroCollectPath)).toBe(true);
    expect(["/collect/a/b", "/collector", "/v1/traces", "/collect/a.b"].some(isFaroCollectPath)).toBe(false);
  });
});
