/**
 * OTLP enum numbers and names (trace.proto): SpanKind 0..5 and Status.code 0..2. Unknown numbers
 * map to "unspecified"/"unset" (a newer sender must not make a whole request fail); unknown *names*
 * in JSON are a decode error, as in the Collector.
 */
import type { SpanKind, SpanStatusCode } from "./normalized-span.ts";

const spanKindsByNumber: readonly SpanKind[] = [
  "unspecified",
  "internal",
  "server",
  "client",
  "producer",
  "consumer",
];
const statusCodesByNumber: readonly SpanStatusCode[] = ["unset", "ok", "error"];

const spanKindNumbersByName: ReadonlyMap<string, number> = new Map([
  ["SPAN_KIND_UNSPECIFIED", 0],
  ["SPAN_KIND_INTERNAL", 1],
  ["SPAN_KIND_SERVER", 2],
  ["SPAN_KIND_CLIENT", 3],
  ["SPAN_KIND_PRODUCER", 4],
  ["SPAN_KIND_CONSUMER", 5],
]);
const statusCodeNumbersByName: ReadonlyMap<string, number> = new Map([
  ["STATUS_CODE_UNSET", 0],
  ["STATUS_CODE_OK", 1],
  ["STATUS_CODE_ERROR", 2],
]);

/** SpanKind for a proto enum number; anything outside 0..5 is "unspecified". */
export function spanKindFromNumber(kind: number): SpanKind {
  return spanKindsByNumber[kind] ?? "unspecified";
}

/** Status code for a proto enum number; anything outside 0..2 is "unset". */
export function statusCodeFromNumber(code: number): SpanStatusCode {
  return statusCodesByNumber[code] ?? "unset";
}

/** The enum number of a SpanKind name such as "SPAN_KIND_SERVER", or undefined when unknown. */
export function spanKindNumberFromName(name: string): number | undefined {
  return spanKindNumbersByName.get(name);
}

/** The enum number of a status code name such as "STATUS_CODE_ERROR", or undefined when unknown. */
export function statusCodeNumberFromName(name: string): number | undefined {
  return statusCodeNumbersByName.get(name);
}
