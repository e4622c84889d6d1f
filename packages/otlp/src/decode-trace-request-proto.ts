/**
 * A hand-written decoder of OTLP `ExportTraceServiceRequest` (proto3 wire format) into NormalizedSpan.
 * It never builds generic message objects: keys of attributes are matched as bytes, values are kept
 * only for the keys Faultline reads, everything else (unknown fields, ignored attributes, nested
 * arrays/kvlists, non-exception events) is skipped by its length prefix.
 *
 * One pass validates the whole request and records each accepted span as offsets and numbers in
 * columns (SpanTable); spans are then either materialised (decodeTraceRequestProto) or read field by
 * field through one reused view (decodeTraceRequestProtoLazily, what ingest aggregates from).
 *
 * Field numbers follow opentelemetry-proto (collector/trace/v1, trace/v1, resource/v1, common/v1).
 */
import { bytesToHex, isAllZero } from "./hex-ids.ts";
import { createKeyMatcher, type KeyMatcher } from "./key-matcher.ts";
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
  SpanAttributesOfSlots,
  spanAttributeSlots,
  spanSlotCount,
} from "./normalize-attributes.ts";
import {
  type DecodeLimits,
  type DecodeRejection,
  type DecodeResult,
  defaultDecodeLimits,
  type NormalizedResource,
  type NormalizedSpan,
  OtlpDecodeError,
  type SpanAttributes,
  type SpanException,
  type SpanKind,
  type SpanLink,
  type SpanStatusCode,
} from "./normalized-span.ts";
import { spanKindFromNumber, statusCodeFromNumber } from "./otlp-enums.ts";
import { ProtoReader, wireType } from "./proto-reader.ts";
import { findSpanRejectionReason, SpanRejectionTally } from "./span-rejection-tally.ts";
import { decodeUtf8Truncated } from "./utf8-text.ts";

const resourceKeyMatcher = createKeyMatcher(resourceAttributeSlots);
const spanKeyMatcher = createKeyMatcher(spanAttributeSlots);
const exceptionKeyMatcher = createKeyMatcher(exceptionAttributeSlots);
const exceptionEventNameBytes = new TextEncoder().encode(exceptionEventName);

const traceIdLength = 16;
const spanIdLength = 8;
const twoPow32 = 4294967296;
const nanosPerMilli = 1e6;

/** Field numbers of the messages this decoder reads. */
const field = {
  request: { resourceSpans: 1 },
  resourceSpans: { resource: 1, scopeSpans: 2 },
  resource: { attributes: 1 },
  scopeSpans: { spans: 2 },
  span: {
    traceId: 1,
    spanId: 2,
    parentSpanId: 4,
    name: 5,
    kind: 6,
    startTime: 7,
    endTime: 8,
    attributes: 9,
    events: 11,
    links: 13,
    status: 15,
  },
  event: { name: 2, attributes: 3 },
  link: { traceId: 1, spanId: 2 },
  status: { message: 2, code: 3 },
  keyValue: { key: 1, value: 2 },
  anyValue: { string: 1, bool: 2, int: 3, double: 4, array: 5, kvlist: 6, bytes: 7 },
} as const;

/**
 * Decodes a binary OTLP `ExportTraceServiceRequest` into normalized spans.
 *
 * - Spans with an empty/all-zero trace or span id, an empty name, or an end time before the start
 *   time are dropped and counted in `rejected` (OTLP partial success); the rest are kept.
 * - Ids of a wrong non-zero length (trace 16 bytes, span/parent/link 8 bytes), truncated varints,
 *   lengths past the end of their message, invalid wire types and known fields with the wrong wire
 *   type make the whole request malformed: OtlpDecodeError (the receiver answers 400).
 * - Times are fixed64 nanoseconds since the epoch, kept exactly as bigint; `startTimeMs` and
 *   `durationMs` are float milliseconds.
 * - Limits: the first `maxAttributes` attributes of a resource, span or event and the first `maxLinks`
 *   links of a span are read (links with zero ids are dropped); strings are cut to `maxStringLength`
 *   UTF-16 code units. Nested arrays/kvlists are never descended (only scalars are normalized), so
 *   deep nesting costs one length skip regardless of `maxDepth`.
 * - Duplicate attribute keys: the first occurrence wins. Repeated singular fields: the last wins.
 *
 * @param bytes the request body, already decompressed.
 * @param limits bounds against hostile input; defaults to `defaultDecodeLimits`.
 * @throws OtlpDecodeError when the body is not a valid ExportTraceServiceRequest.
 */
export function decodeTraceRequestProto(
  bytes: Uint8Array,
  limits: DecodeLimits = defaultDecodeLimits,
): DecodeResult {
  const table = new TraceRequestProtoDecoder(bytes, limits).decodeRequest();
  const spans: NormalizedSpan[] = [];
  const view = new ProtoSpanView(table);
  for (let index = 0; index < table.spanCount; index += 1) {
    view.moveTo(index);
    spans.push(view.toNormalizedSpan());
  }
  return { spans, rejected: table.rejections.toRejection() };
}

/** Spans that can be iterated once or more and know their count (an array is one). */
export interface SpanSequence extends Iterable<NormalizedSpan> {
  readonly length: number;
}

/** What {@link decodeTraceRequestProtoLazily} returns. */
export interface LazyDecodeResult {
  /**
   * The accepted spans, in wire order. Each iteration step yields the SAME view object, moved to the
   * next span: read what you need from it before taking the next one. Strings read from it are plain
   * strings and may be kept; the view, its `attributes` and its `links` array must not be.
   */
  spans: SpanSequence;
  rejected: DecodeRejection;
}

/**
 * The same decoding as {@link decodeTraceRequestProto} (same validation, same errors, same rejected
 * spans, same field values), for callers that read a few fields of each span once (aggregation).
 * Why: materialising every span object, its attributes and its hex ids and timestamps was most of the
 * decoding cost and most of the ingest path's garbage, while aggregation reads a handful of fields.
 * The whole request is validated before the first span is yielded, so a malformed request throws
 * before any span is seen. Strings (ids, attribute values, status message) and the bigint timestamps
 * are decoded from the request bytes when a field is read; the request bytes must not change while
 * the spans are read.
 * @throws OtlpDecodeError when the body is not a valid ExportTraceServiceRequest.
 */
export function decodeTraceRequestProtoLazily(
  bytes: Uint8Array,
  limits: DecodeLimits = defaultDecodeLimits,
): LazyDecodeResult {
  const table = new TraceRequestProtoDecoder(bytes, limits).decodeRequest();
  return { spans: new ProtoSpanSequence(table), rejected: table.rejections.toRejection() };
}

/** Kinds of a recorded attribute value (see AttributeEntries). */
const valueKind = { null: 1, string: 2, number: 3, true: 4, false: 5, bigint: 6 } as const;

/**
 * What the first pass keeps of every accepted span: offsets into the request bytes and small numbers,
 * column by column, so no per-span object is built until a field is read.
 */
interface SpanTable {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly limits: DecodeLimits;
  readonly rejections: SpanRejectionTally;
  spanCount: number;
  readonly resources: NormalizedResource[];
  readonly resourceOf: number[];
  readonly traceIdAt: number[];
  readonly spanIdAt: number[];
  /** -1 when the span has no (or an all-zero) parent. */
  readonly parentIdAt: number[];
  readonly names: string[];
  readonly kinds: number[];
  /** -1 when the field is absent. */
  readonly startTimeAt: number[];
  readonly endTimeAt: number[];
  readonly startTimeMs: number[];
  readonly durationMs: number[];
  readonly statusCodes: number[];
  /** Byte range of the status message; start -1 when there is none. */
  readonly statusMessageStart: number[];
  readonly statusMessageEnd: number[];
  readonly exceptions: Array<SpanException | null>;
  /** The span's links are entries [linkFrom, linkFrom + linkCount) of the link columns. */
  readonly linkFrom: number[];
  readonly linkCount: number[];
  readonly linkTraceIdAt: number[];
  readonly linkSpanIdAt: number[];
  /** The span's known attributes are entries [attributeFrom, attributeFrom + attributeCount). */
  readonly attributeFrom: number[];
  readonly attributeCount: number[];
  readonly attributeSlot: number[];
  readonly attributeKind: number[];
  /** String: byte range; number: the value in attributeNumber; bigint: index in bigints. */
  readonly attributeStart: number[];
  readonly attributeEnd: number[];
  readonly attributeNumber: number[];
  readonly bigints: bigint[];
}

class TraceRequestProtoDecoder extends ProtoReader {
  private readonly limits: DecodeLimits;
  private readonly table: SpanTable;
  /** Per span slot: the serial of the last span that recorded it (first occurrence wins). */
  private readonly slotSeenBy = new Int32Array(spanSlotCount).fill(-1);
  /** Output of decodeStatus. */
  private statusCode = 0;
  private statusMessageStart = -1;
  private statusMessageEnd = -1;
  /** Output of scanAnyValue. */
  private scannedKind = 0;
  private scannedStart = 0;
  private scannedEnd = 0;
  private scannedNumber = 0;
  private scannedBigint = 0n;
  /** Counts every span seen (accepted or not), to tell spans apart in slotSeenBy. */
  private spanSerial = 0;
  /** Output of readKeyValue: byte ranges of the key and the value (value start -1 when absent). */
  private keyStart = 0;
  private keyEnd = 0;
  private valueStart = -1;
  private valueEnd = -1;

  constructor(bytes: Uint8Array, limits: DecodeLimits) {
    super(bytes);
    this.limits = limits;
    this.table = {
      bytes,
      view: this.view,
      limits,
      rejections: new SpanRejectionTally(),
      spanCount: 0,
      resources: [],
      resourceOf: [],
      traceIdAt: [],
      spanIdAt: [],
      parentIdAt: [],
      names: [],
      kinds: [],
      startTimeAt: [],
      endTimeAt: [],
      startTimeMs: [],
      durationMs: [],
      statusCodes: [],
      statusMessageStart: [],
      statusMessageEnd: [],
      exceptions: [],
      linkFrom: [],
      linkCount: [],
      linkTraceIdAt: [],
      linkSpanIdAt: [],
      attributeFrom: [],
      attributeCount: [],
      attributeSlot: [],
      attributeKind: [],
      attributeStart: [],
      attributeEnd: [],
      attributeNumber: [],
      bigints: [],
    };
  }

  decodeRequest(): SpanTable {
    const end = this.bytes.length;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.request.resourceSpans) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.decodeResourceSpans(this.pos + length);
      } else {
        this.skipField(end);
      }
    }
    return this.table;
  }

  private decodeResourceSpans(end: number): void {
    const start = this.pos;
    // The resource may follow its spans on the wire; find it first so every span shares one object.
    let resourceStart = -1;
    let resourceEnd = -1;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.resourceSpans.resource) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        resourceStart = this.pos;
        resourceEnd = this.pos + length;
        this.pos = resourceEnd;
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
    const resources = this.table.resources;
    resources.push(this.decodeResource(resourceStart, resourceEnd));
    const resourceIndex = resources.length - 1;

    this.pos = start;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.resourceSpans.scopeSpans) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.decodeScopeSpans(this.pos + length, resourceIndex);
      } else {
        this.skipField(end);
      }
    }
  }

  private decodeResource(start: number, end: number): NormalizedResource {
    const slots = createSlotValues(resourceSlotCount);
    if (start >= 0) {
      this.pos = start;
      this.decodeAttributeList(end, field.resource.attributes, resourceKeyMatcher, slots);
    }
    return normalizeResource(slots);
  }

  /**
   * Reads the repeated KeyValue field `attributesField` of the message ending at `end`, up to
   * `maxAttributes` entries, filling `slots`; other fields are skipped.
   */
  private decodeAttributeList(
    end: number,
    attributesField: number,
    matcher: KeyMatcher,
    slots: AttributeSlotValues,
  ): void {
    let attributeCount = 0;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === attributesField) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        if (attributeCount < this.limits.maxAttributes) {
          attributeCount += 1;
          this.decodeKeyValue(this.pos + length, matcher, slots);
        } else {
          this.pos += length;
        }
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
  }

  private decodeScopeSpans(end: number, resourceIndex: number): void {
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.scopeSpans.spans) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.decodeSpan(this.pos + length, resourceIndex);
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
  }

  /** Reads an id field; returns its length after checking it is 0 or `expectedLength`. */
  private readIdLength(end: number, expectedLength: number, what: string): number {
    this.expectWireType(wireType.lengthDelimited);
    const length = this.readLength(end);
    if (length !== 0 && length !== expectedLength) {
      throw new OtlpDecodeError(`${what} has ${length} bytes, expected ${expectedLength}`);
    }
    return length;
  }

  private decodeSpan(end: number, resourceIndex: number): void {
    const bytes = this.bytes;
    const limits = this.limits;
    const table = this.table;
    this.spanSerial += 1;
    // Attribute entries of a rejected span are dropped again below.
    const attributeFrom = table.attributeSlot.length;
    const linkFrom = table.linkTraceIdAt.length;
    let traceIdStart = -1;
    let traceIdLengthSeen = 0;
    let spanIdStart = -1;
    let spanIdLengthSeen = 0;
    let parentIdStart = -1;
    let parentIdLengthSeen = 0;
    let name = "";
    let kind = 0;
    let startTimeAt = -1;
    let endTimeAt = -1;
    let statusCode = 0;
    let statusMessageStart = -1;
    let statusMessageEnd = -1;
    let attributeCount = 0;
    let linksRead = 0;
    let exception: SpanException | null = null;
    let exceptionRead = false;

    while (this.pos < end) {
      this.readTag(end);
      switch (this.fieldNumber) {
        case field.span.traceId:
          traceIdLengthSeen = this.readIdLength(end, traceIdLength, "trace_id");
          traceIdStart = this.pos;
          this.pos += traceIdLengthSeen;
          break;
        case field.span.spanId:
          spanIdLengthSeen = this.readIdLength(end, spanIdLength, "span_id");
          spanIdStart = this.pos;
          this.pos += spanIdLengthSeen;
          break;
        case field.span.parentSpanId:
          parentIdLengthSeen = this.readIdLength(end, spanIdLength, "parent_span_id");
          parentIdStart = this.pos;
          this.pos += parentIdLengthSeen;
          break;
        case field.span.name: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          name = decodeUtf8Truncated(bytes, this.pos, this.pos + length, limits.maxStringLength);
          this.pos += length;
          break;
        }
        case field.span.kind:
          this.expectWireType(wireType.varint);
          kind = this.readInt32(end);
          break;
        case field.span.startTime:
          this.expectWireType(wireType.fixed64);
          startTimeAt = this.pos;
          this.skipBytes(8, end);
          break;
        case field.span.endTime:
          this.expectWireType(wireType.fixed64);
          endTimeAt = this.pos;
          this.skipBytes(8, end);
          break;
        case field.span.attributes: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          if (attributeCount < limits.maxAttributes) {
            attributeCount += 1;
            this.recordSpanKeyValue(this.pos + length);
          } else {
            this.pos += length;
          }
          break;
        }
        case field.span.events: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          if (!exceptionRead) {
            exception = this.decodeEvent(this.pos + length);
            exceptionRead = exception !== null;
          } else {
            this.pos += length;
          }
          break;
        }
        case field.span.links: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          if (linksRead < limits.maxLinks) {
            linksRead += 1;
            this.recordLink(this.pos + length);
          } else {
            this.pos += length;
          }
          break;
        }
        case field.span.status: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          this.decodeStatus(this.pos + length);
          statusCode = this.statusCode;
          statusMessageStart = this.statusMessageStart;
          statusMessageEnd = this.statusMessageEnd;
          break;
        }
        default:
          this.skipField(end);
      }
    }
    this.expectMessageEnd(end);

    // Unsigned 64-bit times as two 32-bit halves (an absent time is 0).
    const view = this.view;
    const startHigh = startTimeAt < 0 ? 0 : view.getUint32(startTimeAt + 4, true);
    const startLow = startTimeAt < 0 ? 0 : view.getUint32(startTimeAt, true);
    const endHigh = endTimeAt < 0 ? 0 : view.getUint32(endTimeAt + 4, true);
    const endLow = endTimeAt < 0 ? 0 : view.getUint32(endTimeAt, true);
    const endsBeforeStart = endHigh < startHigh || (endHigh === startHigh && endLow < startLow);
    // The order of the two times is all the rule reads: 1 vs 0 says it without building two bigints.
    const rejection = findSpanRejectionReason(
      traceIdLengthSeen === traceIdLength && !isAllZero(bytes, traceIdStart, traceIdLength),
      spanIdLengthSeen === spanIdLength && !isAllZero(bytes, spanIdStart, spanIdLength),
      name,
      endsBeforeStart ? 1n : 0n,
      0n,
    );
    if (rejection !== null) {
      table.rejections.add(rejection);
      truncateColumns(table, attributeFrom, linkFrom);
      return;
    }
    const hasParent = parentIdLengthSeen === spanIdLength && !isAllZero(bytes, parentIdStart, spanIdLength);

    table.spanCount += 1;
    table.resourceOf.push(resourceIndex);
    table.traceIdAt.push(traceIdStart);
    table.spanIdAt.push(spanIdStart);
    table.parentIdAt.push(hasParent ? parentIdStart : -1);
    table.names.push(name);
    table.kinds.push(kind);
    table.startTimeAt.push(startTimeAt);
    table.endTimeAt.push(endTimeAt);
    // Float milliseconds from the two 32-bit halves: each product and sum is exact until the final
    // rounding, so this equals Number(bigint) / 1e6 without bigint arithmetic.
    table.startTimeMs.push((startHigh * twoPow32 + startLow) / nanosPerMilli);
    table.durationMs.push(((endHigh - startHigh) * twoPow32 + (endLow - startLow)) / nanosPerMilli);
    table.statusCodes.push(statusCode);
    table.statusMessageStart.push(statusMessageStart);
    table.statusMessageEnd.push(statusMessageEnd);
    table.exceptions.push(exception);
    table.linkFrom.push(linkFrom);
    table.linkCount.push(table.linkTraceIdAt.length - linkFrom);
    table.attributeFrom.push(attributeFrom);
    table.attributeCount.push(table.attributeSlot.length - attributeFrom);
  }

  /** Reads a Status into `statusCode`/`statusMessage*`; a repeated Status replaces the earlier one whole. */
  private decodeStatus(end: number): void {
    this.statusCode = 0;
    this.statusMessageStart = -1;
    this.statusMessageEnd = -1;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.status.code) {
        this.expectWireType(wireType.varint);
        this.statusCode = this.readInt32(end);
      } else if (this.fieldNumber === field.status.message) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.statusMessageStart = this.pos;
        this.statusMessageEnd = this.pos + length;
        this.pos += length;
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
  }

  /** Reads one KeyValue's key and value ranges into `keyStart`.. (value start -1 when absent). */
  private readKeyValue(end: number): void {
    this.keyStart = 0;
    this.keyEnd = 0;
    this.valueStart = -1;
    this.valueEnd = -1;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.keyValue.key) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.keyStart = this.pos;
        this.keyEnd = this.pos + length;
        this.pos = this.keyEnd;
      } else if (this.fieldNumber === field.keyValue.value) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.valueStart = this.pos;
        this.valueEnd = this.pos + length;
        this.pos = this.valueEnd;
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
  }

  /** Reads one KeyValue ending at `end`; stores its scalar when the key is known and not yet seen. */
  private decodeKeyValue(end: number, matcher: KeyMatcher, slots: AttributeSlotValues): void {
    this.readKeyValue(end);
    const slot = matcher(this.bytes, this.keyStart, this.keyEnd);
    if (slot < 0 || slots[slot] !== undefined) return;
    if (this.valueStart < 0) {
      slots[slot] = null;
      return;
    }
    this.pos = this.valueStart;
    this.scanAnyValue(this.valueEnd);
    slots[slot] = scannedScalar(
      this.table,
      this.scannedKind,
      this.scannedStart,
      this.scannedEnd,
      this.scannedNumber,
      this.scannedBigint,
    );
    this.pos = end;
  }

  /** A span attribute: records where its value is when the key is known and not yet seen on this span. */
  private recordSpanKeyValue(end: number): void {
    this.readKeyValue(end);
    const slot = spanKeyMatcher(this.bytes, this.keyStart, this.keyEnd);
    if (slot < 0 || this.slotSeenBy[slot] === this.spanSerial) return;
    this.slotSeenBy[slot] = this.spanSerial;
    const table = this.table;
    table.attributeSlot.push(slot);
    if (this.valueStart < 0) {
      table.attributeKind.push(valueKind.null);
      table.attributeStart.push(0);
      table.attributeEnd.push(0);
      table.attributeNumber.push(0);
      return;
    }
    this.pos = this.valueStart;
    this.scanAnyValue(this.valueEnd);
    this.pos = end;
    const kind = this.scannedKind;
    table.attributeKind.push(kind);
    if (kind === valueKind.bigint) {
      table.bigints.push(this.scannedBigint);
      table.attributeStart.push(table.bigints.length - 1);
    } else {
      table.attributeStart.push(this.scannedStart);
    }
    table.attributeEnd.push(this.scannedEnd);
    table.attributeNumber.push(this.scannedNumber);
  }

  /**
   * Reads an AnyValue ending at `end` as a scalar into `scanned*` (strings as a byte range, decoded
   * when read); arrays, kvlists, bytes and an empty value give null (not followed). The last field wins.
   */
  private scanAnyValue(end: number): void {
    this.scannedKind = valueKind.null;
    this.scannedStart = 0;
    this.scannedEnd = 0;
    this.scannedNumber = 0;
    while (this.pos < end) {
      this.readTag(end);
      switch (this.fieldNumber) {
        case field.anyValue.string: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          this.scannedKind = valueKind.string;
          this.scannedStart = this.pos;
          this.scannedEnd = this.pos + length;
          this.pos += length;
          break;
        }
        case field.anyValue.bool:
          this.expectWireType(wireType.varint);
          this.readVarint64(end);
          this.scannedKind = (this.varintLow | this.varintHigh) !== 0 ? valueKind.true : valueKind.false;
          break;
        case field.anyValue.int: {
          this.expectWireType(wireType.varint);
          this.readVarint64(end);
          const value = this.varintAsInt64();
          if (typeof value === "bigint") {
            this.scannedKind = valueKind.bigint;
            this.scannedBigint = value;
          } else {
            this.scannedKind = valueKind.number;
            this.scannedNumber = value;
          }
          break;
        }
        case field.anyValue.double:
          this.expectWireType(wireType.fixed64);
          this.scannedKind = valueKind.number;
          this.scannedNumber = this.view.getFloat64(this.pos, true);
          this.skipBytes(8, end);
          break;
        case field.anyValue.array:
        case field.anyValue.kvlist:
        case field.anyValue.bytes: {
          this.expectWireType(wireType.lengthDelimited);
          const skippedLength = this.readLength(end);
          this.pos += skippedLength;
          this.scannedKind = valueKind.null;
          break;
        }
        default:
          this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
  }

  /** Reads a span event; returns the exception summary when it is an `exception` event, else null. */
  private decodeEvent(end: number): SpanException | null {
    const start = this.pos;
    let nameStart = 0;
    let nameEnd = 0;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.event.name) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        nameStart = this.pos;
        nameEnd = this.pos + length;
        this.pos = nameEnd;
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
    if (!this.bytesEqual(nameStart, nameEnd, exceptionEventNameBytes)) return null;
    const slots = createSlotValues(exceptionSlotCount);
    this.pos = start;
    this.decodeAttributeList(end, field.event.attributes, exceptionKeyMatcher, slots);
    return normalizeException(slots, this.limits);
  }

  /** Reads a span link; keeps it unless either id is empty or all zero (the link is dropped). */
  private recordLink(end: number): void {
    let traceIdStart = -1;
    let traceIdLengthSeen = 0;
    let spanIdStart = -1;
    let spanIdLengthSeen = 0;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.link.traceId) {
        traceIdLengthSeen = this.readIdLength(end, traceIdLength, "link trace_id");
        traceIdStart = this.pos;
        this.pos += traceIdLengthSeen;
      } else if (this.fieldNumber === field.link.spanId) {
        spanIdLengthSeen = this.readIdLength(end, spanIdLength, "link span_id");
        spanIdStart = this.pos;
        this.pos += spanIdLengthSeen;
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
    const bytes = this.bytes;
    if (traceIdLengthSeen !== traceIdLength || isAllZero(bytes, traceIdStart, traceIdLength)) return;
    if (spanIdLengthSeen !== spanIdLength || isAllZero(bytes, spanIdStart, spanIdLength)) return;
    this.table.linkTraceIdAt.push(traceIdStart);
    this.table.linkSpanIdAt.push(spanIdStart);
  }

  private bytesEqual(start: number, end: number, expected: Uint8Array): boolean {
    if (end - start !== expected.length) return false;
    for (let index = 0; index < expected.length; index += 1) {
      if (this.bytes[start + index] !== expected[index]) return false;
    }
    return true;
  }
}

/** Drops the attribute and link entries a rejected span recorded. */
function truncateColumns(table: SpanTable, attributeFrom: number, linkFrom: number): void {
  table.attributeSlot.length = attributeFrom;
  table.attributeKind.length = attributeFrom;
  table.attributeStart.length = attributeFrom;
  table.attributeEnd.length = attributeFrom;
  table.attributeNumber.length = attributeFrom;
  table.linkTraceIdAt.length = linkFrom;
  table.linkSpanIdAt.length = linkFrom;
}

/** The AttributeScalar a scanned value stands for (strings decoded and cut to the limit here). */
function scannedScalar(
  table: SpanTable,
  kind: number,
  start: number,
  end: number,
  number: number,
  big: bigint,
): AttributeScalar {
  switch (kind) {
    case valueKind.string:
      return decodeUtf8Truncated(table.bytes, start, end, table.limits.maxStringLength);
    case valueKind.number:
      return number;
    case valueKind.true:
      return true;
    case valueKind.false:
      return false;
    case valueKind.bigint:
      return big;
    default:
      return null;
  }
}

/** The accepted spans of one decoded request, iterable any number of times (one view per iteration). */
class ProtoSpanSequence implements SpanSequence {
  readonly length: number;
  private readonly table: SpanTable;

  constructor(table: SpanTable) {
    this.table = table;
    this.length = table.spanCount;
  }

  [Symbol.iterator](): Iterator<NormalizedSpan> {
    return new ProtoSpanIterator(this.table);
  }
}

class ProtoSpanIterator implements Iterator<NormalizedSpan> {
  private readonly view: ProtoSpanView;
  private readonly count: number;
  // One result object, updated in place: the iterator protocol allows it and it saves an allocation.
  private readonly result: { done: boolean; value: NormalizedSpan };

  constructor(table: SpanTable) {
    this.view = new ProtoSpanView(table);
    this.view.index = -1;
    this.count = table.spanCount;
    this.result = { done: false, value: this.view };
  }

  next(): IteratorResult<NormalizedSpan> {
    const next = this.view.index + 1;
    if (next >= this.count) {
      this.result.done = true;
      return this.result as IteratorResult<NormalizedSpan>;
    }
    this.view.moveTo(next);
    return this.result as IteratorResult<NormalizedSpan>;
  }
}

/**
 * One accepted span of a SpanTable, read field by field from the request bytes. `moveTo` points it at
 * another span. Every field reads exactly what decodeTraceRequestProto puts in the same field.
 */
class ProtoSpanView implements NormalizedSpan {
  index = 0;
  private readonly table: SpanTable;
  private readonly attributeView: ProtoSpanAttributes;
  private linksOfIndex = -1;
  private linksCache: SpanLink[] = [];

  constructor(table: SpanTable) {
    this.table = table;
    this.attributeView = new ProtoSpanAttributes(table);
  }

  moveTo(index: number): void {
    this.index = index;
    this.attributeView.moveTo(index);
  }

  get resource(): NormalizedResource {
    return this.table.resources[this.table.resourceOf[this.index] ?? 0] as NormalizedResource;
  }

  get traceId(): string {
    return bytesToHex(this.table.bytes, this.table.traceIdAt[this.index] ?? 0, traceIdLength);
  }

  get spanId(): string {
    return bytesToHex(this.table.bytes, this.table.spanIdAt[this.index] ?? 0, spanIdLength);
  }

  get parentSpanId(): string | null {
    const at = this.table.parentIdAt[this.index] ?? -1;
    return at < 0 ? null : bytesToHex(this.table.bytes, at, spanIdLength);
  }

  get name(): string {
    return this.table.names[this.index] ?? "";
  }

  get kind(): SpanKind {
    return spanKindFromNumber(this.table.kinds[this.index] ?? 0);
  }

  get startTimeUnixNano(): bigint {
    const at = this.table.startTimeAt[this.index] ?? -1;
    return at < 0 ? 0n : this.table.view.getBigUint64(at, true);
  }

  get endTimeUnixNano(): bigint {
    const at = this.table.endTimeAt[this.index] ?? -1;
    return at < 0 ? 0n : this.table.view.getBigUint64(at, true);
  }

  get startTimeMs(): number {
    return this.table.startTimeMs[this.index] ?? 0;
  }

  get durationMs(): number {
    return this.table.durationMs[this.index] ?? 0;
  }

  get statusCode(): SpanStatusCode {
    return statusCodeFromNumber(this.table.statusCodes[this.index] ?? 0);
  }

  get statusMessage(): string | null {
    const table = this.table;
    const start = table.statusMessageStart[this.index] ?? -1;
    if (start < 0) return null;
    const end = table.statusMessageEnd[this.index] ?? start;
    const message = decodeUtf8Truncated(table.bytes, start, end, table.limits.maxStringLength);
    return message === "" ? null : message;
  }

  get links(): SpanLink[] {
    if (this.linksOfIndex === this.index) return this.linksCache;
    const table = this.table;
    const from = table.linkFrom[this.index] ?? 0;
    const count = table.linkCount[this.index] ?? 0;
    const links: SpanLink[] = [];
    for (let at = from; at < from + count; at += 1) {
      links.push({
        traceId: bytesToHex(table.bytes, table.linkTraceIdAt[at] ?? 0, traceIdLength),
        spanId: bytesToHex(table.bytes, table.linkSpanIdAt[at] ?? 0, spanIdLength),
      });
    }
    this.linksOfIndex = this.index;
    this.linksCache = links;
    return links;
  }

  get attributes(): SpanAttributes {
    return this.attributeView;
  }

  get exception(): SpanException | null {
    return this.table.exceptions[this.index] ?? null;
  }

  /** A plain NormalizedSpan of the current span, every field read. */
  toNormalizedSpan(): NormalizedSpan {
    return {
      resource: this.resource,
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      startTimeUnixNano: this.startTimeUnixNano,
      endTimeUnixNano: this.endTimeUnixNano,
      startTimeMs: this.startTimeMs,
      durationMs: this.durationMs,
      statusCode: this.statusCode,
      statusMessage: this.statusMessage,
      links: [...this.links],
      attributes: normalizeSpanAttributes(this.attributeView.slotValues()),
      exception: this.exception,
    };
  }
}

/** The span attributes of the view's current span, each decoded when read. */
class ProtoSpanAttributes extends SpanAttributesOfSlots {
  private readonly table: SpanTable;
  private from = 0;
  private count = 0;

  constructor(table: SpanTable) {
    super();
    this.table = table;
  }

  moveTo(index: number): void {
    this.from = this.table.attributeFrom[index] ?? 0;
    this.count = this.table.attributeCount[index] ?? 0;
  }

  /** The scalar of a span slot, as decodeTraceRequestProto would have stored it; undefined = not seen. */
  override slot(slot: number): AttributeScalar | undefined {
    const table = this.table;
    const end = this.from + this.count;
    for (let at = this.from; at < end; at += 1) {
      if (table.attributeSlot[at] !== slot) continue;
      const kind = table.attributeKind[at] ?? valueKind.null;
      const start = table.attributeStart[at] ?? 0;
      return scannedScalar(
        table,
        kind,
        start,
        table.attributeEnd[at] ?? 0,
        table.attributeNumber[at] ?? 0,
        kind === valueKind.bigint ? (table.bigints[start] ?? 0n) : 0n,
      );
    }
    return undefined;
  }

  /** Every slot's scalar, as the slot array normalizeSpanAttributes takes. */
  slotValues(): AttributeSlotValues {
    const values = createSlotValues(spanSlotCount);
    for (let slot = 0; slot < spanSlotCount; slot += 1) values[slot] = this.slot(slot);
    return values;
  }
}
