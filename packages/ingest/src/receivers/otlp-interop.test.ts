/*
 * Interop with the real OpenTelemetry JS exporters (§7.20, the SDK half; a real Collector binary is
 * not available on this machine, see the report): a BasicTracerProvider exports through
 * @opentelemetry/exporter-trace-otlp-proto, -http (JSON) and -grpc, with and without gzip, to our
 * receivers on loopback; the sink must receive exactly the spans that were created.
 * Also §7.15 end to end: 503 + Retry-After is honoured by the HTTP exporters' retry, after which the
 * batch lands exactly once; gRPC UNAVAILABLE surfaces as a failed export (the JS gRPC exporter does
 * not retry) and the next export succeeds. §7.16 end to end: exporters configured with the token.
 */

import { Metadata } from "@grpc/grpc-js";
import { context, type Span, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as GrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOtlpGrpcServer, type OtlpGrpcServer } from "./otlp-grpc-server.ts";
import { createOtlpHttpServer, type OtlpHttpServer } from "./otlp-http-server.ts";
import { createRecordingSink } from "./recording-trace-sink.ts";

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoExporter>[0]>["compression"]>;
type GrpcCompression = NonNullable<NonNullable<ConstructorParameters<typeof GrpcExporter>[0]>["compression"]>;
const GZIP = "gzip" as Compression;
const NONE = "none" as Compression;

const TOKEN = "interop-token";
const sink = createRecordingSink();
let http: OtlpHttpServer;
let grpc: OtlpGrpcServer;
let httpUrl = "";
/** Content-Encoding of every HTTP request, to prove the gzip cases really were compressed. */
const httpEncodings: (string | undefined)[] = [];
let grpcUrl = "";

beforeAll(async () => {
  http = createOtlpHttpServer({ sink, bearerToken: TOKEN, retryAfterSeconds: 1 });
  httpUrl = `http://127.0.0.1:${await http.listen(0)}/v1/traces`;
  http.server.on("request", (req: { headers: Record<string, string | string[] | undefined> }) => {
    const coding = req.headers["content-encoding"];
    httpEncodings.push(typeof coding === "string" ? coding : undefined);
  });
  grpc = createOtlpGrpcServer({ sink, bearerToken: TOKEN });
  grpcUrl = `http://127.0.0.1:${await grpc.start("127.0.0.1", 0)}`;
});
afterAll(async () => {
  await http.close(1_000);
  await grpc.shutdown(1_000);
});
beforeEach(() => {
  sink.received.length = 0;
  sink.overloaded = false;
  sink.respond = null;
  httpEncodings.length = 0;
});

const authHeaders = { Authorization: `Bearer ${TOKEN}` };
const grpcAuth = (): Metadata => {
  const md = new Metadata();
  md.set("authorization", `Bearer ${TOKEN}`);
  return md;
};

/** Creates a small trace (a server span with producer and client children) per iteration. */
async function emitSpans(exporter: SpanExporter, traces: number): Promise<string[]> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "interop", "service.version": "1.2.3" }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 16, scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer("interop-test");
  const created: Span[] = [];
  for (let i = 0; i < traces; i++) {
    const root = tracer.startSpan(`GET /dm/${i}`, { kind: 1, attributes: { "http.route": "/dm/:id" } });
    const ctx = trace.setSpan(context.active(), root);
    const publish = tracer.startSpan(
      "dm publish",
      { kind: 3, attributes: { "messaging.system": "kafka" } },
      ctx,
    );
    const db = tracer.startSpan("SELECT users", { kind: 2 }, ctx);
    db.setStatus({ code: 2, message: "timeout" });
    for (const s of [db, publish, root]) {
      s.end();
      created.push(s);
    }
  }
  await provider.forceFlush();
  await provider.shutdown();
  return created.map((s) => `${s.spanContext().traceId}/${s.spanContext().spanId}`);
}

const sorted = (keys: string[]): string[] => [...keys].sort();

describe("interop with the OpenTelemetry JS exporters", () => {
  const httpCases: [string, (compression: Compression) => SpanExporter, "proto" | "json"][] = [
    [
      "http/protobuf",
      (compression) => new ProtoExporter({ url: httpUrl, compression, headers: authHeaders }),
      "proto",
    ],
    [
      "http/json",
      (compression) => new JsonExporter({ url: httpUrl, compression, headers: authHeaders }),
      "json",
    ],
  ];
  for (const [name, make, encoding] of httpCases) {
    for (const compression of [NONE, GZIP]) {
      it(`§7.20 ${name} (${compression}) → the sink receives exactly the spans sent`, async () => {
        const sent = await emitSpans(make(compression), 20);
        expect(sent).toHaveLength(60);
        expect(sorted(sink.spanKeys())).toEqual(sorted(sent));
        expect(new Set(sink.received.map((r) => r.encoding))).toEqual(new Set([encoding]));
        expect(sink.received.length).toBeGreaterThan(1); // batches of 16
        expect(new Set(httpEncodings)).toEqual(new Set([compression === GZIP ? "gzip" : undefined]));
      });
    }
  }

  for (const compression of [NONE, GZIP]) {
    it(`§7.19/§7.20 grpc (${compression}) → the sink receives exactly the spans sent`, async () => {
      const exporter = new GrpcExporter({
        url: grpcUrl,
        compression: compression as unknown as GrpcCompression,
        metadata: grpcAuth(),
      });
      const sent = await emitSpans(exporter, 20);
      expect(sorted(sink.spanKeys())).toEqual(sorted(sent));
      expect(sink.received.every((r) => r.encoding === "proto")).toBe(true);
    });
  }

  it("§7.16 an exporter without the token gets nothing in (401 is not retried)", async () => {
    const exporter = new ProtoExporter({ url: httpUrl });
    const spans = await captureSpans(3);
    const result = await exportOnce(exporter, spans);
    expect(result.code).toBe(1);
    expect(sink.received).toHaveLength(0);
  });

  it("§7.15 503 + Retry-After: the HTTP exporter retries and the batch lands exactly once", async () => {
    sink.overloaded = true;
    const flip = setTimeout(() => {
      sink.overloaded = false;
    }, 300);
    const started = Date.now();
    const exporter = new ProtoExporter({
      url: httpUrl,
      compression: GZIP,
      headers: authHeaders,
      timeoutMillis: 10_000,
    });
    const spans = await captureSpans(5);
    const result = await exportOnce(exporter, spans);
    clearTimeout(flip);
    expect(result.code).toBe(0);
    // The first attempt was refused, the retry waited out Retry-After: 1 before succeeding.
    expect(sink.isOverloadedCalls).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sorted(sink.spanKeys())).toEqual(
      sorted(spans.map((s) => `${s.spanContext().traceId}/${s.spanContext().spanId}`)),
    );
    await exporter.shutdown();
  });

  it("§7.15 the JSON exporter also retries after a sink-reported overload", async () => {
    let refusals = 1;
    sink.respond = () => {
      if (refusals > 0) {
        refusals -= 1;
        sink.received.length = 0; // the refused attempt was not stored
        return { status: "overloaded", retryAfterSeconds: 1 };
      }
      return { status: "accepted", rejectedSpans: 0, errorMessage: null };
    };
    const exporter = new JsonExporter({ url: httpUrl, headers: authHeaders, timeoutMillis: 10_000 });
    const spans = await captureSpans(4);
    expect((await exportOnce(exporter, spans)).code).toBe(0);
    expect(sink.spanKeys()).toHaveLength(4);
    await exporter.shutdown();
  });

  it("§7.15 gRPC UNAVAILABLE fails that export; the next one succeeds once the sink recovers", async () => {
    const exporter = new GrpcExporter({ url: grpcUrl, metadata: grpcAuth() });
    const spans = await captureSpans(3);
    sink.overloaded = true;
    expect((await exportOnce(exporter, spans)).code).toBe(1);
    expect(sink.received).toHaveLength(0);
    sink.overloaded = false;
    expect((await exportOnce(exporter, spans)).code).toBe(0);
    expect(sink.spanKeys()).toHaveLength(3);
    await exporter.shutdown();
  });
});

/** Finished spans as the SDK hands them to exporters. */
async function captureSpans(count: number): Promise<ReturnType<InMemorySpanExporter["getFinishedSpans"]>> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer("capture");
  for (let i = 0; i < count; i++) tracer.startSpan(`op ${i}`).end();
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

function exportOnce(
  exporter: SpanExporter,
  spans: ReturnType<InMemorySpanExporter["getFinishedSpans"]>,
): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}
