/**
 * The official OTLP protobuf definitions as generated protobufjs static code, shipped inside
 * @opentelemetry/otlp-transformer (the JS SDK's own exporter encodes with it): the independent reference
 * the hand decoder is compared with. The package types the module only as a protobufjs Root, so the
 * shapes of decoded messages are declared here.
 */
import { createRequire } from "node:module";

/** protobufjs represents 64-bit integers as Long objects (or numbers when they fit). */
export type ProtoLong = number | { toString(): string };

export interface DecodedAnyValue {
  /** Name of the oneof member that is set (protobufjs virtual oneof property). */
  value?: string;
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: ProtoLong | null;
  doubleValue?: number | null;
  arrayValue?: unknown;
  kvlistValue?: unknown;
  bytesValue?: Uint8Array | null;
}
export interface DecodedKeyValue {
  key?: string | null;
  value?: DecodedAnyValue | null;
}
export interface DecodedEvent {
  name?: string | null;
  attributes?: DecodedKeyValue[] | null;
}
export interface DecodedLink {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
}
export interface DecodedSpan {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  parentSpanId?: Uint8Array | null;
  name?: string | null;
  kind?: number | null;
  startTimeUnixNano?: ProtoLong | null;
  endTimeUnixNano?: ProtoLong | null;
  attributes?: DecodedKeyValue[] | null;
  events?: DecodedEvent[] | null;
  links?: DecodedLink[] | null;
  status?: { code?: number | null; message?: string | null } | null;
}
export interface DecodedRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: DecodedKeyValue[] | null } | null;
    scopeSpans?: Array<{ spans?: DecodedSpan[] | null }> | null;
  }> | null;
}
export interface DecodedResponse {
  partialSuccess?: { rejectedSpans?: ProtoLong | null; errorMessage?: string | null } | null;
}

interface StaticMessageType<Message> {
  decode(bytes: Uint8Array): Message;
  encode(message: object): { finish(): Uint8Array };
}

interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: StaticMessageType<DecodedRequest>;
            ExportTraceServiceResponse: StaticMessageType<DecodedResponse>;
          };
        };
      };
    };
  };
}

const require = createRequire(import.meta.url);
const generatedRoot = require("@opentelemetry/otlp-transformer/build/src/generated/root.js") as GeneratedRoot;

export const ExportTraceServiceRequestType =
  generatedRoot.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
export const ExportTraceServiceResponseType =
  generatedRoot.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
