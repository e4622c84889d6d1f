/**
 * The fast path of the OTLP/JSON decoder: one pass over the UTF-8 bytes of an
 * `ExportTraceServiceRequest` straight into NormalizedSpan, without JSON.parse.
 *
 * Why not JSON.parse + a walk: JSON.parse builds an object, a key string and a value string for every
 * attribute of every span (about fifty allocations for a 1 kB span), while Faultline reads a handful of
 * them. Profiled on the ingest bench workload (512 spans of ~1.1 kB JSON per request), JSON.parse alone
 * took ~3.1 µs of CPU per span and the walk ~2.5 µs more; this scanner takes ~2.6 µs for both, about
 * what the (eager) protobuf decoder takes for the same spans (bench/decode-bench.ts compares them).
 *
 * JavaScript reads about a byte per nanosecond one at a time, so the hot loops read four bytes at a
 * time through a DataView (string runs, known literals, known names), and the common shapes written by
 * exporters ({"key":"…","value":{"stringValue":"…"}}, a span's fields in a fixed order) are matched
 * as whole literals before the general grammar is tried.
 *
 * It is a fast path, not a second definition of OTLP/JSON: whenever the input is anything other than
 * a well-formed request whose fields all have the expected types — a syntax error, a type mismatch, a
 * repeated field (JSON.parse keeps the last one, with subtle ordering effects), an id, enum or
 * integer written with escapes, a camelCase and a snake_case spelling of one field, deep nesting in an
 * ignored value —
 * it gives up (`null`) and `decodeTraceRequestJson` decodes the request with JSON.parse and its
 * reference walk, which then also produces the exact error. The scanner therefore only has to agree
 * with that walk on the requests it accepts; decode-trace-request-json.differential.test.ts checks
 * that on random and mutated requests.
 *
 * Keys are compared as bytes with the tables of known names, and attribute values are decoded only for
 * the keys Faultline reads; no parsed text ever becomes a property name, so `__proto__` is inert.
 */
import { ByteNameTable } from "./byte-name-table.ts";
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
import type {
  DecodeLimits,
  DecodeResult,
  NormalizedResource,
  NormalizedSpan,
  SpanException,
  SpanLink,
} from "./normalized-span.ts";
import {
  spanKindFromNumber,
  spanKindNumberFromName,
  statusCodeFromNumber,
  statusCodeNumberFromName,
} from "./otlp-enums.ts";
import { findSpanRejectionReason, SpanRejectionTally } from "./span-rejection-tally.ts";

const quote = 0x22;
const backslash = 0x5c;
const colon = 0x3a;
const comma = 0x2c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const minus = 0x2d;
const plus = 0x2b;
const dot = 0x2e;
const digitZero = 0x30;
const digitNine = 0x39;
const lowerE = 0x65;
const upperE = 0x45;

const traceIdLength = 16;
const spanIdLength = 8;
const nanosPerMilli = 1e6;
const maxUint64 = (1n << 64n) - 1n;
const minInt64 = -(1n << 63n);
const maxInt64 = (1n << 63n) - 1n;
const billion = 1_000_000_000n;
/** Integers of up to 15 decimal digits are exact in a double, so they are accumulated as numbers. */
const maxExactDigits = 15;
/**
 * Nesting followed inside ignored values before giving up. JSON.parse accepts deeper documents, so
 * deeper ones go to the JSON.parse path rather than being refused here.
 */
const maxSkipDepth = 64;

/** Bytes that end the plain run of a JSON string: the closing quote, an escape, a control character. */
const endsStringRun = new Uint8Array(256);
for (let byte = 0; byte < 0x20; byte += 1) endsStringRun[byte] = 1;
endsStringRun[quote] = 1;
endsStringRun[backslash] = 1;

/** Value of a hex digit byte, or 255. */
const hexDigitValue = new Uint8Array(256).fill(255);
for (let digit = 0; digit < 10; digit += 1) hexDigitValue[digitZero + digit] = digit;
for (let letter = 0; letter < 6; letter += 1) {
  hexDigitValue[0x61 + letter] = 10 + letter;
  hexDigitValue[0x41 + letter] = 10 + letter;
}

/** Classes of the characters of a hex id, as flags. */
const hexClass = { invalid: 1, zero: 2, nonZero: 4, upperCase: 8 } as const;
const hexCharacterClass = new Uint8Array(256).fill(hexClass.invalid);
hexCharacterClass[digitZero] = hexClass.zero;
for (let digit = 1; digit < 10; digit += 1) hexCharacterClass[digitZero + digit] = hexClass.nonZero;
for (let letter = 0; letter < 6; letter += 1) {
  hexCharacterClass[0x61 + letter] = hexClass.nonZero;
  hexCharacterClass[0x41 + letter] = hexClass.upperCase;
}

/** Escape letters JSON allows after a backslash (`u` is followed by four hex digits). */
const isEscapeLetter = new Uint8Array(256);
for (const letter of '"\\/bfnrtu') isEscapeLetter[letter.charCodeAt(0)] = 1;

const isWhitespace = new Uint8Array(256);
isWhitespace[0x20] = 1;
isWhitespace[0x09] = 1;
isWhitespace[0x0a] = 1;
isWhitespace[0x0d] = 1;

/** Fields are numbered per message; a camelCase and a snake_case spelling share a number. */
const requestField = { resourceSpans: 0 } as const;
const resourceSpansField = { resource: 0, scopeSpans: 1 } as const;
const resourceField = { attributes: 0 } as const;
const scopeSpansField = { spans: 0 } as const;
const spanField = {
  traceId: 0,
  spanId: 1,
  parentSpanId: 2,
  name: 3,
  kind: 4,
  startTimeUnixNano: 5,
  endTimeUnixNano: 6,
  attributes: 7,
  events: 8,
  links: 9,
  status: 10,
} as const;
const eventField = { name: 0, attributes: 1 } as const;
const linkField = { traceId: 0, spanId: 1 } as const;
const statusField = { code: 0, message: 1 } as const;
const keyValueField = { key: 0, value: 1 } as const;
/**
 * AnyValue members: each spelling has its own number (JSON.parse keeps them as distinct properties);
 * `number >> 1` is the member kind.
 */
const anyValueMember = {
  string: 0,
  bool: 1,
  int: 2,
  double: 3,
  array: 4,
  kvlist: 5,
  bytes: 6,
} as const;

function fieldTable(fields: Record<string, number>, snakeCase: Record<string, string> = {}): ByteNameTable {
  const slots = new Map<string, number>();
  for (const [name, number] of Object.entries(fields)) {
    slots.set(name, number);
    const snake = snakeCase[name];
    if (snake !== undefined) slots.set(snake, number);
  }
  return new ByteNameTable(slots);
}

const requestFields = fieldTable(requestField, { resourceSpans: "resource_spans" });
const resourceSpansFields = fieldTable(resourceSpansField, { scopeSpans: "scope_spans" });
const resourceFields = fieldTable(resourceField);
const scopeSpansFields = fieldTable(scopeSpansField);
const spanFields = fieldTable(spanField, {
  traceId: "trace_id",
  spanId: "span_id",
  parentSpanId: "parent_span_id",
  startTimeUnixNano: "start_time_unix_nano",
  endTimeUnixNano: "end_time_unix_nano",
});
const eventFields = fieldTable(eventField);
const linkFields = fieldTable(linkField, { traceId: "trace_id", spanId: "span_id" });
const statusFields = fieldTable(statusField);
const keyValueFields = fieldTable(keyValueField);
const anyValueMembers = new ByteNameTable(
  new Map<string, number>(
    [
      ["stringValue", "string_value"],
      ["boolValue", "bool_value"],
      ["intValue", "int_value"],
      ["doubleValue", "double_value"],
      ["arrayValue", "array_value"],
      ["kvlistValue", "kvlist_value"],
      ["bytesValue", "bytes_value"],
    ].flatMap(([camel = "", snake = ""], kind) => [
      [camel, kind * 2],
      [snake, kind * 2 + 1],
    ]),
  ),
);

const resourceAttributeKeys = new ByteNameTable(resourceAttributeSlots);
const spanAttributeKeys = new ByteNameTable(spanAttributeSlots);
const exceptionAttributeKeys = new ByteNameTable(exceptionAttributeSlots);
const exceptionEventNameBytes = new TextEncoder().encode(exceptionEventName);

const latin1Decoder = new TextDecoder("latin1");
/** Keeps a byte order mark inside a string as a character, as decoding the whole body does. */
const utf8Decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
/** Longest ASCII run decoded by a loop rather than TextDecoder (measured crossover on Node 20). */
const shortTextBytes = 12;
/** log2 of the entries of the per-request text cache. */
const textCacheBits = 8;
/**
 * A fixed byte sequence compared four bytes at a time: little-endian 32-bit words at offsets 0, 4, 8…
 * and a last one ending at the last byte (overlapping the previous one when the length is not a
 * multiple of four).
 */
interface ByteLiteral {
  readonly length: number;
  readonly wordOffsets: readonly number[];
  readonly words: readonly number[];
}

function byteLiteral(text: string): ByteLiteral {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length < 4) throw new Error("a byte literal needs at least four bytes");
  const view = new DataView(bytes.buffer);
  const wordOffsets: number[] = [];
  for (let offset = 0; offset + 4 < bytes.length; offset += 4) wordOffsets.push(offset);
  wordOffsets.push(bytes.length - 4);
  return {
    length: bytes.length,
    wordOffsets,
    words: wordOffsets.map((offset) => view.getInt32(offset, true)),
  };
}

const keyValueHead = byteLiteral('{"key":');
/** `"traceId":` and so on, by span field number (camelCase: what the spec asks exporters to write). */
const spanFieldNameLiterals = Object.keys(spanField).map((name) => byteLiteral(`"${name}":`));
const noLiteral = byteLiteral("\u0000\u0000\u0000\u0000");
const keyValueValueMember = byteLiteral(',"value":');
const stringValueHead = byteLiteral('{"stringValue":');
const intValueHead = byteLiteral('{"intValue":');

/** Thrown inside the scanner to hand the request over to the JSON.parse path; never escapes. */
class GiveUp {}
const giveUp = new GiveUp();

/**
 * Decodes an OTLP/JSON request from its UTF-8 bytes, or returns null when the request needs the
 * JSON.parse path (see the module comment). Never throws for any input.
 */
export function scanTraceRequestJson(bytes: Uint8Array, limits: DecodeLimits): DecodeResult | null {
  try {
    return new TraceRequestJsonScanner(bytes, limits).scanRequest();
  } catch {
    // Mostly `giveUp`; but a bug or an engine limit in the fast path must not fail a request the
    // JSON.parse path can decode either, so anything thrown hands the request over.
    return null;
  }
}

class TraceRequestJsonScanner {
  private readonly bytes: Uint8Array;
  /** The same bytes, for reading four at a time. */
  private readonly view: DataView;
  private readonly end: number;
  private readonly limits: DecodeLimits;
  private pos = 0;
  private readonly spans: NormalizedSpan[] = [];
  private readonly rejections = new SpanRejectionTally();
  /** Reused for every span: normalizeSpanAttributes copies what it needs. */
  private readonly spanSlots: AttributeSlotValues = createSlotValues(spanSlotCount);
  /** Container kinds (open brace or bracket) of the value being skipped. */
  private readonly skipStack = new Uint8Array(maxSkipDepth);
  /** Set by scanString: the bytes between the quotes, and whether they contain an escape. */
  private stringStart = 0;
  private stringEnd = 0;
  private stringHasEscape = false;
  /** The span field expected after field `index - 1` (index 0: the first one); -1 for none. */
  private readonly nextSpanField = Int8Array.from([...Object.values(spanField), -1]);
  /** decodeRepeatedText's cache: where each entry's bytes are in this request, and their text. */
  private readonly textCacheStarts = new Int32Array(1 << textCacheBits).fill(-1);
  private readonly textCacheLengths = new Int32Array(1 << textCacheBits);
  private readonly textCacheTexts: string[] = new Array<string>(1 << textCacheBits).fill("");
  /** Set by scanStatus. */
  private statusCode = 0;
  private statusMessage = "";

  constructor(bytes: Uint8Array, limits: DecodeLimits) {
    // A plain view of a Buffer: element reads stay monomorphic and subarray() makes no Buffer object.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
    this.limits = limits;
  }

  scanRequest(): DecodeResult {
    const bytes = this.bytes;
    // A UTF-8 byte order mark, which the JSON.parse path drops too.
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) this.pos = 3;
    let seen = 0;
    if (this.openObjectStrict()) {
      do {
        const field = this.scanKey(requestFields);
        seen = this.markSeen(seen, field);
        if (field === requestField.resourceSpans && this.openArrayOrNull()) {
          do this.scanResourceSpans();
          while (this.nextElement());
        } else if (field !== requestField.resourceSpans) {
          this.skipValue();
        }
      } while (this.nextMember());
    }
    this.skipWhitespace();
    if (this.pos !== this.end) throw giveUp;
    return { spans: this.spans, rejected: this.rejections.toRejection() };
  }

  private scanResourceSpans(): void {
    if (!this.openObjectStrict()) return;
    let seen = 0;
    let resource: NormalizedResource | null = null;
    /** Where scopeSpans starts when it comes before the resource (spans need the resource first). */
    let deferredScopeSpans = -1;
    do {
      const field = this.scanKey(resourceSpansFields);
      seen = this.markSeen(seen, field);
      if (field === resourceSpansField.resource) {
        resource = this.scanResource();
      } else if (field === resourceSpansField.scopeSpans) {
        if (resource === null) {
          this.skipWhitespace();
          deferredScopeSpans = this.pos;
          this.skipValue();
        } else {
          this.scanScopeSpansList(resource ?? normalizeResource(createSlotValues(resourceSlotCount)));
        }
      } else {
        this.skipValue();
      }
    } while (this.nextMember());
    if (deferredScopeSpans >= 0) {
      const after = this.pos;
      this.pos = deferredScopeSpans;
      this.scanScopeSpansList(resource ?? normalizeResource(createSlotValues(resourceSlotCount)));
      this.pos = after;
    }
  }

  /** A Resource or null; its identity from the known attributes. */
  private scanResource(): NormalizedResource {
    const slots = createSlotValues(resourceSlotCount);
    if (this.openObjectOrNull()) {
      let seen = 0;
      do {
        const field = this.scanKey(resourceFields);
        seen = this.markSeen(seen, field);
        if (field === resourceField.attributes) this.scanAttributes(resourceAttributeKeys, slots);
        else this.skipValue();
      } while (this.nextMember());
    }
    return normalizeResource(slots);
  }

  private scanScopeSpansList(resource: NormalizedResource): void {
    if (!this.openArrayOrNull()) return;
    do {
      if (!this.openObjectStrict()) continue;
      let seen = 0;
      do {
        const field = this.scanKey(scopeSpansFields);
        seen = this.markSeen(seen, field);
        if (field === scopeSpansField.spans) {
          if (this.openArrayOrNull()) {
            do this.scanSpan(resource);
            while (this.nextElement());
          }
        } else {
          this.skipValue();
        }
      } while (this.nextMember());
    } while (this.nextElement());
  }

  private scanSpan(resource: NormalizedResource): void {
    const slots = this.spanSlots;
    slots.fill(undefined);
    let traceId = "";
    let spanId = "";
    let parentSpanId = "";
    let name = "";
    let kind = 0;
    let startTimeUnixNano = 0n;
    let endTimeUnixNano = 0n;
    let exception: SpanException | null = null;
    let links: SpanLink[] = [];
    this.statusCode = 0;
    this.statusMessage = "";
    if (this.openObjectStrict()) {
      let seen = 0;
      let previousField = -1;
      do {
        const field = this.scanSpanFieldName(previousField);
        seen = this.markSeen(seen, field);
        if (field >= 0) previousField = field;
        switch (field) {
          case spanField.traceId:
            traceId = this.scanHexId(traceIdLength);
            break;
          case spanField.spanId:
            spanId = this.scanHexId(spanIdLength);
            break;
          case spanField.parentSpanId:
            parentSpanId = this.scanHexId(spanIdLength);
            break;
          case spanField.name:
            name = this.scanStringField();
            break;
          case spanField.kind:
            kind = this.scanEnum(spanKindNumberFromName);
            break;
          case spanField.startTimeUnixNano:
            startTimeUnixNano = this.scanUint64();
            break;
          case spanField.endTimeUnixNano:
            endTimeUnixNano = this.scanUint64();
            break;
          case spanField.attributes:
            this.scanAttributes(spanAttributeKeys, slots);
            break;
          case spanField.events:
            exception = this.scanEvents();
            break;
          case spanField.links:
            links = this.scanLinks();
            break;
          case spanField.status:
            this.scanStatus();
            break;
          default:
            this.skipValue();
        }
      } while (this.nextMember());
    }

    const rejection = findSpanRejectionReason(
      traceId !== "",
      spanId !== "",
      name,
      startTimeUnixNano,
      endTimeUnixNano,
    );
    if (rejection !== null) {
      this.rejections.add(rejection);
      return;
    }
    const statusMessage = this.statusMessage;
    this.spans.push({
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
      statusCode: statusCodeFromNumber(this.statusCode),
      statusMessage: statusMessage === "" ? null : statusMessage,
      links,
      attributes: normalizeSpanAttributes(slots),
      exception,
    });
  }

  /**
   * A span member name and its colon, as scanKey. Exporters write a span's fields in one fixed order,
   * so the name is first compared with the one that followed `previousField` in the last span; only a
   * miss scans and looks the name up (and remembers it for the next span).
   */
  private scanSpanFieldName(previousField: number): number {
    this.skipWhitespace();
    const predicted = this.nextSpanField[previousField + 1] ?? -1;
    if (predicted >= 0 && this.consumeLiteral(spanFieldNameLiterals[predicted] ?? noLiteral))
      return predicted;
    const field = this.scanKey(spanFields);
    if (field >= 0) this.nextSpanField[previousField + 1] = field;
    return field;
  }

  /** The first `exception` event's summary; later events are only checked for syntax. */
  private scanEvents(): SpanException | null {
    let exception: SpanException | null = null;
    if (!this.openArrayOrNull()) return null;
    do {
      if (exception !== null) {
        this.skipValue();
        continue;
      }
      if (!this.openObjectStrict()) continue;
      let seen = 0;
      let isException: boolean | null = null;
      let slots: AttributeSlotValues | null = null;
      let deferredAttributes = -1;
      do {
        const field = this.scanKey(eventFields);
        seen = this.markSeen(seen, field);
        if (field === eventField.name) {
          isException = this.scanIsExceptionName();
        } else if (field === eventField.attributes) {
          if (isException === null) {
            // The name follows the attributes: only an exception event's attributes are read.
            this.skipWhitespace();
            deferredAttributes = this.pos;
            this.skipValue();
          } else if (isException) {
            slots = createSlotValues(exceptionSlotCount);
            this.scanAttributes(exceptionAttributeKeys, slots);
          } else {
            this.skipValue();
          }
        } else {
          this.skipValue();
        }
      } while (this.nextMember());
      if (isException === true) {
        if (deferredAttributes >= 0) {
          const after = this.pos;
          this.pos = deferredAttributes;
          slots = createSlotValues(exceptionSlotCount);
          this.scanAttributes(exceptionAttributeKeys, slots);
          this.pos = after;
        }
        exception = normalizeException(slots ?? createSlotValues(exceptionSlotCount), this.limits);
      }
    } while (this.nextElement());
    return exception;
  }

  /** Whether an event name (string or null) is "exception". */
  private scanIsExceptionName(): boolean {
    if (this.scanNull()) return false;
    this.scanStringStrict();
    if (this.stringHasEscape) return this.decodeScannedString(Number.MAX_SAFE_INTEGER) === exceptionEventName;
    const start = this.stringStart;
    if (this.stringEnd - start !== exceptionEventNameBytes.length) return false;
    for (let index = 0; index < exceptionEventNameBytes.length; index += 1) {
      if (this.bytes[start + index] !== exceptionEventNameBytes[index]) return false;
    }
    return true;
  }

  private scanLinks(): SpanLink[] {
    const links: SpanLink[] = [];
    if (!this.openArrayOrNull()) return links;
    let index = 0;
    do {
      if (index >= this.limits.maxLinks) {
        this.skipValue();
        continue;
      }
      index += 1;
      if (!this.openObjectStrict()) continue;
      let seen = 0;
      let traceId = "";
      let spanId = "";
      do {
        const field = this.scanKey(linkFields);
        seen = this.markSeen(seen, field);
        if (field === linkField.traceId) traceId = this.scanHexId(traceIdLength);
        else if (field === linkField.spanId) spanId = this.scanHexId(spanIdLength);
        else this.skipValue();
      } while (this.nextMember());
      if (traceId !== "" && spanId !== "") links.push({ traceId, spanId });
    } while (this.nextElement());
    return links;
  }

  private scanStatus(): void {
    if (!this.openObjectOrNull()) return;
    let seen = 0;
    do {
      const field = this.scanKey(statusFields);
      seen = this.markSeen(seen, field);
      if (field === statusField.code) this.statusCode = this.scanEnum(statusCodeNumberFromName);
      else if (field === statusField.message) this.statusMessage = this.scanStringField();
      else this.skipValue();
    } while (this.nextMember());
  }

  /** A KeyValue list: the first `maxAttributes` entries fill `slots`; the first occurrence of a key wins. */
  private scanAttributes(keys: ByteNameTable, slots: AttributeSlotValues): void {
    if (!this.openArrayOrNull()) return;
    let index = 0;
    do {
      if (index >= this.limits.maxAttributes) {
        this.skipValue();
        continue;
      }
      index += 1;
      this.scanKeyValue(keys, slots);
    } while (this.nextElement());
  }

  private scanKeyValue(keys: ByteNameTable, slots: AttributeSlotValues): void {
    this.skipWhitespace();
    const start = this.pos;
    // Fast path for what every exporter writes: {"key":"…","value":{…}} without whitespace; anything
    // else starts over with the general grammar.
    if (this.consumeLiteral(keyValueHead)) {
      if (this.bytes[this.pos] === quote) {
        this.scanString();
        let slot = this.findScannedName(keys);
        if (slot >= 0 && slots[slot] !== undefined) slot = -1;
        if (this.consumeLiteral(keyValueValueMember)) {
          let value: AttributeScalar = null;
          if (slot >= 0) value = this.scanAnyValue();
          else this.skipAnyValue();
          if (this.bytes[this.pos] === closeBrace) {
            this.pos += 1;
            if (slot >= 0) slots[slot] = value;
            return;
          }
        }
      }
      this.pos = start;
    }
    if (!this.openObjectStrict()) return;
    let seen = 0;
    /** -2: no key yet; -1: a key Faultline ignores (or whose slot is already taken). */
    let slot = -2;
    let deferredValue = -1;
    let value: AttributeScalar = null;
    do {
      const field = this.scanKey(keyValueFields);
      seen = this.markSeen(seen, field);
      if (field === keyValueField.key) {
        slot = this.scanAttributeKey(keys);
        if (slot >= 0 && slots[slot] !== undefined) slot = -1;
      } else if (field === keyValueField.value) {
        if (slot === -2) {
          this.skipWhitespace();
          deferredValue = this.pos;
          this.skipValue();
        } else if (slot >= 0) {
          value = this.scanAnyValue();
        } else {
          this.skipValue();
        }
      } else {
        this.skipValue();
      }
    } while (this.nextMember());
    if (slot < 0) return;
    if (deferredValue >= 0) {
      const after = this.pos;
      this.pos = deferredValue;
      value = this.scanAnyValue();
      this.pos = after;
    }
    // A known key without a value still claims its slot (as null), as in the JSON.parse path.
    slots[slot] = value;
  }

  /** The slot of an attribute key (a string or null), or -1 for a key Faultline ignores. */
  private scanAttributeKey(keys: ByteNameTable): number {
    if (this.scanNull()) return -1;
    this.scanStringStrict();
    return this.findScannedName(keys);
  }

  /** The number in `names` of the string last scanned, or -1. */
  private findScannedName(names: ByteNameTable): number {
    if (!this.stringHasEscape) return names.find(this.bytes, this.view, this.stringStart, this.stringEnd);
    // A name written with escapes ("\u0068ttp.route") is still that name.
    return names.findText(this.decodeScannedString(Number.MAX_SAFE_INTEGER));
  }

  /** An AnyValue as a scalar; a repeated oneof member keeps the last one, as protobuf does. */
  private scanAnyValue(): AttributeScalar {
    if (this.scanNull()) return null;
    const start = this.pos;
    // Fast paths for {"stringValue":"…"} and {"intValue":"…"} without whitespace; anything else starts
    // over with the general grammar.
    if (this.consumeLiteral(stringValueHead)) {
      if (this.bytes[this.pos] === quote) {
        this.scanString();
        if (this.bytes[this.pos] === closeBrace) {
          this.pos += 1;
          return this.decodeScannedString(this.limits.maxStringLength);
        }
      }
      this.pos = start;
    } else if (this.consumeLiteral(intValueHead)) {
      const value = this.bytes[this.pos] === quote ? this.scanInt64() : null;
      if (value !== null && this.bytes[this.pos] === closeBrace) {
        this.pos += 1;
        return value;
      }
      this.pos = start;
    }
    if (!this.openObjectOrNull()) return null;
    let seen = 0;
    let scalar: AttributeScalar = null;
    do {
      const member = this.scanKey(anyValueMembers);
      seen = this.markSeen(seen, member);
      if (member < 0) {
        this.skipValue();
        continue;
      }
      if (this.scanNull()) continue;
      switch (member >> 1) {
        case anyValueMember.string:
          this.scanStringStrict();
          scalar = this.decodeScannedString(this.limits.maxStringLength);
          break;
        case anyValueMember.bool:
          scalar = this.scanBoolean();
          break;
        case anyValueMember.int:
          scalar = this.scanInt64();
          break;
        case anyValueMember.double:
          scalar = this.scanDouble();
          break;
        case anyValueMember.array:
        case anyValueMember.kvlist:
          if (this.bytes[this.pos] !== openBrace) throw giveUp;
          this.skipValue();
          scalar = null;
          break;
        case anyValueMember.bytes:
          this.scanStringStrict();
          scalar = null;
          break;
        default:
          this.skipValue();
      }
    } while (this.nextMember());
    return scalar;
  }

  // ---- typed values ------------------------------------------------------------------------------

  /** A string field (null = ""), truncated to `maxStringLength`. */
  private scanStringField(): string {
    if (this.scanNull()) return "";
    this.scanStringStrict();
    return this.decodeScannedString(this.limits.maxStringLength);
  }

  /** Lower-case hex id; "" when null, empty or all zero. Gives up on a malformed id (a 400). */
  private scanHexId(byteLength: number): string {
    if (this.scanNull()) return "";
    this.scanStringStrict();
    const start = this.stringStart;
    const length = this.stringEnd - start;
    if (length === 0) return "";
    if (length !== byteLength * 2 || this.stringHasEscape) throw giveUp;
    const bytes = this.bytes;
    // One flag per class of character met; no branch per character.
    let classesSeen = 0;
    for (let index = start; index < start + length; index += 1) {
      classesSeen |= hexCharacterClass[bytes[index] ?? 0] ?? hexClass.invalid;
    }
    if ((classesSeen & hexClass.invalid) !== 0) throw giveUp;
    if ((classesSeen & (hexClass.nonZero | hexClass.upperCase)) === 0) return "";
    const hex = length === 32 ? asciiText32(bytes, start) : asciiText16(bytes, start);
    return (classesSeen & hexClass.upperCase) !== 0 ? hex.toLowerCase() : hex;
  }

  /** An enum as an int32 number or a known name; null = 0. */
  private scanEnum(numberFromName: (name: string) => number | undefined): number {
    if (this.scanNull()) return 0;
    if (this.bytes[this.pos] === quote) {
      this.scanStringStrict();
      if (this.stringHasEscape) throw giveUp;
      const number = numberFromName(this.decodeText(this.stringStart, this.stringEnd));
      if (number === undefined) throw giveUp;
      return number;
    }
    const value = this.scanNumber();
    if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) throw giveUp;
    return value;
  }

  /** A uint64 as a JSON number or a decimal string of up to 20 digits; null = 0. */
  private scanUint64(): bigint {
    if (this.scanNull()) return 0n;
    if (this.bytes[this.pos] !== quote) {
      const value = this.scanNumber();
      if (!Number.isInteger(value) || value < 0) throw giveUp;
      const parsed = BigInt(value);
      if (parsed > maxUint64) throw giveUp;
      return parsed;
    }
    this.scanStringStrict();
    const start = this.stringStart;
    const length = this.stringEnd - start;
    if (length < 1 || length > 20 || this.stringHasEscape) throw giveUp;
    const bytes = this.bytes;
    // Two exact doubles (the digits before the last nine, and the last nine) make one bigint without
    // an intermediate string.
    const splitAt = Math.max(start, this.stringEnd - 9);
    let high = 0;
    let low = 0;
    for (let index = start; index < this.stringEnd; index += 1) {
      const digit = (bytes[index] ?? 0) - digitZero;
      if (digit < 0 || digit > 9) throw giveUp;
      if (index < splitAt) high = high * 10 + digit;
      else low = low * 10 + digit;
    }
    if (length <= 9) return BigInt(low);
    // At most 11 leading digits: `high` is exact.
    const parsed = BigInt(high) * billion + BigInt(low);
    if (parsed > maxUint64) throw giveUp;
    return parsed;
  }

  /** intValue: a JSON integer or a decimal string within int64 (number when safe, else bigint). */
  private scanInt64(): number | bigint {
    const bytes = this.bytes;
    if (bytes[this.pos] !== quote) {
      const value = this.scanNumber();
      if (!Number.isInteger(value)) throw giveUp;
      if (Number.isSafeInteger(value)) return value;
      const big = BigInt(value);
      if (big < minInt64 || big > maxInt64) throw giveUp;
      return big;
    }
    this.scanStringStrict();
    let index = this.stringStart;
    const end = this.stringEnd;
    if (this.stringHasEscape) throw giveUp;
    const negative = bytes[index] === minus;
    if (negative) index += 1;
    const digits = end - index;
    if (digits < 1 || digits > 20) throw giveUp;
    let value = 0;
    for (let at = index; at < end; at += 1) {
      const digit = (bytes[at] ?? 0) - digitZero;
      if (digit < 0 || digit > 9) throw giveUp;
      value = value * 10 + digit;
    }
    // "-0" is integer zero (as BigInt("-0") is), never a negative zero.
    if (digits <= maxExactDigits) return negative ? 0 - value : value;
    const big = BigInt(this.decodeText(this.stringStart, end));
    if (big < minInt64 || big > maxInt64) throw giveUp;
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }

  /** doubleValue: a JSON number, or a string holding a decimal number, "NaN" or ±"Infinity". */
  private scanDouble(): number {
    if (this.bytes[this.pos] !== quote) return this.scanNumber();
    this.scanStringStrict();
    if (this.stringHasEscape) throw giveUp;
    const text = this.decodeText(this.stringStart, this.stringEnd);
    if (text === "NaN") return Number.NaN;
    if (text === "Infinity") return Number.POSITIVE_INFINITY;
    if (text === "-Infinity") return Number.NEGATIVE_INFINITY;
    if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
    throw giveUp;
  }

  private scanBoolean(): boolean {
    const bytes = this.bytes;
    const pos = this.pos;
    if (
      bytes[pos] === 0x74 &&
      bytes[pos + 1] === 0x72 &&
      bytes[pos + 2] === 0x75 &&
      bytes[pos + 3] === 0x65
    ) {
      this.pos = pos + 4;
      return true;
    }
    if (
      bytes[pos] === 0x66 &&
      bytes[pos + 1] === 0x61 &&
      bytes[pos + 2] === 0x6c &&
      bytes[pos + 3] === 0x73 &&
      bytes[pos + 4] === 0x65
    ) {
      this.pos = pos + 5;
      return false;
    }
    throw giveUp;
  }

  /** Consumes `null` (after whitespace) when it is next; the position is then after it. */
  private scanNull(): boolean {
    this.skipWhitespace();
    const bytes = this.bytes;
    const pos = this.pos;
    if (bytes[pos] !== 0x6e) return false;
    if (bytes[pos + 1] === 0x75 && bytes[pos + 2] === 0x6c && bytes[pos + 3] === 0x6c) {
      this.pos = pos + 4;
      return true;
    }
    throw giveUp;
  }

  /** Skips the AnyValue of an ignored attribute: only its syntax matters. */
  private skipAnyValue(): void {
    const start = this.pos;
    if (this.consumeLiteral(stringValueHead) || this.consumeLiteral(intValueHead)) {
      if (this.bytes[this.pos] === quote) {
        this.scanString();
        if (this.bytes[this.pos] === closeBrace) {
          this.pos += 1;
          return;
        }
      }
      this.pos = start;
    }
    this.skipValue();
  }

  /** Steps over `literal` when the bytes at `pos` are exactly it. */
  private consumeLiteral(literal: ByteLiteral): boolean {
    const pos = this.pos;
    if (pos + literal.length > this.end) return false;
    const view = this.view;
    const offsets = literal.wordOffsets;
    const words = literal.words;
    for (let index = 0; index < offsets.length; index += 1) {
      if (view.getInt32(pos + (offsets[index] ?? 0), true) !== words[index]) return false;
    }
    this.pos = pos + literal.length;
    return true;
  }

  /** Decodes the string last scanned, cut to `maxLength` UTF-16 code units. */
  private decodeScannedString(maxLength: number): string {
    if (!this.stringHasEscape) {
      const start = this.stringStart;
      const end = this.stringEnd;
      // A UTF-16 code unit takes at least one UTF-8 byte: a run this short cannot exceed the limit.
      if (end - start <= maxLength) return this.decodeRepeatedText(start, end);
      // A code unit takes at most three bytes; four spare bytes keep a cut character out of the result.
      return truncateString(this.decodeText(start, Math.min(end, start + maxLength * 3 + 4)), maxLength);
    }
    // Escapes are rare (stack traces' "\n"): let JSON.parse unescape the quoted literal.
    const literal = this.decodeText(this.stringStart - 1, this.stringEnd + 1);
    return truncateString(JSON.parse(literal) as string, maxLength);
  }

  /**
   * `bytes[start, end)` as text, the same string instance as an earlier identical run of this request
   * when the cache still holds it. One request's spans repeat most of their names and attribute values
   * (operations, routes, topics, addresses): a cache hit costs a comparison of the two runs, four
   * bytes at a time, where decoding costs a TextDecoder call and a new string; and aggregation's Map
   * lookups on a repeated instance reuse its cached hash.
   */
  private decodeRepeatedText(start: number, end: number): string {
    const length = end - start;
    if (length < 4) return this.decodeText(start, end);
    const view = this.view;
    const first = view.getInt32(start, true);
    const last = view.getInt32(end - 4, true);
    const entry =
      Math.imul(first ^ Math.imul(last ^ length, 0x9e3779b1), 0x85ebca6b) >>> (32 - textCacheBits);
    const cachedStart = this.textCacheStarts[entry] ?? -1;
    if (cachedStart >= 0 && this.textCacheLengths[entry] === length) {
      let offset = 0;
      while (
        offset + 4 <= length &&
        view.getInt32(cachedStart + offset, true) === view.getInt32(start + offset, true)
      ) {
        offset += 4;
      }
      if (offset + 4 > length && view.getInt32(cachedStart + length - 4, true) === last) {
        return this.textCacheTexts[entry] ?? this.decodeText(start, end);
      }
    }
    const text = this.decodeText(start, end);
    this.textCacheStarts[entry] = start;
    this.textCacheLengths[entry] = length;
    this.textCacheTexts[entry] = text;
    return text;
  }

  /**
   * `bytes[start, end)` as text; invalid UTF-8 becomes U+FFFD, as when the whole body is decoded first.
   * Short ASCII runs are built by hand: below about a dozen characters that beats TextDecoder's call.
   */
  private decodeText(start: number, end: number): string {
    const bytes = this.bytes;
    if (end - start <= shortTextBytes) {
      let text = "";
      for (let index = start; index < end; index += 1) {
        const byte = bytes[index] ?? 0;
        if (byte >= 0x80) return utf8Decoder.decode(bytes.subarray(start, end));
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return utf8Decoder.decode(bytes.subarray(start, end));
  }

  // ---- JSON syntax -------------------------------------------------------------------------------

  private skipWhitespace(): void {
    const bytes = this.bytes;
    let pos = this.pos;
    // Compact JSON (what exporters send) has none: one comparison in the common case.
    if ((bytes[pos] ?? 0x21) > 0x20) return;
    while (pos < this.end && isWhitespace[bytes[pos] ?? 0] === 1) pos += 1;
    this.pos = pos;
  }

  /** A message that must be a JSON object (an array entry); true when it has members. */
  private openObjectStrict(): boolean {
    this.skipWhitespace();
    if (this.bytes[this.pos] !== openBrace) throw giveUp;
    return this.enterContainer(closeBrace);
  }

  /** A message field: an object or null; true when it is an object with members. */
  private openObjectOrNull(): boolean {
    if (this.scanNull()) return false;
    if (this.bytes[this.pos] !== openBrace) throw giveUp;
    return this.enterContainer(closeBrace);
  }

  /** A repeated field: an array or null; true when it is a non-empty array. */
  private openArrayOrNull(): boolean {
    if (this.scanNull()) return false;
    if (this.bytes[this.pos] !== openBracket) throw giveUp;
    return this.enterContainer(closeBracket);
  }

  /** Steps past `{` or `[`; consumes the closing byte right away for an empty container. */
  private enterContainer(close: number): boolean {
    this.pos += 1;
    this.skipWhitespace();
    if (this.bytes[this.pos] === close) {
      this.pos += 1;
      return false;
    }
    return true;
  }

  /** After a member: true when a `,` follows, false after the closing `}`. */
  private nextMember(): boolean {
    this.skipWhitespace();
    const byte = this.bytes[this.pos];
    this.pos += 1;
    if (byte === comma) return true;
    if (byte === closeBrace) return false;
    throw giveUp;
  }

  /** After an array element: true when a `,` follows, false after the closing `]`. */
  private nextElement(): boolean {
    this.skipWhitespace();
    const byte = this.bytes[this.pos];
    this.pos += 1;
    if (byte === comma) return true;
    if (byte === closeBracket) return false;
    throw giveUp;
  }

  /** A member name and its colon; returns the field number from `names`, -1 for unknown names. */
  private scanKey(names: ByteNameTable): number {
    this.skipWhitespace();
    if (this.bytes[this.pos] !== quote) throw giveUp;
    this.scanString();
    const field = this.findScannedName(names);
    this.skipWhitespace();
    if (this.bytes[this.pos] !== colon) throw giveUp;
    this.pos += 1;
    return field;
  }

  /** A member name of an ignored object (escapes allowed) and its colon. */
  private skipMemberName(): void {
    this.skipWhitespace();
    if (this.bytes[this.pos] !== quote) throw giveUp;
    this.scanString();
    this.skipWhitespace();
    if (this.bytes[this.pos] !== colon) throw giveUp;
    this.pos += 1;
  }

  /** Records a known field; a repeated one (or two spellings of one) hands over to JSON.parse. */
  private markSeen(seen: number, field: number): number {
    if (field < 0) return seen;
    const bit = 1 << field;
    if ((seen & bit) !== 0) throw giveUp;
    return seen | bit;
  }

  /** A string value (after whitespace); sets stringStart/End/HasEscape. */
  private scanStringStrict(): void {
    this.skipWhitespace();
    if (this.bytes[this.pos] !== quote) throw giveUp;
    this.scanString();
  }

  /** Scans the string literal at `pos` (a quote), checking escapes and control characters. */
  private scanString(): void {
    const bytes = this.bytes;
    const end = this.end;
    let pos = this.pos + 1;
    this.stringStart = pos;
    let hasEscape = false;
    const view = this.view;
    for (;;) {
      // Four bytes at a time while none of them is a quote, a backslash or a control character
      // (the "has a zero byte" and "has a byte below n" bit tricks on a 32-bit word).
      while (pos + 4 <= end) {
        const word = view.getInt32(pos, true);
        const quotes = word ^ 0x22222222;
        const backslashes = word ^ 0x5c5c5c5c;
        const stops =
          ((quotes - 0x01010101) & ~quotes) |
          ((backslashes - 0x01010101) & ~backslashes) |
          ((word - 0x20202020) & ~word);
        const found = stops & 0x80808080;
        if (found !== 0) {
          // The lowest flag always marks a real stop (false flags only sit above a real one): step to
          // that byte directly (little-endian, so the lowest flag is the first byte).
          pos += (31 - Math.clz32(found & -found)) >> 3;
          break;
        }
        pos += 4;
      }
      while (pos < end && endsStringRun[bytes[pos] ?? 0] === 0) pos += 1;
      if (pos >= end) throw giveUp;
      const byte = bytes[pos];
      if (byte === quote) break;
      if (byte !== backslash) throw giveUp; // a raw control character
      hasEscape = true;
      const letter = bytes[pos + 1] ?? 0;
      if (isEscapeLetter[letter] !== 1) throw giveUp;
      if (letter === 0x75) {
        for (let index = pos + 2; index < pos + 6; index += 1) {
          if ((hexDigitValue[bytes[index] ?? 0] ?? 255) === 255) throw giveUp;
        }
        pos += 6;
      } else {
        pos += 2;
      }
    }
    this.stringEnd = pos;
    this.stringHasEscape = hasEscape;
    this.pos = pos + 1;
  }

  /** Scans a JSON number at `pos` and returns its value (as JSON.parse would). */
  private scanNumber(): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    if (bytes[pos] === minus) pos += 1;
    const intStart = pos;
    const first = bytes[pos] ?? 0;
    if (first === digitZero) {
      pos += 1;
    } else if (first > digitZero && first <= digitNine) {
      while (isDigit(bytes[pos])) pos += 1;
    } else {
      throw giveUp;
    }
    const intEnd = pos;
    let plainInteger = true;
    if (bytes[pos] === dot) {
      pos += 1;
      if (!isDigit(bytes[pos])) throw giveUp;
      while (isDigit(bytes[pos])) pos += 1;
      plainInteger = false;
    }
    const exponent = bytes[pos];
    if (exponent === lowerE || exponent === upperE) {
      pos += 1;
      if (bytes[pos] === plus || bytes[pos] === minus) pos += 1;
      if (!isDigit(bytes[pos])) throw giveUp;
      while (isDigit(bytes[pos])) pos += 1;
      plainInteger = false;
    }
    this.pos = pos;
    if (plainInteger && intEnd - intStart <= maxExactDigits) {
      let value = 0;
      for (let index = intStart; index < intEnd; index += 1)
        value = value * 10 + ((bytes[index] ?? 0) - digitZero);
      // JSON.parse("-0") is a negative zero, so is this.
      return start === intStart ? value : -value;
    }
    return Number(latin1Decoder.decode(bytes.subarray(start, pos)));
  }

  /** Skips any JSON value (after whitespace), checking its syntax; deep nesting hands over to JSON.parse. */
  private skipValue(): void {
    this.skipWhitespace();
    const bytes = this.bytes;
    const stack = this.skipStack;
    let depth = 0;
    for (;;) {
      // At the start of a value.
      const byte = bytes[this.pos];
      if (byte === openBrace || byte === openBracket) {
        if (depth === maxSkipDepth) throw giveUp;
        stack[depth] = byte;
        depth += 1;
        const close = byte === openBrace ? closeBrace : closeBracket;
        if (this.enterContainer(close)) {
          if (byte === openBrace) this.skipMemberName();
          this.skipWhitespace();
          continue;
        }
        depth -= 1;
      } else if (byte === quote) {
        this.scanString();
      } else if (byte === 0x74 || byte === 0x66) {
        this.scanBoolean();
      } else if (byte === 0x6e) {
        this.scanNull();
      } else {
        this.scanNumber();
      }
      // After a value: close finished containers, or step to the next element or member.
      for (;;) {
        if (depth === 0) return;
        this.skipWhitespace();
        const next = bytes[this.pos];
        const container = stack[depth - 1];
        if (next === comma) {
          this.pos += 1;
          if (container === openBrace) this.skipMemberName();
          this.skipWhitespace();
          break;
        }
        if (next === (container === openBrace ? closeBrace : closeBracket)) {
          this.pos += 1;
          depth -= 1;
          continue;
        }
        throw giveUp;
      }
    }
  }
}

/**
 * The 16 (32) ASCII characters at `at` as one flat string. One String.fromCharCode call with every
 * character as an argument measured about twice as fast as TextDecoder for span (trace) ids, whose
 * per-call overhead dominates at these lengths.
 */
function asciiText16(b: Uint8Array, at: number): string {
  return String.fromCharCode(
    b[at + 0] ?? 0,
    b[at + 1] ?? 0,
    b[at + 2] ?? 0,
    b[at + 3] ?? 0,
    b[at + 4] ?? 0,
    b[at + 5] ?? 0,
    b[at + 6] ?? 0,
    b[at + 7] ?? 0,
    b[at + 8] ?? 0,
    b[at + 9] ?? 0,
    b[at + 10] ?? 0,
    b[at + 11] ?? 0,
    b[at + 12] ?? 0,
    b[at + 13] ?? 0,
    b[at + 14] ?? 0,
    b[at + 15] ?? 0,
  );
}

function asciiText32(b: Uint8Array, at: number): string {
  return String.fromCharCode(
    b[at + 0] ?? 0,
    b[at + 1] ?? 0,
    b[at + 2] ?? 0,
    b[at + 3] ?? 0,
    b[at + 4] ?? 0,
    b[at + 5] ?? 0,
    b[at + 6] ?? 0,
    b[at + 7] ?? 0,
    b[at + 8] ?? 0,
    b[at + 9] ?? 0,
    b[at + 10] ?? 0,
    b[at + 11] ?? 0,
    b[at + 12] ?? 0,
    b[at + 13] ?? 0,
    b[at + 14] ?? 0,
    b[at + 15] ?? 0,
    b[at + 16] ?? 0,
    b[at + 17] ?? 0,
    b[at + 18] ?? 0,
    b[at + 19] ?? 0,
    b[at + 20] ?? 0,
    b[at + 21] ?? 0,
    b[at + 22] ?? 0,
    b[at + 23] ?? 0,
    b[at + 24] ?? 0,
    b[at + 25] ?? 0,
    b[at + 26] ?? 0,
    b[at + 27] ?? 0,
    b[at + 28] ?? 0,
    b[at + 29] ?? 0,
    b[at + 30] ?? 0,
    b[at + 31] ?? 0,
  );
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= digitZero && byte <= digitNine;
}
