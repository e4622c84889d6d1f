/**
 * The one place that knows which OTLP attribute keys Faultline reads and how current and deprecated
 * semantic-convention names resolve into NormalizedResource, SpanAttributes and SpanException.
 *
 * Both decoders (protobuf and JSON) collect the scalar value of each recognised key into a slot array
 * indexed by the constants below, then call the `normalize*` functions. Keys are looked up in Maps (or
 * byte tables built from these Maps), never used as object property names, so hostile keys such as
 * `__proto__` cannot reach any prototype.
 */
import type { DecodeLimits, NormalizedResource, SpanAttributes, SpanException } from "./normalized-span.ts";

/**
 * The scalar an attribute carried: string, bool, int64 (number when it is a safe integer, bigint
 * otherwise) or double. `null` marks a value that is present but not scalar (array, kvlist, bytes or
 * an empty AnyValue); it still claims the slot, so the first occurrence of a key wins.
 */
export type AttributeScalar = string | number | bigint | boolean | null;

/** Slot values collected for one resource, span or event; `undefined` = key not seen. */
export type AttributeSlotValues = Array<AttributeScalar | undefined>;

const resourceSlot = {
  serviceName: 0,
  serviceVersion: 1,
  serviceInstanceId: 2,
  k8sPodName: 3,
  hostName: 4,
  environmentName: 5,
  deprecatedEnvironment: 6,
  cloudRegion: 7,
  sdkLanguage: 8,
  osType: 9,
  osName: 10,
} as const;

const spanSlot = {
  httpRequestMethod: 0,
  deprecatedHttpMethod: 1,
  httpRoute: 2,
  httpResponseStatusCode: 3,
  deprecatedHttpStatusCode: 4,
  rpcSystem: 5,
  rpcService: 6,
  rpcMethod: 7,
  rpcGrpcStatusCode: 8,
  messagingSystem: 9,
  messagingDestinationName: 10,
  messagingOperationType: 11,
  deprecatedMessagingOperation: 12,
  serverAddress: 13,
  deprecatedNetPeerName: 14,
  peerService: 15,
  errorType: 16,
  enduserId: 17,
  userId: 18,
  sessionId: 19,
  appPlatform: 20,
} as const;

const exceptionSlot = {
  type: 0,
  message: 1,
  stacktrace: 2,
} as const;

/** Resource attribute key → slot. */
export const resourceAttributeSlots: ReadonlyMap<string, number> = new Map<string, number>([
  ["service.name", resourceSlot.serviceName],
  ["service.version", resourceSlot.serviceVersion],
  ["service.instance.id", resourceSlot.serviceInstanceId],
  ["k8s.pod.name", resourceSlot.k8sPodName],
  ["host.name", resourceSlot.hostName],
  ["deployment.environment.name", resourceSlot.environmentName],
  ["deployment.environment", resourceSlot.deprecatedEnvironment],
  ["cloud.region", resourceSlot.cloudRegion],
  ["telemetry.sdk.language", resourceSlot.sdkLanguage],
  ["os.type", resourceSlot.osType],
  ["os.name", resourceSlot.osName],
]);

/** Span attribute key → slot (current and deprecated names get separate slots; current wins). */
export const spanAttributeSlots: ReadonlyMap<string, number> = new Map<string, number>([
  ["http.request.method", spanSlot.httpRequestMethod],
  ["http.method", spanSlot.deprecatedHttpMethod],
  ["http.route", spanSlot.httpRoute],
  ["http.response.status_code", spanSlot.httpResponseStatusCode],
  ["http.status_code", spanSlot.deprecatedHttpStatusCode],
  ["rpc.system", spanSlot.rpcSystem],
  ["rpc.service", spanSlot.rpcService],
  ["rpc.method", spanSlot.rpcMethod],
  ["rpc.grpc.status_code", spanSlot.rpcGrpcStatusCode],
  ["messaging.system", spanSlot.messagingSystem],
  ["messaging.destination.name", spanSlot.messagingDestinationName],
  ["messaging.operation.type", spanSlot.messagingOperationType],
  ["messaging.operation", spanSlot.deprecatedMessagingOperation],
  ["server.address", spanSlot.serverAddress],
  ["net.peer.name", spanSlot.deprecatedNetPeerName],
  ["peer.service", spanSlot.peerService],
  ["error.type", spanSlot.errorType],
  ["enduser.id", spanSlot.enduserId],
  ["user.id", spanSlot.userId],
  ["session.id", spanSlot.sessionId],
  ["app.platform", spanSlot.appPlatform],
]);

/** Attribute key → slot for the first `exception` event of a span. */
export const exceptionAttributeSlots: ReadonlyMap<string, number> = new Map<string, number>([
  ["exception.type", exceptionSlot.type],
  ["exception.message", exceptionSlot.message],
  ["exception.stacktrace", exceptionSlot.stacktrace],
]);

export const resourceSlotCount = resourceAttributeSlots.size;
export const spanSlotCount = spanAttributeSlots.size;
export const exceptionSlotCount = exceptionAttributeSlots.size;

/** The event name that carries exception attributes (semantic conventions, exceptions on spans). */
export const exceptionEventName = "exception";

/**
 * Cuts `text` to at most `maxLength` UTF-16 code units without leaving half a surrogate pair at the
 * end. Strings within the limit are returned unchanged (same instance).
 */
export function truncateString(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = Math.max(0, maxLength);
  const last = text.charCodeAt(end - 1);
  // A high surrogate whose low half was cut would render as garbage: drop it too.
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

/** The text of a scalar attribute; empty strings and non-scalars count as absent (null). */
export function scalarToText(value: AttributeScalar | undefined): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "string") return value;
  return String(value);
}

const integerTextPattern = /^-?\d{1,15}$/;

/**
 * The integer a status-code-like attribute carried: int64 (within the safe range), an integral double,
 * or a decimal string of at most 15 digits (some SDKs send codes as strings). Otherwise null.
 */
export function scalarToInteger(value: AttributeScalar | undefined): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : null;
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : null;
  }
  if (typeof value === "string" && integerTextPattern.test(value)) return Number(value);
  return null;
}

/** Creates an empty slot array for `slotCount` slots. */
export function createSlotValues(slotCount: number): AttributeSlotValues {
  return new Array<AttributeScalar | undefined>(slotCount).fill(undefined);
}

/** Builds the resource identity from collected resource slots. */
export function normalizeResource(values: AttributeSlotValues): NormalizedResource {
  const osType = scalarToText(values[resourceSlot.osType]) ?? scalarToText(values[resourceSlot.osName]);
  return {
    serviceName: scalarToText(values[resourceSlot.serviceName]) ?? "unknown_service",
    serviceVersion: scalarToText(values[resourceSlot.serviceVersion]),
    serviceInstanceId:
      scalarToText(values[resourceSlot.serviceInstanceId]) ??
      scalarToText(values[resourceSlot.k8sPodName]) ??
      scalarToText(values[resourceSlot.hostName]),
    environment:
      scalarToText(values[resourceSlot.environmentName]) ??
      scalarToText(values[resourceSlot.deprecatedEnvironment]),
    region: scalarToText(values[resourceSlot.cloudRegion]),
    sdkLanguage: scalarToText(values[resourceSlot.sdkLanguage]),
    osType: osType === null ? null : osType.toLowerCase(),
  };
}

/** Builds SpanAttributes from collected span slots, preferring current names over deprecated ones. */
export function normalizeSpanAttributes(values: AttributeSlotValues): SpanAttributes {
  return {
    httpMethod:
      scalarToText(values[spanSlot.httpRequestMethod]) ?? scalarToText(values[spanSlot.deprecatedHttpMethod]),
    httpRoute: scalarToText(values[spanSlot.httpRoute]),
    httpStatusCode:
      scalarToInteger(values[spanSlot.httpResponseStatusCode]) ??
      scalarToInteger(values[spanSlot.deprecatedHttpStatusCode]),
    rpcSystem: scalarToText(values[spanSlot.rpcSystem]),
    rpcService: scalarToText(values[spanSlot.rpcService]),
    rpcMethod: scalarToText(values[spanSlot.rpcMethod]),
    rpcGrpcStatusCode: scalarToInteger(values[spanSlot.rpcGrpcStatusCode]),
    messagingSystem: scalarToText(values[spanSlot.messagingSystem]),
    messagingDestination: scalarToText(values[spanSlot.messagingDestinationName]),
    messagingOperationType:
      scalarToText(values[spanSlot.messagingOperationType]) ??
      scalarToText(values[spanSlot.deprecatedMessagingOperation]),
    serverAddress:
      scalarToText(values[spanSlot.serverAddress]) ?? scalarToText(values[spanSlot.deprecatedNetPeerName]),
    peerService: scalarToText(values[spanSlot.peerService]),
    errorType: scalarToText(values[spanSlot.errorType]),
    userId: scalarToText(values[spanSlot.enduserId]) ?? scalarToText(values[spanSlot.userId]),
    sessionId: scalarToText(values[spanSlot.sessionId]),
    platform: scalarToText(values[spanSlot.appPlatform]),
  };
}

/**
 * SpanAttributes read from slots on demand, with exactly the rules of normalizeSpanAttributes (current
 * names before deprecated ones, empty and non-scalar values absent): the lazy protobuf path reads two
 * or three attributes of a span, so it decodes only those. Subclasses say where a slot's value is.
 */
export abstract class SpanAttributesOfSlots implements SpanAttributes {
  /** The scalar of `slot` (a span slot), undefined when the key was not seen. */
  abstract slot(slot: number): AttributeScalar | undefined;

  get httpMethod(): string | null {
    return (
      scalarToText(this.slot(spanSlot.httpRequestMethod)) ??
      scalarToText(this.slot(spanSlot.deprecatedHttpMethod))
    );
  }
  get httpRoute(): string | null {
    return scalarToText(this.slot(spanSlot.httpRoute));
  }
  get httpStatusCode(): number | null {
    return (
      scalarToInteger(this.slot(spanSlot.httpResponseStatusCode)) ??
      scalarToInteger(this.slot(spanSlot.deprecatedHttpStatusCode))
    );
  }
  get rpcSystem(): string | null {
    return scalarToText(this.slot(spanSlot.rpcSystem));
  }
  get rpcService(): string | null {
    return scalarToText(this.slot(spanSlot.rpcService));
  }
  get rpcMethod(): string | null {
    return scalarToText(this.slot(spanSlot.rpcMethod));
  }
  get rpcGrpcStatusCode(): number | null {
    return scalarToInteger(this.slot(spanSlot.rpcGrpcStatusCode));
  }
  get messagingSystem(): string | null {
    return scalarToText(this.slot(spanSlot.messagingSystem));
  }
  get messagingDestination(): string | null {
    return scalarToText(this.slot(spanSlot.messagingDestinationName));
  }
  get messagingOperationType(): string | null {
    return (
      scalarToText(this.slot(spanSlot.messagingOperationType)) ??
      scalarToText(this.slot(spanSlot.deprecatedMessagingOperation))
    );
  }
  get serverAddress(): string | null {
    return (
      scalarToText(this.slot(spanSlot.serverAddress)) ??
      scalarToText(this.slot(spanSlot.deprecatedNetPeerName))
    );
  }
  get peerService(): string | null {
    return scalarToText(this.slot(spanSlot.peerService));
  }
  get errorType(): string | null {
    return scalarToText(this.slot(spanSlot.errorType));
  }
  get userId(): string | null {
    return scalarToText(this.slot(spanSlot.enduserId)) ?? scalarToText(this.slot(spanSlot.userId));
  }
  get sessionId(): string | null {
    return scalarToText(this.slot(spanSlot.sessionId));
  }
  get platform(): string | null {
    return scalarToText(this.slot(spanSlot.appPlatform));
  }
}

/** Keeps the first `maxLines` lines of a stack trace (line breaks normalised to "\n"). */
export function firstStackLines(stack: string, maxLines: number): string | null {
  if (maxLines <= 0) return null;
  const lines = stack.split(/\r?\n/, maxLines);
  return lines.join("\n");
}

/** Builds the exception summary from the slots of a span's first `exception` event. */
export function normalizeException(values: AttributeSlotValues, limits: DecodeLimits): SpanException {
  const stack = scalarToText(values[exceptionSlot.stacktrace]);
  return {
    type: scalarToText(values[exceptionSlot.type]),
    message: scalarToText(values[exceptionSlot.message]),
    stack: stack === null ? null : firstStackLines(stack, limits.maxStackLines),
  };
}
