import type { NormalizedResource, NormalizedSpan, SpanAttributes } from "@faultline/otlp";

/** A resource for tests; every field can be overridden. */
export function makeResource(overrides: Partial<NormalizedResource> = {}): NormalizedResource {
  return {
    serviceName: "dm-api",
    serviceVersion: "1.0.0",
    serviceInstanceId: "dm-api-1",
    environment: "production",
    region: null,
    sdkLanguage: "go",
    osType: null,
    ...overrides,
  };
}

const emptyAttributes: SpanAttributes = {
  httpMethod: null,
  httpRoute: null,
  httpStatusCode: null,
  rpcSystem: null,
  rpcService: null,
  rpcMethod: null,
  rpcGrpcStatusCode: null,
  messagingSystem: null,
  messagingDestination: null,
  messagingOperationType: null,
  serverAddress: null,
  peerService: null,
  errorType: null,
  userId: null,
  sessionId: null,
  platform: null,
};

let spanCounter = 0;

export interface SpanOverrides extends Partial<Omit<NormalizedSpan, "attributes">> {
  attributes?: Partial<SpanAttributes>;
}

/**
 * A NormalizedSpan for tests: a 20 ms SERVER span of dm-api starting at `startTimeMs` (default
 * 2026-01-01T00:00:00Z), with fresh sequential span ids. Nano times follow the ms fields.
 */
export function makeSpan(overrides: SpanOverrides = {}): NormalizedSpan {
  spanCounter++;
  const startTimeMs = overrides.startTimeMs ?? Date.UTC(2026, 0, 1);
  const durationMs = overrides.durationMs ?? 20;
  // Broken times (NaN) are a test case of their own; the nano fields then just stay 0.
  const toNs = (ms: number): bigint => (Number.isFinite(ms) ? BigInt(Math.round(ms * 1e6)) : 0n);
  const startNs = toNs(startTimeMs);
  const { attributes, ...rest } = overrides;
  return {
    resource: makeResource(),
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: spanCounter.toString(16).padStart(16, "0"),
    parentSpanId: null,
    name: "POST /v1/dm/messages",
    kind: "server",
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + toNs(durationMs),
    startTimeMs,
    durationMs,
    statusCode: "unset",
    statusMessage: null,
    links: [],
    exception: null,
    ...rest,
    attributes: { ...emptyAttributes, ...attributes },
  };
}
