import { decodeParsedTraceRequestJson } from "./decode-parsed-trace-request-json.ts";
import { type DecodeLimits, type DecodeResult, defaultDecodeLimits } from "./normalized-span.ts";
import { scanTraceRequestJson } from "./scan-trace-request-json.ts";

/**
 * Decodes an OTLP/JSON `ExportTraceServiceRequest` into normalized spans.
 *
 * Accepts what the Collector accepts: lowerCamelCase and snake_case keys, case-insensitive hex ids
 * (empty id = invalid span, wrong length or non-hex = malformed request), enums as integers or known
 * names (`"SPAN_KIND_SERVER"`), 64-bit integers as JSON numbers or decimal strings (numbers above 2^53
 * lose precision, as in JSON.parse), a leading BOM. Unknown fields are ignored — including the
 * legacy `instrumentationLibrarySpans`, whose spans are therefore not ingested.
 *
 * Span rejections, limits and attribute handling are those of `decodeTraceRequestProto`. Nested
 * arrays/kvlists in attribute values are never walked (only scalars are normalized).
 *
 * Bytes go through a single-pass scanner (scan-trace-request-json.ts); a request it does not take
 * (anything malformed or unusual) and text go through JSON.parse and a walk
 * (decode-parsed-trace-request-json.ts), which define the result and the error. Both give the same
 * result for every request the scanner takes.
 *
 * @param body the request body (UTF-8 bytes or text), already decompressed.
 * @param limits bounds against hostile input; defaults to `defaultDecodeLimits`.
 * @throws OtlpDecodeError for malformed JSON, a non-object top level, or fields of the wrong type.
 */
export function decodeTraceRequestJson(
  body: Uint8Array | string,
  limits: DecodeLimits = defaultDecodeLimits,
): DecodeResult {
  if (typeof body !== "string") {
    const scanned = scanTraceRequestJson(body, limits);
    if (scanned !== null) return scanned;
  }
  return decodeParsedTraceRequestJson(body, limits);
}
