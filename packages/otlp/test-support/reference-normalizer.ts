/**
 * An independent, deliberately plain implementation of Faultline's normalization rules on top of
 * messages decoded by protobufjs. It shares no code with src/ (only the types), so the differential
 * test checks the wire decoding and the normalization rules of the hand decoder at once.
 */
import type {
  DecodeLimits,
  DecodeResult,
  NormalizedResource,
  NormalizedSpan,
  SpanAttributes,
  SpanKind,
  SpanLink,
  SpanStatusCode,
} from "../src/normalized-span.ts";
import type { DecodedAnyValue, DecodedKeyValue, DecodedRequest, ProtoLong } from "./otlp-proto-root.ts";

type Scalar = string | number | bigint | boolean | null;

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let result = text.slice(0, max);
  const last = result.charCodeAt(result.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) result = result.slice(0, -1);
  return result;
}

function toBigInt(value: ProtoLong | null | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  return BigInt(value.toString());
}

function scalarOf(value: DecodedAnyValue | null | undefined, limits: DecodeLimits): Scalar {
  if (value === null || value === undefined) return null;
  switch (value.value) {
    case "stringValue":
      return cut(value.stringValue ?? "", limits.maxStringLength);
    case "boolValue":
      return value.boolValue ?? false;
    case "intValue": {
      const big = BigInt.asIntN(64, toBigInt(value.intValue));
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    case "doubleValue":
      return value.doubleValue ?? 0;
    default:
      return null;
  }
}

/** key → first scalar, over the first maxAttributes entries. */
function firstValues(list: DecodedKeyValue[] | null | undefined, limits: DecodeLimits): Map<string, Scalar> {
  const values = new Map<string, Scalar>();
  for (const keyValue of (list ?? []).slice(0, limits.maxAttributes)) {
    const key = keyValue.key ?? "";
    if (!values.has(key)) values.set(key, scalarOf(keyValue.value, limits));
  }
  return values;
}

function text(values: Map<string, Scalar>, key: string): string | null {
  const value = values.get(key);
  if (value === undefined || value === null || value === "") return null;
  return String(value);
}

function integer(values: Map<string, Scalar>, key: string): number | null {
  const value = values.get(key);
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : null;
  if (typeof value === "bigint") return null;
  if (typeof value === "string" && /^-?[0-9]{1,15}$/.test(value)) return Number.parseInt(value, 10);
  return null;
}

function hex(bytes: Uint8Array | null | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array(0)).toString("hex");
}

function isValidId(bytes: Uint8Array | null | undefined, length: number): boolean {
  return bytes !== null && bytes !== undefined && bytes.length === length && bytes.some((byte) => byte !== 0);
}

const kinds: SpanKind[] = ["unspecified", "internal", "server", "client", "producer", "consumer"];
const statuses: SpanStatusCode[] = ["unset", "ok", "error"];

/** Normalizes a protobufjs-decoded request by Faultline's rules (see decodeTraceRequestProto JSDoc). */
export function normalizeReference(request: DecodedRequest, limits: DecodeLimits): DecodeResult {
  const spans: NormalizedSpan[] = [];
  let rejectedCount = 0;
  const reasons: string[] = [];
  const reject = (reason: string): void => {
    rejectedCount += 1;
    if (!reasons.includes(reason)) reasons.push(reason);
  };
  for (const resourceSpans of request.resourceSpans ?? []) {
    const r = firstValues(resourceSpans.resource?.attributes, limits);
    const os = text(r, "os.type") ?? text(r, "os.name");
    const resource: NormalizedResource = {
      serviceName: text(r, "service.name") ?? "unknown_service",
      serviceVersion: text(r, "service.version"),
      serviceInstanceId: text(r, "service.instance.id") ?? text(r, "k8s.pod.name") ?? text(r, "host.name"),
      environment: text(r, "deployment.environment.name") ?? text(r, "deployment.environment"),
      region: text(r, "cloud.region"),
      sdkLanguage: text(r, "telemetry.sdk.language"),
      osType: os === null ? null : os.toLowerCase(),
    };
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const name = cut(span.name ?? "", limits.maxStringLength);
        const start = toBigInt(span.startTimeUnixNano);
        const end = toBigInt(span.endTimeUnixNano);
        if (!isValidId(span.traceId, 16)) {
          reject("span with empty or all-zero trace id");
          continue;
        }
        if (!isValidId(span.spanId, 8)) {
          reject("span with empty or all-zero span id");
          continue;
        }
        if (name === "") {
          reject("span with empty name");
          continue;
        }
        if (end < start) {
          reject("span ending before it starts");
          continue;
        }
        const a = firstValues(span.attributes, limits);
        const attributes: SpanAttributes = {
          httpMethod: text(a, "http.request.method") ?? text(a, "http.method"),
          httpRoute: text(a, "http.route"),
          httpStatusCode: integer(a, "http.response.status_code") ?? integer(a, "http.status_code"),
          rpcSystem: text(a, "rpc.system"),
          rpcService: text(a, "rpc.service"),
          rpcMethod: text(a, "rpc.method"),
          rpcGrpcStatusCode: integer(a, "rpc.grpc.status_code"),
          messagingSystem: text(a, "messaging.system"),
          messagingDestination: text(a, "messaging.destination.name"),
          messagingOperationType: text(a, "messaging.operation.type") ?? text(a, "messaging.operation"),
          serverAddress: text(a, "server.address") ?? text(a, "net.peer.name"),
          peerService: text(a, "peer.service"),
          errorType: text(a, "error.type"),
          userId: text(a, "enduser.id") ?? text(a, "user.id"),
          sessionId: text(a, "session.id"),
          platform: text(a, "app.platform"),
        };
        const exceptionEvent = (span.events ?? []).find((event) => (event.name ?? "") === "exception");
        let exception: NormalizedSpan["exception"] = null;
        if (exceptionEvent !== undefined) {
          const e = firstValues(exceptionEvent.attributes, limits);
          const stack = text(e, "exception.stacktrace");
          exception = {
            type: text(e, "exception.type"),
            message: text(e, "exception.message"),
            stack:
              stack === null || limits.maxStackLines <= 0
                ? null
                : stack.split(/\r?\n/).slice(0, limits.maxStackLines).join("\n"),
          };
        }
        const links: SpanLink[] = [];
        for (const link of (span.links ?? []).slice(0, limits.maxLinks)) {
          if (isValidId(link.traceId, 16) && isValidId(link.spanId, 8)) {
            links.push({ traceId: hex(link.traceId), spanId: hex(link.spanId) });
          }
        }
        const statusMessage = cut(span.status?.message ?? "", limits.maxStringLength);
        spans.push({
          resource,
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: isValidId(span.parentSpanId, 8) ? hex(span.parentSpanId) : null,
          name,
          kind: kinds[span.kind ?? 0] ?? "unspecified",
          startTimeUnixNano: start,
          endTimeUnixNano: end,
          startTimeMs: Number(start) / 1e6,
          durationMs: Number(end - start) / 1e6,
          statusCode: statuses[span.status?.code ?? 0] ?? "unset",
          statusMessage: statusMessage === "" ? null : statusMessage,
          links,
          attributes,
          exception,
        });
      }
    }
  }
  return { spans, rejected: { count: rejectedCount, reasons } };
}
