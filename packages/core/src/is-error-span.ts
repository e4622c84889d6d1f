import type { NormalizedSpan } from "@faultline/otlp";

// gRPC codes a server reports as its own failure (OpenTelemetry RPC conventions): UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. Client-caused codes
// (INVALID_ARGUMENT, NOT_FOUND, …) are the caller's error, not this server's.
const grpcServerErrorCodes: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/**
 * Whether a span counts as an error in its series:
 * - its status is `error`; or
 * - its status is `unset` and it is a SERVER span that answered HTTP ≥ 500 or one of the gRPC codes a
 *   server owns (some instrumentations leave the status unset; the semantic conventions say those
 *   responses are server errors).
 * An explicit `ok` status wins over a status code: the spec makes `ok` a final word from the app.
 * HTTP 4xx on a SERVER span is the client's fault and not an error here; CLIENT spans count only by
 * status, since their instrumentation already sets `error` for 4xx/5xx as the conventions ask.
 */
export function isErrorSpan(span: NormalizedSpan): boolean {
  if (span.statusCode === "error") return true;
  if (span.statusCode === "ok" || span.kind !== "server") return false;
  const http = span.attributes.httpStatusCode;
  if (http !== null && http >= 500) return true;
  const grpc = span.attributes.rpcGrpcStatusCode;
  return grpc !== null && grpcServerErrorCodes.has(grpc);
}
