/**
 * The reference path of the OTLP/JSON decoder: JSON.parse, then a walk of the parsed request. It
 * defines what `decodeTraceRequestJson` accepts and which error it reports; the scanner
 * (scan-trace-request-json.ts) is a faster route to the same result for well-formed requests and hands
 * everything else over to this path.
 *
 * JSON.parse only defines own properties, so parsing is safe; this module reads fields by fixed names
 * with Object.hasOwn and never copies parsed objects into others, and attribute keys only ever go
 * through a Map lookup, so `__proto__`/`constructor` keys are inert.
 */
import { normalizeHexId } from "./hex-ids.ts";
import {
  type AttributeScalar,
  type AttributeSlotValues,
  createSlotValues,
  exceptionAttributeSlots,
  exceptionEventName,
  exceptionSlotCount,
  normalizeException,
  normalizeResource,
  normalizeSpanAttributes,
  resourceAttributeSlots,
  resourceSlotCount,
  spanAttributeSlots,
  spanSlotCount,
  truncateString,
} from "./normalize-attributes.ts";
import {
  type DecodeLimits,
  type DecodeResult,
  type NormalizedResource,
  type NormalizedSpan,
  OtlpDecodeError,
  type SpanException,
  type SpanLink,
} from "./normalized-span.ts";
import {
  spanKindFromNumber,
  spanKindNumberFromName,
  statusCodeFromNumber,
  statusCodeNumberFromName,
} from "./otlp-enums.ts";
import { findSpanRejectionReason, SpanRejectionTally } from "./span-rejection-tally.ts";
import { decodeUtf8Document } from "./utf8-text.ts";

type JsonObject = { readonly [key: string]: unknown };

const traceIdLength = 16;
const spanIdLength = 8;
const nanosPerMilli = 1e6;
const maxUint64 = (1n << 64n) - 1n;
const minInt64 = -(1n << 63n);
const maxInt64 = (1n << 63n) - 1n;
const uint64TextPattern = /^\d{1,20}$/;
const int64TextPattern = /^-?\d{1,20}$/;
const doubleTextPattern = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Decodes an OTLP/JSON request with JSON.parse and a walk of the result; same contract as
 * `decodeTraceRequestJson` (which documents it). Exported for the decoder and its differential tests,
 * not from the package.
 */
export function decodeParsedTraceRequestJson(body: Uint8Array | string, limits: DecodeLimits): DecodeResult {
  const text =
    typeof body === "string"
      ? body.charCodeAt(0) === 0xfeff
        ? body.slice(1)
        : body
      : decodeUtf8Document(body);
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    throw new OtlpDecodeError("malformed JSON");
  }
  if (!isJsonObject(request)) throw new OtlpDecodeError("request must be a JSON object");

  const spans: NormalizedSpan[] = [];
  const rejections = new SpanRejectionTally();
  const spanSlots = createSlotValues(spanSlotCount);
  for (const resourceSpans of readArray(request, "resourceSpans", "resource_spans")) {
    const resourceSpansObject = expectObject(resourceSpans, "resourceSpans entry");
    const resource = decodeResource(readObject(resourceSpansObject, "resource", "resource"), limits);
    for (const scopeSpans of readArray(resourceSpansObject, "scopeSpans", "scope_spans")) {
      const scopeSpansObject = expectObject(scopeSpans, "scopeSpans entry");
      for (const span of readArray(scopeSpansObject, "spans", "spans")) {
        decodeSpan(expectObject(span, "span"), resource, limits, spanSlots, spans, rejections);
      }
    }
  }
  return { spans, rejected: rejections.toRejection() };
}

function decodeResource(resource: JsonObject | null, limits: DecodeLimits): NormalizedResource {
  const slots = createSlotValues(resourceSlotCount);
  if (resource !== null) {
    collectAttributes(readArray(resource, "attributes", "attributes"), resourceAttributeSlots, slots, limits);
  }
  return normalizeResource(slots);
}

function decodeSpan(
  span: JsonObject,
  resource: NormalizedResource,
  limits: DecodeLimits,
  slots: AttributeSlotValues,
  spans: NormalizedSpan[],
  rejections: SpanRejectionTally,
): void {
  const traceId = readHexId(span, "traceId", "trace_id", traceIdLength);
  const spanId = readHexId(span, "spanId", "span_id", spanIdLength);
  const parentSpanId = readHexId(span, "parentSpanId", "parent_span_id", spanIdLength);
  const name = truncateString(readString(span, "name", "name"), limits.maxStringLength);
  const kind = readEnum(span, "kind", "kind", spanKindNumberFromName);
  const startTimeUnixNano = readUint64(span, "startTimeUnixNano", "start_time_unix_nano");
  const endTimeUnixNano = readUint64(span, "endTimeUnixNano", "end_time_unix_nano");

  slots.fill(undefined);
  collectAttributes(readArray(span, "attributes", "attributes"), spanAttributeSlots, slots, limits);
  const exception = findException(readArray(span, "events", "events"), limits);
  const links = decodeLinks(readArray(span, "links", "links"), limits);
  const status = readObject(span, "status", "status");
  const statusCode = status === null ? 0 : readEnum(status, "code", "code", statusCodeNumberFromName);
  const statusMessage =
    status === null ? "" : truncateString(readString(status, "message", "message"), limits.maxStringLength);

  const rejection = findSpanRejectionReason(
    traceId !== "",
    spanId !== "",
    name,
    startTimeUnixNano,
    endTimeUnixNano,
  );
  if (rejection !== null) {
    rejections.add(rejection);
    return;
  }
  spans.push({
    resource,
    traceId,
    spanId,
    parentSpanId: parentSpanId === "" ? null : parentSpanId,
    name,
    kind: spanKindFromNumber(kind),
    startTimeUnixNano,
    endTimeUnixNano,
    startTimeMs: Number(startTimeUnixNano) / nanosPerMilli,
    durationMs: Number(endTimeUnixNano - startTimeUnixNano) / nanosPerMilli,
    statusCode: statusCodeFromNumber(statusCode),
    statusMessage: statusMessage === "" ? null : statusMessage,
    links,
    attributes: normalizeSpanAttributes(slots),
    exception,
  });
}

function findException(events: readonly unknown[], limits: DecodeLimits): SpanException | null {
  for (const event of events) {
    const eventObject = expectObject(event, "event");
    if (readString(eventObject, "name", "name") !== exceptionEventName) continue;
    const slots = createSlotValues(exceptionSlotCount);
    collectAttributes(
      readArray(eventObject, "attributes", "attributes"),
      exceptionAttributeSlots,
      slots,
      limits,
    );
    return normalizeException(slots, limits);
  }
  return null;
}

function decodeLinks(links: readonly unknown[], limits: DecodeLimits): SpanLink[] {
  const decoded: SpanLink[] = [];
  const count = Math.min(links.length, limits.maxLinks);
  for (let index = 0; index < count; index += 1) {
    const link = expectObject(links[index], "link");
    const traceId = readHexId(link, "traceId", "trace_id", traceIdLength);
    const spanId = readHexId(link, "spanId", "span_id", spanIdLength);
    if (traceId !== "" && spanId !== "") decoded.push({ traceId, spanId });
  }
  return decoded;
}

/** Fills `slots` from the first `maxAttributes` KeyValues; the first occurrence of a key wins. */
function collectAttributes(
  attributes: readonly unknown[],
  slotsByKey: ReadonlyMap<string, number>,
  slots: AttributeSlotValues,
  limits: DecodeLimits,
): void {
  const count = Math.min(attributes.length, limits.maxAttributes);
  for (let index = 0; index < count; index += 1) {
    const keyValue = expectObject(attributes[index], "attribute");
    const slot = slotsByKey.get(readString(keyValue, "key", "key"));
    if (slot === undefined || slots[slot] !== undefined) continue;
    slots[slot] = readAnyValue(readField(keyValue, "value", "value"), limits);
  }
}

/** An AnyValue as a scalar; a repeated oneof member keeps the last one, as protobuf does. */
function readAnyValue(value: unknown, limits: DecodeLimits): AttributeScalar {
  if (value === undefined || value === null) return null;
  if (!isJsonObject(value)) throw new OtlpDecodeError("attribute value must be an object");
  let scalar: AttributeScalar = null;
  for (const member of Object.keys(value)) {
    const memberValue = value[member];
    if (memberValue === null) continue;
    switch (member) {
      case "stringValue":
      case "string_value":
        if (typeof memberValue !== "string") throw new OtlpDecodeError("stringValue must be a string");
        scalar = truncateString(memberValue, limits.maxStringLength);
        break;
      case "boolValue":
      case "bool_value":
        if (typeof memberValue !== "boolean") throw new OtlpDecodeError("boolValue must be a boolean");
        scalar = memberValue;
        break;
      case "intValue":
      case "int_value":
        scalar = parseInt64(memberValue);
        break;
      case "doubleValue":
      case "double_value":
        scalar = parseDouble(memberValue);
        break;
      case "arrayValue":
      case "array_value":
      case "kvlistValue":
      case "kvlist_value":
        if (!isJsonObject(memberValue)) throw new OtlpDecodeError(`${member} must be an object`);
        scalar = null;
        break;
      case "bytesValue":
      case "bytes_value":
        if (typeof memberValue !== "string") throw new OtlpDecodeError("bytesValue must be a base64 string");
        scalar = null;
        break;
      default:
      // Unknown AnyValue members (newer protocol versions) are ignored.
    }
  }
  return scalar;
}

function parseInt64(value: unknown): number | bigint {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new OtlpDecodeError("intValue must be an integer");
    if (Number.isSafeInteger(value)) return value;
    const big = BigInt(value);
    if (big < minInt64 || big > maxInt64) throw new OtlpDecodeError("intValue out of int64 range");
    return big;
  }
  if (typeof value === "string" && int64TextPattern.test(value)) {
    const big = BigInt(value);
    if (big < minInt64 || big > maxInt64) throw new OtlpDecodeError("intValue out of int64 range");
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
  throw new OtlpDecodeError("intValue must be an integer or a decimal string");
}

function parseDouble(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    if (value === "NaN") return Number.NaN;
    if (value === "Infinity") return Number.POSITIVE_INFINITY;
    if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
    if (doubleTextPattern.test(value)) return Number(value);
  }
  throw new OtlpDecodeError("doubleValue must be a number");
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function expectObject(value: unknown, what: string): JsonObject {
  if (!isJsonObject(value)) throw new OtlpDecodeError(`${what} must be an object`);
  return value;
}

/** An own field by its lowerCamelCase name, else its snake_case name; undefined when absent. */
function readField(object: JsonObject, camelName: string, snakeName: string): unknown {
  if (Object.hasOwn(object, camelName)) return object[camelName];
  if (camelName !== snakeName && Object.hasOwn(object, snakeName)) return object[snakeName];
  return undefined;
}

/** A repeated field; absent or null means empty (proto3 JSON). */
function readArray(object: JsonObject, camelName: string, snakeName: string): readonly unknown[] {
  const value = readField(object, camelName, snakeName);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${camelName} must be an array`);
  return value;
}

/** A message field; absent or null means unset. */
function readObject(object: JsonObject, camelName: string, snakeName: string): JsonObject | null {
  const value = readField(object, camelName, snakeName);
  if (value === undefined || value === null) return null;
  if (!isJsonObject(value)) throw new OtlpDecodeError(`${camelName} must be an object`);
  return value;
}

function readString(object: JsonObject, camelName: string, snakeName: string): string {
  const value = readField(object, camelName, snakeName);
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new OtlpDecodeError(`${camelName} must be a string`);
  return value;
}

/** Lower-case hex id; "" when empty or all zero; OtlpDecodeError for wrong length or non-hex text. */
function readHexId(object: JsonObject, camelName: string, snakeName: string, byteLength: number): string {
  const value = readField(object, camelName, snakeName);
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new OtlpDecodeError(`${camelName} must be a hex string`);
  const hex = normalizeHexId(value, byteLength);
  if (hex === null) throw new OtlpDecodeError(`${camelName} must be ${byteLength * 2} hex characters`);
  return hex;
}

/** A uint64 given as a JSON number or a decimal string (proto3 JSON), as bigint; absent = 0. */
function readUint64(object: JsonObject, camelName: string, snakeName: string): bigint {
  const value = readField(object, camelName, snakeName);
  if (value === undefined || value === null) return 0n;
  let parsed: bigint | null = null;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) parsed = BigInt(value);
  else if (typeof value === "string" && uint64TextPattern.test(value)) parsed = BigInt(value);
  if (parsed === null || parsed > maxUint64) {
    throw new OtlpDecodeError(`${camelName} must be an unsigned 64-bit integer`);
  }
  return parsed;
}

/** An enum given as an integer or a known value name; absent = 0. */
function readEnum(
  object: JsonObject,
  camelName: string,
  snakeName: string,
  numberFromName: (name: string) => number | undefined,
): number {
  const value = readField(object, camelName, snakeName);
  if (value === undefined || value === null) return 0;
  if (typeof value === "number" && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) {
    return value;
  }
  if (typeof value === "string") {
    const number = numberFromName(value);
    if (number !== undefined) return number;
  }
  throw new OtlpDecodeError(`${camelName} must be an enum number or a known name`);
}
