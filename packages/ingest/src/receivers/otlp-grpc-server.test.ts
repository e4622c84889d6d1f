/*
 * OTLP/gRPC receiver over real loopback sockets, driven by a raw grpc-js client (bytes in, bytes out).
 * Coverage of reference/protocols.md:
 *   §7.19 valid Export → OK (full and partial success); oversize → RESOURCE_EXHAUSTED; bad data →
 *         INVALID_ARGUMENT; overload → UNAVAILABLE + RetryInfo; `grpc-encoding: gzip` accepted.
 *   §7.16 (gRPC form) missing/invalid bearer token → UNAUTHENTICATED, credential not echoed.
 *   §7.18 (gRPC form) long error text truncated.
 *   §8 gRPC-relevant lines: zero-length and random-byte messages, very long `authorization`, a sink
 *         that throws (INTERNAL, server keeps serving). Interop with the OTel gRPC exporter is in
 *         otlp-interop.test.ts.
 */
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  createOtlpGrpcServer,
  type OtlpGrpcServer,
  type OtlpGrpcServerOptions,
  TRACE_EXPORT_METHOD_PATH,
} from "./otlp-grpc-server.ts";
import { encodeTestRequest, otlpTestProtos, type TestSpan } from "./otlp-test-protos.ts";
import { createRecordingSink, type RecordingSink } from "./recording-trace-sink.ts";

const spans: TestSpan[] = [
  { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", name: "dm.deliver" },
];

const servers: OtlpGrpcServer[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown(1_000)));
});

async function start(
  options: Partial<OtlpGrpcServerOptions> = {},
  clientOptions: Record<string, number> = {},
): Promise<{ sink: RecordingSink; call: (body: Uint8Array, md?: Metadata) => Promise<CallResult> }> {
  const sink = createRecordingSink();
  const server = createOtlpGrpcServer({ sink, ...options });
  servers.push(server);
  const port = await server.start("127.0.0.1", 0);
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), clientOptions);
  clients.push(client);
  const call = (body: Uint8Array, md = new Metadata()): Promise<CallResult> =>
    new Promise((resolve) => {
      let trailers: Metadata | null = null;
      const c = client.makeUnaryRequest(
        TRACE_EXPORT_METHOD_PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(body),
        md,
        (err: ServiceError | null, value?: Buffer) => {
          resolve({ error: err, value: value ?? null, trailers: err?.metadata ?? trailers });
        },
      );
      c.on("status", (s) => {
        trailers = s.metadata;
      });
    });
  return { sink, call };
}

interface CallResult {
  error: ServiceError | null;
  value: Buffer | null;
  trailers: Metadata | null;
}

describe("OTLP/gRPC TraceService/Export", () => {
  it("§7.19 a valid Export → OK, the sink gets the exact protobuf bytes, empty response", async () => {
    const { sink, call } = await start();
    const body = encodeTestRequest(spans);
    const res = await call(body);
    expect(res.error).toBeNull();
    expect(res.value?.length).toBe(0);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]?.encoding).toBe("proto");
    expect(Buffer.compare(sink.received[0]?.body ?? Buffer.alloc(0), Buffer.from(body))).toBe(0);
    expect(sink.spanKeys()).toEqual(["0af7651916cd43dd8448eb211c80319c/b7ad6b7169203331"]);
  });

  it("§7.19 an empty request (zero bytes) → OK", async () => {
    const { call } = await start();
    expect((await call(new Uint8Array(0))).error).toBeNull();
  });

  it("§7.19 partial success is encoded in the response", async () => {
    const { sink, call } = await start();
    sink.respond = () => ({
      status: "accepted",
      rejectedSpans: 2,
      errorMessage: "2 spans had an empty name",
    });
    const res = await call(encodeTestRequest(spans));
    expect(res.error).toBeNull();
    const decoded = otlpTestProtos.response.toObject(
      otlpTestProtos.response.decode(res.value ?? Buffer.alloc(0)),
      {
        longs: Number,
      },
    );
    expect(decoded.partialSuccess).toEqual({ rejectedSpans: 2, errorMessage: "2 spans had an empty name" });
  });

  it("§7.19/§8 random bytes → INVALID_ARGUMENT, and the server keeps serving", async () => {
    const { call } = await start();
    const res = await call(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x07, 0x07]));
    expect(res.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(res.error?.details).toBe("request body could not be decoded");
    expect((await call(encodeTestRequest(spans))).error).toBeNull();
  });

  it("§7.18 a huge error text is truncated", async () => {
    const { sink, call } = await start();
    sink.respond = () => ({ status: "invalid", message: "z".repeat(1_000_000) });
    const res = await call(encodeTestRequest(spans));
    expect(res.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(res.error?.details.length).toBeLessThanOrEqual(1024);
  });

  it("§7.19 a message over the receive cap → RESOURCE_EXHAUSTED without reaching the sink", async () => {
    const { sink, call } = await start({ maxReceiveMessageBytes: 64 * 1024 });
    const res = await call(Buffer.alloc(64 * 1024 + 1));
    expect(res.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(sink.received).toHaveLength(0);
    expect((await call(encodeTestRequest(spans))).error).toBeNull();
  });

  it("§7.19 `grpc-encoding: gzip` requests are accepted and decompressed", async () => {
    // grpc.default_compression_algorithm 2 = gzip.
    const { sink, call } = await start({}, { "grpc.default_compression_algorithm": 2 });
    const body = encodeTestRequest(spans);
    expect((await call(body)).error).toBeNull();
    expect(Buffer.compare(sink.received[0]?.body ?? Buffer.alloc(0), Buffer.from(body))).toBe(0);
  });

  it("§7.19 a gzip bomb over the cap → RESOURCE_EXHAUSTED (the cap applies after decompression)", async () => {
    const { sink, call } = await start(
      { maxReceiveMessageBytes: 1024 * 1024 },
      { "grpc.default_compression_algorithm": 2 },
    );
    const res = await call(Buffer.alloc(32 * 1024 * 1024));
    expect(res.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(sink.received).toHaveLength(0);
  });

  it("§7.19/§7.15 isOverloaded() → UNAVAILABLE with google.rpc.RetryInfo in grpc-status-details-bin", async () => {
    const { sink, call } = await start({ retryAfterSeconds: 3 });
    sink.overloaded = true;
    const res = await call(encodeTestRequest(spans));
    expect(res.error?.code).toBe(status.UNAVAILABLE);
    expect(sink.received).toHaveLength(0);
    const raw = res.trailers?.get("grpc-status-details-bin")[0];
    expect(Buffer.isBuffer(raw)).toBe(true);
    const st = otlpTestProtos.status.toObject(otlpTestProtos.status.decode(raw as Buffer), { longs: Number });
    expect(st.code).toBe(status.UNAVAILABLE);
    const detail = (st.details as { typeUrl: string; value: Uint8Array }[])[0];
    expect(detail?.typeUrl).toBe("type.googleapis.com/google.rpc.RetryInfo");
    const retry = otlpTestProtos.retryInfo.toObject(
      otlpTestProtos.retryInfo.decode(detail?.value ?? new Uint8Array()),
      {
        longs: Number,
      },
    );
    expect(retry.retryDelay).toEqual({ seconds: 3 });
  });

  it("§7.15 the sink reporting overload → UNAVAILABLE with its retry delay", async () => {
    const { sink, call } = await start();
    sink.respond = () => ({ status: "overloaded", retryAfterSeconds: 7 });
    const res = await call(encodeTestRequest(spans));
    expect(res.error?.code).toBe(status.UNAVAILABLE);
    const raw = res.trailers?.get("grpc-status-details-bin")[0] as Buffer;
    const st = otlpTestProtos.status.decode(raw).toJSON();
    const retry = otlpTestProtos.retryInfo.decode(Buffer.from(st.details[0].value, "base64")).toJSON();
    expect(retry).toEqual({ retryDelay: { seconds: "7" } });
  });

  it("a sink that throws → INTERNAL, and the server keeps serving", async () => {
    const { sink, call } = await start();
    sink.respond = () => {
      throw new Error("boom");
    };
    const res = await call(encodeTestRequest(spans));
    expect(res.error?.code).toBe(status.INTERNAL);
    expect(res.error?.details).toBe("internal error");
    sink.respond = null;
    expect((await call(encodeTestRequest(spans))).error).toBeNull();
  });
});

describe("OTLP/gRPC bearer token", () => {
  const token = "grpc-s3cret";
  const withAuth = (value: string): Metadata => {
    const md = new Metadata();
    md.set("authorization", value);
    return md;
  };

  it("§7.16 missing or wrong token → UNAUTHENTICATED without echoing it; the right one → OK", async () => {
    const { sink, call } = await start({ bearerToken: token });
    const missing = await call(encodeTestRequest(spans));
    expect(missing.error?.code).toBe(status.UNAUTHENTICATED);
    const wrong = await call(encodeTestRequest(spans), withAuth("Bearer not-the-token"));
    expect(wrong.error?.code).toBe(status.UNAUTHENTICATED);
    expect(wrong.error?.details).not.toContain("not-the-token");
    expect(sink.received).toHaveLength(0);
    expect((await call(encodeTestRequest(spans), withAuth(`Bearer ${token}`))).error).toBeNull();
  });

  it("§8 a very long authorization value → UNAUTHENTICATED, no throw", async () => {
    const { call } = await start({ bearerToken: token });
    const res = await call(encodeTestRequest(spans), withAuth(`Bearer ${"x".repeat(6_000)}`));
    expect(res.error?.code).toBe(status.UNAUTHENTICATED);
  });
});

describe("OTLP/gRPC lifecycle", () => {
  it("shutdown waits for an in-flight export, then refuses new calls", async () => {
    const sink = createRecordingSink();
    const server = createOtlpGrpcServer({ sink });
    const port = await server.start("127.0.0.1", 0);
    let release: () => void = () => {};
    sink.respond = () =>
      new Promise((resolve) => {
        release = () => resolve({ status: "accepted", rejectedSpans: 0, errorMessage: null });
      });
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    clients.push(client);
    const inFlight = new Promise<ServiceError | null>((resolve) => {
      client.makeUnaryRequest(
        TRACE_EXPORT_METHOD_PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(encodeTestRequest(spans)),
        (err: ServiceError | null) => resolve(err),
      );
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = server.shutdown(5_000);
    setTimeout(() => release(), 200);
    expect(await inFlight).toBeNull();
    await stopped;
    const after = await new Promise<ServiceError | null>((resolve) => {
      client.makeUnaryRequest(
        TRACE_EXPORT_METHOD_PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(encodeTestRequest(spans)),
        { deadline: Date.now() + 1_000 },
        (err: ServiceError | null) => resolve(err),
      );
    });
    expect(after?.code).toBeOneOf([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);
  });

  it("shutdown forces after the deadline when an export hangs", async () => {
    const sink = createRecordingSink();
    const server = createOtlpGrpcServer({ sink });
    const port = await server.start("127.0.0.1", 0);
    sink.respond = () => new Promise(() => {});
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    clients.push(client);
    const inFlight = new Promise<ServiceError | null>((resolve) => {
      client.makeUnaryRequest(
        TRACE_EXPORT_METHOD_PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(encodeTestRequest(spans)),
        (err: ServiceError | null) => resolve(err),
      );
    });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await server.shutdown(300);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await inFlight)?.code).toBeDefined();
  });
});
