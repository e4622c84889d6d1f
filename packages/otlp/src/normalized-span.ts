/**
 * The normalized span model: what the decoders produce from OTLP protobuf, OTLP/JSON and Faro, and
 * all that aggregation and detection read. Only the attributes detection needs are kept, already
 * resolved from their current and deprecated semantic-convention names.
 */

/**
 * OpenTelemetry span kinds, lower-cased (proto enum 0..5), plus "browser" for the spans Faultline
 * makes from Faro signals (page loads, browser exceptions), which no OTLP span kind describes.
 */
export type SpanKind = "unspecified" | "internal" | "server" | "client" | "producer" | "consumer" | "browser";

/** Span status code (proto enum 0..2). */
export type SpanStatusCode = "unset" | "ok" | "error";

/** Resource identity, shared by every span of one ResourceSpans (the same object, not copies). */
export interface NormalizedResource {
  /** `service.name`; "unknown_service" when absent, as the SDKs do. */
  serviceName: string;
  /** `service.version`, or null. */
  serviceVersion: string | null;
  /** `service.instance.id`, else `k8s.pod.name`, else `host.name`, else null. */
  serviceInstanceId: string | null;
  /** `deployment.environment.name`, else the deprecated `deployment.environment`, else null. */
  environment: string | null;
  /** `cloud.region`, or null. */
  region: string | null;
  /** `telemetry.sdk.language` (e.g. "nodejs", "webjs", "swift", "java"), or null. */
  sdkLanguage: string | null;
  /** `os.type` or `os.name`, lower-cased (used to tell iOS/Android/web surfaces), or null. */
  osType: string | null;
}

export interface SpanLink {
  /** 32 lower-case hex characters. */
  traceId: string;
  /** 16 lower-case hex characters. */
  spanId: string;
}

/** The first `exception` event of a span. */
export interface SpanException {
  type: string | null;
  message: string | null;
  /** The first few lines of `exception.stacktrace`, or null. */
  stack: string | null;
}

/** Attributes detection and attribution use; null when the span does not carry them. */
export interface SpanAttributes {
  httpMethod: string | null;
  httpRoute: string | null;
  /** `http.response.status_code`, else the deprecated `http.status_code`. */
  httpStatusCode: number | null;
  rpcSystem: string | null;
  rpcService: string | null;
  rpcMethod: string | null;
  rpcGrpcStatusCode: number | null;
  messagingSystem: string | null;
  /** `messaging.destination.name`. */
  messagingDestination: string | null;
  /** `messaging.operation.type`, else the deprecated `messaging.operation` (e.g. "send", "process", "receive"). */
  messagingOperationType: string | null;
  /** `server.address`, else `net.peer.name`. */
  serverAddress: string | null;
  peerService: string | null;
  errorType: string | null;
  /** `enduser.id`, else `user.id`. */
  userId: string | null;
  sessionId: string | null;
  /** `app.platform` (web/ios/android/api) when the app sets it. */
  platform: string | null;
}

export interface NormalizedSpan {
  resource: NormalizedResource;
  /** 32 lower-case hex characters. */
  traceId: string;
  /** 16 lower-case hex characters. */
  spanId: string;
  /** 16 lower-case hex characters, or null for a root span. */
  parentSpanId: string | null;
  name: string;
  kind: SpanKind;
  /** Nanoseconds since the Unix epoch, full precision. */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** Start in milliseconds since the epoch (float), for bucketing without bigint math. */
  startTimeMs: number;
  /** Duration in milliseconds (float, never negative). */
  durationMs: number;
  statusCode: SpanStatusCode;
  statusMessage: string | null;
  links: SpanLink[];
  attributes: SpanAttributes;
  exception: SpanException | null;
}

/** Bounds that protect the decoders from hostile or broken input. */
export interface DecodeLimits {
  /** Attributes read per span, resource or event; the rest are skipped. */
  maxAttributes: number;
  /** Longer strings are truncated to this many characters. */
  maxStringLength: number;
  /** Deepest AnyValue nesting (arrays, kvlists) that is followed before the value is dropped. */
  maxDepth: number;
  /** Links read per span. */
  maxLinks: number;
  /** Stack lines kept from `exception.stacktrace`. */
  maxStackLines: number;
}

export const defaultDecodeLimits: DecodeLimits = {
  maxAttributes: 128,
  maxStringLength: 4096,
  maxDepth: 8,
  maxLinks: 32,
  maxStackLines: 5,
};

/** Spans the decoder dropped individually (the rest of the request is kept: OTLP partial success). */
export interface DecodeRejection {
  count: number;
  /** Short English reasons, deduplicated, for `partial_success.error_message`. */
  reasons: string[];
}

export interface DecodeResult {
  spans: NormalizedSpan[];
  rejected: DecodeRejection;
}

/** Thrown when a request cannot be decoded at all: the receiver answers 400 (gRPC INVALID_ARGUMENT). */
export class OtlpDecodeError extends Error {
  override readonly name = "OtlpDecodeError";
}
