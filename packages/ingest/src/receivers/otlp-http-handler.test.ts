/*
 * OTLP/HTTP receiver, over real loopback sockets. Coverage of reference/protocols.md:
 *
 * §7 conformance list — transport items covered here (test names carry the item number):
 *   1 proto → 200 + x-protobuf + empty ExportTraceServiceResponse     2 JSON → 200 + `{}`
 *   3 `application/json; charset=utf-8` (and odd casing)                4 empty proto / `{}` → 200
 *   5 gzip (proto and JSON) and deflate; Accept-Encoding: gzip → we answer uncompressed (allowed)
 *  10 partial success → 200 + partialSuccess (sink-chosen, and one zero-trace-id span through the
 *     real decoders; the full list of span checks is the decoders' to test)
 *  11 undecodable body (garbage protobuf, malformed JSON, non-hex / wrong-length id through the real
 *     decoders) → 400 + google.rpc.Status in the request's encoding
 *  12 raw over cap, gzip bomb, chunked over cap → 413, memory bounded
 *  13 text/plain, missing type → 415; non-POST → 405 + Allow; unknown path → 404
 *  14 br / x-unknown content-encoding → 415 (non-retryable), never a crash
 *  15 overload → 503 + small Retry-After (pre-check and from the sink)
 *  16 missing/invalid token → 401, credential not echoed
 *  18 response ≤ 64 KiB: long error_message truncated
 *  19 gRPC: see otlp-grpc-server.test.ts;  20 interop with the OTel JS exporters: see otlp-interop.test.ts
 * Pipeline items (decoders and storage, not the transport): 6, 7, 8, 9, 10 (which spans are
 * invalid), 17 (idempotent storage on traceId/spanId). Items 21-37 are Faro, webhooks, durability.
 * The test sink decodes with the real @faultline/otlp decoders (recording-trace-sink.ts).
 *
 * §8 "Transport / HTTP layer" lines, each covered below under "§8 …": bodies over cap with right,
 * lying-smaller, lying-larger and no Content-Length; gzip bomb, truncated gzip, gzip label on plain
 * body, gzip twice, unknown encoding; slowloris headers and slow body; concurrency beyond the limit;
 * missing/garbled Content-Type, multipart/form-data, text/plain; GET/PUT/DELETE/OPTIONS, `//v1/traces`,
 * trailing slash, query string; oversized and duplicated headers, header injection, very long
 * Authorization. The OTLP protobuf/JSON lines of §8 belong to the decoders (packages/otlp).
 */
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { send, sendRaw, type TestResponse } from "./http-test-client.ts";
import { type IngestLogger, silentLogger } from "./ingest-logger.ts";
import { createOtlpHttpServer, type OtlpHttpServer, type OtlpHttpServerOptions } from "./otlp-http-server.ts";
import {
  encodeTestRequest,
  encodeTestRequestJson,
  otlpTestProtos,
  type TestSpan,
} from "./otlp-test-protos.ts";
import { createRecordingSink, type RecordingSink } from "./recording-trace-sink.ts";

const PROTO = { "content-type": "application/x-protobuf" };
const JSON_TYPE = { "content-type": "application/json" };

const spans: TestSpan[] = [
  { traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b174", name: "GET /dm" },
  { traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b175", name: "kafka send" },
];
const expectedKeys = spans.map((s) => `${s.traceId}/${s.spanId}`);

const open: OtlpHttpServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close(1_000)));
});

async function start(
  options: Partial<OtlpHttpServerOptions> = {},
): Promise<{ port: number; sink: RecordingSink; server: OtlpHttpServer }> {
  const sink = createRecordingSink();
  const server = createOtlpHttpServer({ sink, ...options });
  open.push(server);
  const port = await server.listen(0);
  return { port, sink, server };
}

function decodeStatus(res: TestResponse): { code: number; message: string } {
  if (String(res.headers["content-type"]).startsWith("application/json")) {
    return JSON.parse(res.body.toString("utf8")) as { code: number; message: string };
  }
  const decoded = otlpTestProtos.status.toObject(otlpTestProtos.status.decode(res.body), { defaults: true });
  return { code: Number(decoded.code), message: String(decoded.message) };
}

describe("OTLP/HTTP success paths", () => {
  it("§7.1 protobuf → 200, application/x-protobuf, response without partial_success", async () => {
    const { port, sink } = await start();
    const res = await send({ port, headers: PROTO, body: encodeTestRequest(spans) });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/x-protobuf");
    const decoded = otlpTestProtos.response.decode(res.body).toJSON();
    expect(decoded.partialSuccess).toBeUndefined();
    expect(sink.spanKeys()).toEqual(expectedKeys);
    expect(sink.received[0]?.encoding).toBe("proto");
  });

  it("§7.2 JSON → 200, application/json, body {}", async () => {
    const { port, sink } = await start();
    const res = await send({ port, headers: JSON_TYPE, body: encodeTestRequestJson(spans) });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.body.toString()).toBe("{}");
    expect(sink.spanKeys()).toEqual(expectedKeys);
    expect(sink.received[0]?.encoding).toBe("json");
  });

  it("§7.3 content-type parameters and case are tolerated", async () => {
    const { port, sink } = await start();
    for (const type of [
      "application/json; charset=utf-8",
      "Application/JSON;Charset=UTF-8",
      " application/json ",
    ]) {
      const res = await send({ port, headers: { "content-type": type }, body: encodeTestRequestJson(spans) });
      expect(res.status, type).toBe(200);
    }
    const res = await send({
      port,
      headers: { "content-type": "application/x-protobuf; proto=opentelemetry" },
      body: encodeTestRequest(spans),
    });
    expect(res.status).toBe(200);
    expect(sink.received).toHaveLength(4);
  });

  it("§7.4 empty requests (zero-byte protobuf, `{}` JSON) → 200", async () => {
    const { port, sink } = await start();
    expect((await send({ port, headers: PROTO, body: new Uint8Array(0) })).status).toBe(200);
    expect((await send({ port, headers: JSON_TYPE, body: Buffer.from("{}") })).status).toBe(200);
    expect(sink.received.map((r) => r.body.length)).toEqual([0, 2]);
  });

  it("§7.5 gzip (proto and JSON), deflate (zlib and raw) and identity bodies are decompressed", async () => {
    const { port, sink } = await start();
    const proto = encodeTestRequest(spans);
    const json = encodeTestRequestJson(spans);
    const cases: [Record<string, string>, Uint8Array][] = [
      [{ ...PROTO, "content-encoding": "gzip" }, gzipSync(proto)],
      [{ ...JSON_TYPE, "content-encoding": "GZIP" }, gzipSync(json)],
      [{ ...PROTO, "content-encoding": "deflate" }, deflateSync(proto)],
      [{ ...PROTO, "content-encoding": "deflate" }, deflateRawSync(proto)],
      [{ ...PROTO, "content-encoding": "identity" }, proto],
      [{ ...PROTO, "content-encoding": "none" }, proto],
    ];
    for (const [headers, body] of cases) {
      const res = await send({ port, headers, body });
      expect(res.status, JSON.stringify(headers)).toBe(200);
    }
    expect(sink.received).toHaveLength(cases.length);
    for (const r of sink.received) expect(r.spanKeys).toEqual(expectedKeys);
  });

  it("§7.5 Accept-Encoding: gzip is allowed; the tiny response is sent uncompressed", async () => {
    const { port } = await start();
    const res = await send({
      port,
      headers: { ...PROTO, "accept-encoding": "gzip" },
      body: encodeTestRequest(spans),
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBeUndefined();
  });

  it("§7.10 partial success from the sink → 200 with partialSuccess in both encodings", async () => {
    const { port, sink } = await start();
    sink.respond = () => ({
      status: "accepted",
      rejectedSpans: 3,
      errorMessage: "3 spans had a zero trace id",
    });
    const proto = await send({ port, headers: PROTO, body: encodeTestRequest(spans) });
    expect(proto.status).toBe(200);
    const decoded = otlpTestProtos.response.toObject(otlpTestProtos.response.decode(proto.body), {
      longs: Number,
    });
    expect(decoded.partialSuccess).toEqual({ rejectedSpans: 3, errorMessage: "3 spans had a zero trace id" });
    const json = await send({ port, headers: JSON_TYPE, body: encodeTestRequestJson(spans) });
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body.toString())).toEqual({
      partialSuccess: { rejectedSpans: "3", errorMessage: "3 spans had a zero trace id" },
    });
  });

  it("§7.10 with the real decoders: a span with a zero trace id → 200, rejectedSpans 1, the rest delivered", async () => {
    const { port, sink } = await start();
    const mixed = [
      ...spans,
      { traceId: "00000000000000000000000000000000", spanId: "eee19b7ec3c1b176", name: "bad" },
    ];
    const res = await send({ port, headers: JSON_TYPE, body: encodeTestRequestJson(mixed) });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body.toString()) as {
      partialSuccess?: { rejectedSpans?: string; errorMessage?: string };
    };
    expect(body.partialSuccess?.rejectedSpans).toBe("1");
    expect(body.partialSuccess?.errorMessage?.length).toBeGreaterThan(0);
    expect(sink.spanKeys()).toEqual(expectedKeys);
  });

  it("§7.18 a huge error_message is truncated so the response stays far below 64 KiB", async () => {
    const { port, sink } = await start();
    sink.respond = () => ({ status: "accepted", rejectedSpans: 1, errorMessage: "x".repeat(5_000_000) });
    const res = await send({ port, headers: JSON_TYPE, body: encodeTestRequestJson(spans) });
    expect(res.status).toBe(200);
    expect(res.body.length).toBeLessThan(4 * 1024);
    sink.respond = () => ({ status: "invalid", message: "y".repeat(5_000_000) });
    const bad = await send({ port, headers: PROTO, body: encodeTestRequest(spans) });
    expect(bad.status).toBe(400);
    expect(bad.body.length).toBeLessThan(4 * 1024);
  });

  it("§8 query strings are ignored when routing", async () => {
    const { port } = await start();
    const res = await send({
      port,
      path: "/v1/traces?tenant=a&x=1",
      headers: PROTO,
      body: encodeTestRequest(spans),
    });
    expect(res.status).toBe(200);
  });
});

describe("OTLP/HTTP invalid data", () => {
  it("§7.11 undecodable protobuf → 400 with a protobuf google.rpc.Status", async () => {
    const { port } = await start();
    const res = await send({ port, headers: PROTO, body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]) });
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/x-protobuf");
    expect(decodeStatus(res)).toEqual({ code: 3, message: "request body could not be decoded" });
  });

  it("§7.11 malformed JSON → 400 with a JSON google.rpc.Status", async () => {
    const { port } = await start();
    const res = await send({ port, headers: JSON_TYPE, body: Buffer.from('{"resourceSpans": [') });
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(decodeStatus(res).message).toBe("request body could not be decoded");
  });

  it("§7.11 JSON with a non-hex or wrong-length id → 400 (real decoder)", async () => {
    const { port } = await start();
    for (const traceId of ["zz8efff798038103d269b633813fc60c", "5b8efff798038103d269b633813fc6"]) {
      const body = encodeTestRequestJson([{ traceId, spanId: "eee19b7ec3c1b174", name: "x" }]);
      const res = await send({ port, headers: JSON_TYPE, body });
      expect(res.status, traceId).toBe(400);
      expect(res.headers["content-type"]).toBe("application/json");
    }
  });

  it("a sink that throws → 500 with a Status body, and the server keeps serving", async () => {
    const { port, sink } = await start();
    sink.respond = () => {
      throw new Error("disk on fire");
    };
    const res = await send({ port, headers: PROTO, body: encodeTestRequest(spans) });
    expect(res.status).toBe(500);
    expect(decodeStatus(res)).toEqual({ code: 13, message: "internal error" });
    sink.respond = null;
    expect((await send({ port, headers: PROTO, body: encodeTestRequest(spans) })).status).toBe(200);
  });
});

describe("OTLP/HTTP size cap", () => {
  const cap = 256 * 1024;

  it("§7.12/§8 body over the cap with a correct Content-Length → 413 without calling the sink", async () => {
    const { port, sink } = await start({ maxBodyBytes: cap });
    const res = await send({ port, headers: PROTO, body: Buffer.alloc(cap + 1) });
    expect(res.status).toBe(413);
    expect(decodeStatus(res).message).toBe("request body too large");
    expect(sink.received).toHaveLength(0);
    // A body exactly at the cap is fine (the sink then rejects the zeros as undecodable data).
    expect((await send({ port, headers: JSON_TYPE, body: Buffer.alloc(cap, 0x20) })).status).toBe(400);
  });

  it("§7.12/§8 chunked body without Content-Length over the cap → 413", async () => {
    const { port, sink } = await start({ maxBodyBytes: cap });
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(16 * 1024));
    const res = await send({ port, headers: PROTO, body: chunks });
    expect(res.status).toBe(413);
    expect(sink.received).toHaveLength(0);
    // The connection was not left poisoned for others.
    expect((await send({ port, headers: PROTO, body: encodeTestRequest(spans) })).status).toBe(200);
  });

  it("§7.12/§8 endless chunked upload → 413, then the connection is cut (memory stays flat)", async () => {
    const { port } = await start({ maxBodyBytes: cap });
    const head =
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n";
    const chunk = `10000\r\n${"a".repeat(0x10000)}\r\n`;
    const before = process.memoryUsage().arrayBuffers;
    // 32 MiB offered in total; the server answers 413 after 256 KiB and closes after its linger budget.
    const result = await sendRaw(port, [head, ...Array.from({ length: 512 }, () => chunk)], {
      waitMs: 15_000,
    });
    expect(result.text.startsWith("HTTP/1.1 413")).toBe(true);
    expect(result.closedByServer).toBe(true);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(24 * 1024 * 1024);
  });

  it("§7.12/§8 gzip bomb → 413 quickly, decompression stopped at the cap", async () => {
    const { port, sink } = await start({ maxBodyBytes: cap });
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 }); // ~256 KiB → 256 MiB
    expect(bomb.length).toBeLessThan(cap);
    const before = process.memoryUsage().arrayBuffers;
    const started = Date.now();
    const res = await send({ port, headers: { ...PROTO, "content-encoding": "gzip" }, body: bomb });
    expect(res.status).toBe(413);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    expect(sink.received).toHaveLength(0);
  });

  it("§7.12 default cap is 64 MiB after decompression", async () => {
    const { port, sink } = await start();
    const justOver = gzipSync(Buffer.alloc(64 * 1024 * 1024 + 1));
    const res = await send({ port, headers: { ...PROTO, "content-encoding": "gzip" }, body: justOver });
    expect(res.status).toBe(413);
    expect(sink.received).toHaveLength(0);
  });

  it("§8 lying Content-Length smaller than the body: only the declared bytes are read, no crash", async () => {
    const { port, sink } = await start();
    const body = encodeTestRequest(spans);
    const head = `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length - 10}\r\n\r\n`;
    const result = await sendRaw(port, [head, body], { waitMs: 3_000 });
    // The truncated body is the sink's to judge (400); the leftover bytes are a garbage next request.
    expect(result.text).toMatch(/^HTTP\/1\.1 (200|400)/);
    expect(sink.received.length).toBeLessThanOrEqual(1);
  });

  it("§8 lying Content-Length larger than the body → 408 once the body timeout passes", async () => {
    const { port, sink } = await start({ bodyTimeoutMs: 300 });
    const head =
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\n";
    const result = await sendRaw(port, [head, "short"], { waitMs: 8_000 });
    expect(result.text.startsWith("HTTP/1.1 408")).toBe(true);
    expect(result.closedByServer).toBe(true);
    expect(sink.received).toHaveLength(0);
  });
});

describe("OTLP/HTTP content encoding", () => {
  it("§7.14/§8 unknown encodings (br, x-unknown) → 415 with Accept-Encoding, non-retryable", async () => {
    const { port, sink } = await start();
    for (const coding of ["br", "x-unknown", "zstd", "gzip, br"]) {
      const res = await send({
        port,
        headers: { ...PROTO, "content-encoding": coding },
        body: encodeTestRequest(spans),
      });
      expect(res.status, coding).toBe(415);
      expect(res.headers["accept-encoding"]).toBe("gzip, deflate");
    }
    expect(sink.received).toHaveLength(0);
  });

  it("§8 truncated gzip stream → 400", async () => {
    const { port, sink } = await start();
    const gz = gzipSync(encodeTestRequest(spans));
    const res = await send({
      port,
      headers: { ...PROTO, "content-encoding": "gzip" },
      body: gz.subarray(0, gz.length - 6),
    });
    expect(res.status).toBe(400);
    expect(decodeStatus(res).message).toBe("body could not be decompressed");
    expect(sink.received).toHaveLength(0);
  });

  it("§8 gzip label on a plain body → 400; corrupt deflate → 400", async () => {
    const { port } = await start();
    const plain = encodeTestRequest(spans);
    expect(
      (await send({ port, headers: { ...PROTO, "content-encoding": "gzip" }, body: plain })).status,
    ).toBe(400);
    const bad = Buffer.from(deflateSync(plain));
    bad[5] = (bad[5] ?? 0) ^ 0xff;
    expect(
      (await send({ port, headers: { ...PROTO, "content-encoding": "deflate" }, body: bad })).status,
    ).toBe(400);
  });

  it("§8 `gzip, gzip` and a repeated Content-Encoding header mean gzip applied twice", async () => {
    const { port, sink } = await start();
    const twice = gzipSync(gzipSync(encodeTestRequest(spans)));
    expect(
      (await send({ port, headers: { ...PROTO, "content-encoding": "gzip, gzip" }, body: twice })).status,
    ).toBe(200);
    expect(
      (await send({ port, headers: { ...PROTO, "content-encoding": ["gzip", "gzip"] }, body: twice })).status,
    ).toBe(200);
    // Labelled twice but compressed once: the second gunzip fails → 400.
    const once = gzipSync(encodeTestRequest(spans));
    expect(
      (await send({ port, headers: { ...PROTO, "content-encoding": "gzip, gzip" }, body: once })).status,
    ).toBe(400);
    expect(sink.spanKeys()).toEqual([...expectedKeys, ...expectedKeys]);
  });
});

describe("OTLP/HTTP routing, methods and content types", () => {
  it("§7.13/§8 unsupported or missing Content-Type → 415 (text/plain, multipart, garbled, none)", async () => {
    const { port, sink } = await start();
    const body = encodeTestRequest(spans);
    for (const type of [
      "text/plain",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      ";;;",
      "json",
    ]) {
      expect((await send({ port, headers: { "content-type": type }, body })).status, type).toBe(415);
    }
    const none = await send({ port, body });
    expect(none.status).toBe(415);
    expect(none.headers["content-type"]).toBe("application/json");
    expect(sink.received).toHaveLength(0);
  });

  it("§7.13/§8 GET, PUT, DELETE, PATCH and OPTIONS (CORS off) → 405 with Allow: POST", async () => {
    const { port } = await start();
    for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const res = await send({ port, method, headers: PROTO });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe("POST");
    }
  });

  it("§7.13/§8 unknown paths, `//v1/traces` and a trailing slash → 404", async () => {
    const { port, sink } = await start();
    for (const path of ["/", "/v1/metrics", "//v1/traces", "/v1/traces/", "/v1/../v1/traces", "/V1/TRACES"]) {
      const res = await send({ port, path, headers: PROTO, body: encodeTestRequest(spans) });
      expect(res.status, path).toBe(404);
    }
    expect(sink.received).toHaveLength(0);
  });

  it("§8 oversized headers → 431 and header injection → 400 from node's parser, server unharmed", async () => {
    const { port } = await start();
    const huge = await sendRaw(
      port,
      [`POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\nContent-Length: 0\r\n\r\n`],
      { waitMs: 3_000 },
    );
    expect(huge.text.startsWith("HTTP/1.1 431")).toBe(true);
    const injected = await sendRaw(
      port,
      [
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\rX-Evil: 1\r\nContent-Length: 2\r\n\r\n{}",
      ],
      { waitMs: 3_000 },
    );
    expect(injected.text.startsWith("HTTP/1.1 400")).toBe(true);
    expect((await send({ port, headers: PROTO, body: encodeTestRequest(spans) })).status).toBe(200);
  });

  it("§8 duplicated Content-Type headers: the first one counts, no crash", async () => {
    const { port } = await start();
    const res = await sendRaw(
      port,
      [
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
      ],
      { waitMs: 3_000 },
    );
    expect(res.text.startsWith("HTTP/1.1 200")).toBe(true);
  });

  it("route hook: a mounted handler owns its path on the same port", async () => {
    const { port, server, sink } = await start();
    server.handler.route(
      (p) => p === "/collect" || p.startsWith("/collect/"),
      (_req, res, pathname) => {
        res.writeHead(202, { "content-type": "text/plain" });
        res.end(pathname);
      },
    );
    const faro = await send({
      port,
      path: "/collect/app-key?x=1",
      headers: JSON_TYPE,
      body: Buffer.from("{}"),
    });
    expect(faro.status).toBe(202);
    expect(faro.body.toString()).toBe("/collect/app-key");
    expect((await send({ port, headers: PROTO, body: encodeTestRequest(spans) })).status).toBe(200);
    expect(sink.received).toHaveLength(1);
  });
});

describe("OTLP/HTTP overload and slow clients", () => {
  it("§7.15 isOverloaded() → 503 + Retry-After before the body is read, and the operator is told", async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_obj: object, msg?: string) => warnings.push(msg ?? "") };
    const { port, sink } = await start({ retryAfterSeconds: 2, logger });
    sink.overloaded = true;
    const res = await send({ port, headers: PROTO, body: encodeTestRequest(spans) });
    expect(warnings).toEqual([expect.stringMatching(/^ingest overloaded: exports refused/)]);
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("2");
    expect(decodeStatus(res).code).toBe(14);
    expect(sink.received).toHaveLength(0);
    sink.overloaded = false;
    expect((await send({ port, headers: PROTO, body: encodeTestRequest(spans) })).status).toBe(200);
  });

  it("§7.15 the sink reporting overload → 503 with its (rounded up, capped) Retry-After", async () => {
    const { port, sink } = await start();
    sink.respond = () => ({ status: "overloaded", retryAfterSeconds: 2.2 });
    const res = await send({ port, headers: JSON_TYPE, body: encodeTestRequestJson(spans) });
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("3");
    expect(res.headers["content-type"]).toBe("application/json");
    sink.respond = () => ({ status: "overloaded", retryAfterSeconds: 3600 });
    expect(
      (await send({ port, headers: PROTO, body: encodeTestRequest(spans) })).headers["retry-after"],
    ).toBe("60");
  });

  it("§8 requests beyond the concurrency limit → 503, the rest succeed", async () => {
    const { port, sink } = await start({ maxConcurrentRequests: 4 });
    // The sink holds every request it gets until all 40 are accounted for — held by the sink or
    // already answered — so the limit is tested with all of them in flight, whatever the machine's speed.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = 0;
    let answered = 0;
    const settleOne = () => {
      if (held + answered === 40) release();
    };
    sink.respond = async () => {
      held += 1;
      settleOne();
      await gate;
      return { status: "accepted", rejectedSpans: 0, errorMessage: null };
    };
    const pending = Array.from({ length: 40 }, () =>
      send({ port, headers: PROTO, body: encodeTestRequest(spans) }).then((response) => {
        answered += 1;
        settleOne();
        return response;
      }),
    );
    const statuses = (await Promise.all(pending)).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 503)).toHaveLength(36);
  });

  it("§8 slowloris: headers trickled in → connection closed by the headers timeout", async () => {
    const { port } = await start({ headersTimeoutMs: 500 });
    const trickle = "POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa".split("");
    const result = await sendRaw(port, trickle, { gapMs: 100, waitMs: 8_000 });
    expect(result.closedByServer).toBe(true);
    expect(result.elapsedMs).toBeLessThan(4_000);
  });

  it("§8 slow body (a byte at a time) → 408 from the body timeout", async () => {
    const { port, sink } = await start({ bodyTimeoutMs: 500 });
    const body = Buffer.from(encodeTestRequest(spans));
    const head = `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`;
    const bytes = Array.from(body, (b) => Uint8Array.of(b));
    const result = await sendRaw(port, [head, ...bytes], { gapMs: 50, waitMs: 8_000 });
    expect(result.text.startsWith("HTTP/1.1 408")).toBe(true);
    expect(result.elapsedMs).toBeLessThan(4_000);
    expect(sink.received).toHaveLength(0);
  });

  it("a client aborting mid-body does not reach the sink or hurt the server", async () => {
    const { port, sink } = await start();
    const head =
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100000\r\n\r\n";
    await sendRaw(port, [head, Buffer.alloc(5_000)], { waitMs: 200 });
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.received).toHaveLength(0);
    expect((await send({ port, headers: PROTO, body: encodeTestRequest(spans) })).status).toBe(200);
  });
});

describe("OTLP/HTTP bearer token", () => {
  const token = "s3cr3t-token-value";

  it("§7.16 missing or wrong token → 401 without echoing the credential; right token → 200", async () => {
    const { port, sink } = await start({ bearerToken: token });
    const body = encodeTestRequest(spans);
    const missing = await send({ port, headers: PROTO, body });
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe("Bearer");
    const wrong = await send({ port, headers: { ...PROTO, authorization: "Bearer guess-the-token" }, body });
    expect(wrong.status).toBe(401);
    expect(wrong.body.toString("latin1")).not.toContain("guess-the-token");
    expect(JSON.stringify(wrong.headers)).not.toContain("guess-the-token");
    const basic = await send({ port, headers: { ...PROTO, authorization: `Basic ${token}` }, body });
    expect(basic.status).toBe(401);
    const prefix = await send({ port, headers: { ...PROTO, authorization: `Bearer ${token}x` }, body });
    expect(prefix.status).toBe(401);
    expect(sink.received).toHaveLength(0);
    expect((await send({ port, headers: { ...PROTO, authorization: `Bearer ${token}` }, body })).status).toBe(
      200,
    );
    expect(
      (await send({ port, headers: { ...PROTO, authorization: `bearer  ${token}` }, body })).status,
    ).toBe(200);
  });

  it("secrets never reach the logs; a pino logger plugs in as is", async () => {
    const lines: string[] = [];
    const capture = (obj: object, msg?: string): void => {
      lines.push(
        `${msg ?? ""} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`,
      );
    };
    const logger: IngestLogger = { debug: capture, info: capture, warn: capture, error: capture };
    const { port, sink } = await start({ bearerToken: token, logger });
    sink.respond = () => {
      throw new Error("sink failed");
    };
    const auth = { ...PROTO, authorization: `Bearer ${token}` };
    expect((await send({ port, headers: auth, body: encodeTestRequest(spans) })).status).toBe(500);
    expect(
      (
        await send({
          port,
          headers: { ...PROTO, authorization: "Bearer wrong-secret" },
          body: new Uint8Array(1),
        })
      ).status,
    ).toBe(401);
    expect(lines.some((l) => l.includes("otlp/http export failed"))).toBe(true);
    expect(lines.join("\n")).not.toContain(token);
    expect(lines.join("\n")).not.toContain("wrong-secret");
    // Type-level check: pino's Logger satisfies IngestLogger structurally.
    const pinoLogger: IngestLogger = pino({ level: "silent" });
    expect(typeof pinoLogger.info).toBe("function");
  });

  it("§8 a very long Authorization value → 401, no throw on the length mismatch", async () => {
    const { port } = await start({ bearerToken: token });
    const res = await send({
      port,
      headers: { ...PROTO, authorization: `Bearer ${"a".repeat(12_000)}` },
      body: encodeTestRequest(spans),
    });
    expect(res.status).toBe(401);
  });

  it("several tokens (rotation) are all accepted", async () => {
    const { port } = await start({ bearerToken: ["old-token", "new-token"] });
    for (const t of ["old-token", "new-token"]) {
      const res = await send({
        port,
        headers: { ...PROTO, authorization: `Bearer ${t}` },
        body: encodeTestRequest(spans),
      });
      expect(res.status).toBe(200);
    }
  });
});

describe("OTLP/HTTP CORS", () => {
  const preflight = (origin: string): Record<string, string> => ({
    origin,
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
  });

  it("off by default: no Access-Control-* headers", async () => {
    const { port } = await start();
    const res = await send({
      port,
      headers: { ...PROTO, origin: "https://app.example.com" },
      body: encodeTestRequest(spans),
    });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("preflight from an allowed origin → 204 with the Allow-* headers; others get none", async () => {
    const { port } = await start({
      cors: { allowedOrigins: ["https://app.example.com"], maxAgeSeconds: 120 },
    });
    const ok = await send({ port, method: "OPTIONS", headers: preflight("https://app.example.com") });
    expect(ok.status).toBe(204);
    expect(ok.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(ok.headers["access-control-allow-methods"]).toBe("POST");
    expect(ok.headers["access-control-allow-headers"]).toContain("content-type");
    expect(ok.headers["access-control-allow-headers"]).toContain("authorization");
    expect(ok.headers["access-control-max-age"]).toBe("120");
    expect(ok.headers.vary).toBe("Origin");
    const evil = await send({ port, method: "OPTIONS", headers: preflight("https://evil.example.com") });
    expect(evil.status).toBe(204);
    expect(evil.headers["access-control-allow-origin"]).toBeUndefined();
    expect(evil.headers["access-control-allow-methods"]).toBeUndefined();
  });

  it("actual requests from an allowed origin carry Allow-Origin, error answers too", async () => {
    const { port, sink } = await start({ cors: { allowedOrigins: ["https://app.example.com"] } });
    const res = await send({
      port,
      headers: { ...JSON_TYPE, origin: "https://app.example.com" },
      body: encodeTestRequestJson(spans),
    });
    expect(res.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(res.headers["access-control-expose-headers"]).toBe("Retry-After");
    sink.overloaded = true;
    const busy = await send({
      port,
      headers: { ...JSON_TYPE, origin: "https://app.example.com" },
      body: encodeTestRequestJson(spans),
    });
    expect(busy.status).toBe(503);
    expect(busy.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    const other = await send({
      port,
      headers: { ...JSON_TYPE, origin: "https://evil.example.com" },
      body: encodeTestRequestJson(spans),
    });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("`*` allows any origin literally (no credentials are ever allowed)", async () => {
    const { port } = await start({ cors: { allowedOrigins: ["*"] } });
    const res = await send({ port, method: "OPTIONS", headers: preflight("https://anything.example") });
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
  });

  it("preflight is answered without a token even when one is required", async () => {
    const { port } = await start({ bearerToken: "t", cors: { allowedOrigins: ["https://app.example.com"] } });
    const res = await send({ port, method: "OPTIONS", headers: preflight("https://app.example.com") });
    expect(res.status).toBe(204);
  });
});
