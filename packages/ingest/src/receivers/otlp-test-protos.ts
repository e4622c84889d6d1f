// Test support only: a protobufjs schema for the few OTLP and google.rpc messages the tests build
// and inspect (field numbers from opentelemetry-proto and googleapis). Unlisted fields are skipped.
import protobuf from "protobufjs";

const schema = `
syntax = "proto3";
package t;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; } }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
}
message ExportTraceServiceResponse { PartialSuccess partial_success = 1; }
message PartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message Any { string type_url = 1; bytes value = 2; }
message RetryInfo { Duration retry_delay = 1; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
`;

const root = protobuf.parse(schema, { keepCase: false }).root;

/** Message types for tests, by short name. */
export const otlpTestProtos = {
  request: root.lookupType("t.ExportTraceServiceRequest"),
  response: root.lookupType("t.ExportTraceServiceResponse"),
  status: root.lookupType("t.Status"),
  retryInfo: root.lookupType("t.RetryInfo"),
};

/** One span of a hand-built test request. */
export interface TestSpan {
  traceId: string;
  spanId: string;
  name: string;
}

/** Encodes an `ExportTraceServiceRequest` with the given spans under one resource and scope. */
export function encodeTestRequest(spans: readonly TestSpan[], serviceName = "checkout"): Uint8Array {
  const message = otlpTestProtos.request.fromObject({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: serviceName } }] },
        scopeSpans: [
          {
            scope: { name: "test" },
            spans: spans.map((s) => ({
              traceId: Buffer.from(s.traceId, "hex"),
              spanId: Buffer.from(s.spanId, "hex"),
              name: s.name,
              kind: 2,
              startTimeUnixNano: "1700000000000000000",
              endTimeUnixNano: "1700000000100000000",
            })),
          },
        ],
      },
    ],
  });
  return otlpTestProtos.request.encode(message).finish();
}

/** The same request in OTLP/JSON (hex ids, string int64s). */
export function encodeTestRequestJson(spans: readonly TestSpan[], serviceName = "checkout"): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: serviceName } }] },
          scopeSpans: [
            {
              scope: { name: "test" },
              spans: spans.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                name: s.name,
                kind: 2,
                startTimeUnixNano: "1700000000000000000",
                endTimeUnixNano: "1700000000100000000",
              })),
            },
          ],
        },
      ],
    }),
  );
}
