/**
 * Payloads produced by the real OpenTelemetry JS exporter serializers (the bytes an SDK sends us),
 * decoded by both decoders and checked against what the SDK recorded.
 */
import { context, type Link, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { decodeParsedTraceRequestJson } from "./decode-parsed-trace-request-json.ts";
import { decodeTraceRequestJson } from "./decode-trace-request-json.ts";
import { decodeTraceRequestProto } from "./decode-trace-request-proto.ts";
import { type DecodeResult, defaultDecodeLimits, type NormalizedSpan } from "./normalized-span.ts";
import { scanTraceRequestJson } from "./scan-trace-request-json.ts";

function recordSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": "dm-delivery",
      "service.version": "2.4.1",
      "service.instance.id": "dm-delivery-7f9c",
      "deployment.environment.name": "production",
      "cloud.region": "eu-west-1",
      "telemetry.sdk.language": "nodejs",
      "os.type": "Linux",
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("faultline-test", "1.0.0");

  const producerLink: Link = {
    context: { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 },
    attributes: { "messaging.message.id": "m-1" },
  };
  const root = tracer.startSpan("process dm.outbox", {
    kind: SpanKind.CONSUMER,
    startTime: [1_750_000_000, 123_456_789],
    links: [producerLink],
    attributes: {
      "messaging.system": "kafka",
      "messaging.destination.name": "dm.outbox",
      "messaging.operation": "process",
      "enduser.id": "user-42",
      "app.platform": "ios",
      "unrelated.attribute": [1, 2, 3],
    },
  });
  const child = tracer.startSpan(
    "POST /v1/messages",
    {
      kind: SpanKind.CLIENT,
      startTime: [1_750_000_000, 200_000_001],
      attributes: {
        "http.request.method": "POST",
        "http.route": "/v1/messages",
        "http.response.status_code": 503,
        "server.address": "messages.internal",
        "error.type": "503",
      },
    },
    trace.setSpan(context.active(), root),
  );
  const failure = new TypeError("upstream unavailable");
  failure.stack = "TypeError: upstream unavailable\n    at send (a.js:1:1)\n    at b (b.js:2:2)";
  child.recordException(failure, [1_750_000_000, 300_000_000]);
  child.setStatus({ code: SpanStatusCode.ERROR, message: "upstream unavailable" });
  child.end([1_750_000_000, 450_000_999]);
  root.end([1_750_000_001, 5]);
  return exporter.getFinishedSpans();
}

function hrTimeToNanos(time: readonly [number, number]): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

function expectMatchesRecorded(result: DecodeResult, recorded: ReadableSpan[]): void {
  expect(result.rejected).toEqual({ count: 0, reasons: [] });
  expect(result.spans).toHaveLength(recorded.length);
  const byId = new Map<string, NormalizedSpan>(result.spans.map((span) => [span.spanId, span]));
  for (const sdkSpan of recorded) {
    const span = byId.get(sdkSpan.spanContext().spanId);
    if (span === undefined) throw new Error(`span ${sdkSpan.spanContext().spanId} missing`);
    const start = hrTimeToNanos(sdkSpan.startTime);
    const end = hrTimeToNanos(sdkSpan.endTime);
    expect(span.traceId).toBe(sdkSpan.spanContext().traceId);
    expect(span.parentSpanId).toBe(sdkSpan.parentSpanContext?.spanId ?? null);
    expect(span.name).toBe(sdkSpan.name);
    expect(span.startTimeUnixNano).toBe(start);
    expect(span.endTimeUnixNano).toBe(end);
    expect(span.startTimeMs).toBe(Number(start) / 1e6);
    expect(span.durationMs).toBe(Number(end - start) / 1e6);
    expect(span.links).toEqual(
      sdkSpan.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    );
    expect(span.resource).toEqual({
      serviceName: "dm-delivery",
      serviceVersion: "2.4.1",
      serviceInstanceId: "dm-delivery-7f9c",
      environment: "production",
      region: "eu-west-1",
      sdkLanguage: "nodejs",
      osType: "linux",
    });
  }
  const consumer = result.spans.find((span) => span.kind === "consumer");
  const client = result.spans.find((span) => span.kind === "client");
  expect(consumer?.resource).toBe(client?.resource);
  expect(consumer?.attributes).toMatchObject({
    messagingSystem: "kafka",
    messagingDestination: "dm.outbox",
    messagingOperationType: "process",
    userId: "user-42",
    platform: "ios",
    httpMethod: null,
  });
  expect(consumer?.statusCode).toBe("unset");
  expect(consumer?.exception).toBeNull();
  expect(client?.attributes).toMatchObject({
    httpMethod: "POST",
    httpRoute: "/v1/messages",
    httpStatusCode: 503,
    serverAddress: "messages.internal",
    errorType: "503",
    messagingSystem: null,
  });
  expect(client?.statusCode).toBe("error");
  expect(client?.statusMessage).toBe("upstream unavailable");
  expect(client?.exception).toEqual({
    type: "TypeError",
    message: "upstream unavailable",
    stack: "TypeError: upstream unavailable\n    at send (a.js:1:1)\n    at b (b.js:2:2)",
  });
}

describe("payloads from the OpenTelemetry JS exporter serializers", () => {
  const recorded = recordSpans();

  it("records the spans the test expects", () => {
    expect(recorded).toHaveLength(2);
  });

  it("decodes ProtobufTraceSerializer output exactly", () => {
    const bytes = ProtobufTraceSerializer.serializeRequest(recorded);
    if (bytes === undefined) throw new Error("serializer returned nothing");
    expectMatchesRecorded(decodeTraceRequestProto(bytes), recorded);
  });

  it("decodes JsonTraceSerializer output exactly", () => {
    const bytes = JsonTraceSerializer.serializeRequest(recorded);
    if (bytes === undefined) throw new Error("serializer returned nothing");
    expectMatchesRecorded(decodeTraceRequestJson(bytes), recorded);
    // The exporter's own output takes the single-pass scanner, not the JSON.parse fallback.
    const scanned = scanTraceRequestJson(bytes, defaultDecodeLimits);
    if (scanned === null) throw new Error("the scanner handed the exporter's JSON to JSON.parse");
    expectMatchesRecorded(scanned, recorded);
    expectMatchesRecorded(decodeParsedTraceRequestJson(bytes, defaultDecodeLimits), recorded);
  });
});
