/**
 * A hand-written decoder of OTLP `ExportTraceServiceRequest` (proto3 wire format) straight into
 * NormalizedSpan. It never builds generic message objects: keys of attributes are matched as bytes,
 * values are decoded only for the keys Faultline reads, everything else (unknown fields, ignored
 * attributes, nested arrays/kvlists, non-exception events) is skipped by its length prefix.
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
  spanAttributeSlots,
  spanSlotCount,
} from "./normalize-attributes.ts";
import {
  type DecodeLimits,
  type DecodeResult,
  defaultDecodeLimits,
  type NormalizedResource,
  type NormalizedSpan,
  OtlpDecodeError,
  type SpanException,
  type SpanLink,
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
  return new TraceRequestProtoDecoder(bytes, limits).decodeRequest();
}

class TraceRequestProtoDecoder extends ProtoReader {
  private readonly limits: DecodeLimits;
  private readonly spans: NormalizedSpan[] = [];
  private readonly rejections = new SpanRejectionTally();
  /** Reused for every span: normalizeSpanAttributes copies what it needs. */
  private readonly spanSlots: AttributeSlotValues = createSlotValues(spanSlotCount);
  /** Output of decodeStatus. */
  private statusCode = 0;
  private statusMessage = "";

  constructor(bytes: Uint8Array, limits: DecodeLimits) {
    super(bytes);
    this.limits = limits;
  }

  decodeRequest(): DecodeResult {
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
    return { spans: this.spans, rejected: this.rejections.toRejection() };
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
    const resource = this.decodeResource(resourceStart, resourceEnd);

    this.pos = start;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.resourceSpans.scopeSpans) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.decodeScopeSpans(this.pos + length, resource);
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

  private decodeScopeSpans(end: number, resource: NormalizedResource): void {
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.scopeSpans.spans) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.decodeSpan(this.pos + length, resource);
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

  private decodeSpan(end: number, resource: NormalizedResource): void {
    const bytes = this.bytes;
    const limits = this.limits;
    const slots = this.spanSlots;
    slots.fill(undefined);
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
    let statusMessage = "";
    let attributeCount = 0;
    let linksRead = 0;
    const links: SpanLink[] = [];
    let exception: SpanException | null = null;

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
            this.decodeKeyValue(this.pos + length, spanKeyMatcher, slots);
          } else {
            this.pos += length;
          }
          break;
        }
        case field.span.events: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          if (exception === null) {
            exception = this.decodeEvent(this.pos + length);
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
            const link = this.decodeLink(this.pos + length);
            if (link !== null) links.push(link);
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
          statusMessage = this.statusMessage;
          break;
        }
        default:
          this.skipField(end);
      }
    }
    this.expectMessageEnd(end);

    const startTimeUnixNano = startTimeAt < 0 ? 0n : this.fixed64At(startTimeAt);
    const endTimeUnixNano = endTimeAt < 0 ? 0n : this.fixed64At(endTimeAt);
    const rejection = findSpanRejectionReason(
      traceIdLengthSeen === traceIdLength && !isAllZero(bytes, traceIdStart, traceIdLength),
      spanIdLengthSeen === spanIdLength && !isAllZero(bytes, spanIdStart, spanIdLength),
      name,
      startTimeUnixNano,
      endTimeUnixNano,
    );
    if (rejection !== null) {
      this.rejections.add(rejection);
      return;
    }

    // Float milliseconds from the two 32-bit halves: each product and sum is exact until the final
    // rounding, so this equals Number(bigint) / 1e6 without bigint arithmetic.
    const view = this.view;
    const startHigh = startTimeAt < 0 ? 0 : view.getUint32(startTimeAt + 4, true);
    const startLow = startTimeAt < 0 ? 0 : view.getUint32(startTimeAt, true);
    const endHigh = endTimeAt < 0 ? 0 : view.getUint32(endTimeAt + 4, true);
    const endLow = endTimeAt < 0 ? 0 : view.getUint32(endTimeAt, true);
    const hasParent = parentIdLengthSeen === spanIdLength && !isAllZero(bytes, parentIdStart, spanIdLength);

    this.spans.push({
      resource,
      traceId: bytesToHex(bytes, traceIdStart, traceIdLength),
      spanId: bytesToHex(bytes, spanIdStart, spanIdLength),
      parentSpanId: hasParent ? bytesToHex(bytes, parentIdStart, spanIdLength) : null,
      name,
      kind: spanKindFromNumber(kind),
      startTimeUnixNano,
      endTimeUnixNano,
      startTimeMs: (startHigh * twoPow32 + startLow) / nanosPerMilli,
      durationMs: ((endHigh - startHigh) * twoPow32 + (endLow - startLow)) / nanosPerMilli,
      statusCode: statusCodeFromNumber(statusCode),
      statusMessage: statusMessage === "" ? null : statusMessage,
      links,
      attributes: normalizeSpanAttributes(slots),
      exception,
    });
  }

  /** Reads a Status into `statusCode`/`statusMessage`; a repeated Status replaces the earlier one whole. */
  private decodeStatus(end: number): void {
    this.statusCode = 0;
    this.statusMessage = "";
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.status.code) {
        this.expectWireType(wireType.varint);
        this.statusCode = this.readInt32(end);
      } else if (this.fieldNumber === field.status.message) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        this.statusMessage = decodeUtf8Truncated(
          this.bytes,
          this.pos,
          this.pos + length,
          this.limits.maxStringLength,
        );
        this.pos += length;
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
  }

  /** Reads one KeyValue ending at `end`; stores its scalar when the key is known and not yet seen. */
  private decodeKeyValue(end: number, matcher: KeyMatcher, slots: AttributeSlotValues): void {
    let keyStart = 0;
    let keyEnd = 0;
    let valueStart = -1;
    let valueEnd = -1;
    while (this.pos < end) {
      this.readTag(end);
      if (this.fieldNumber === field.keyValue.key) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        keyStart = this.pos;
        keyEnd = this.pos + length;
        this.pos = keyEnd;
      } else if (this.fieldNumber === field.keyValue.value) {
        this.expectWireType(wireType.lengthDelimited);
        const length = this.readLength(end);
        valueStart = this.pos;
        valueEnd = this.pos + length;
        this.pos = valueEnd;
      } else {
        this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
    const slot = matcher(this.bytes, keyStart, keyEnd);
    if (slot < 0 || slots[slot] !== undefined) return;
    if (valueStart < 0) {
      slots[slot] = null;
      return;
    }
    this.pos = valueStart;
    slots[slot] = this.decodeAnyValue(valueEnd);
    this.pos = end;
  }

  /** Reads an AnyValue ending at `end` as a scalar; arrays, kvlists and bytes give null (not followed). */
  private decodeAnyValue(end: number): AttributeScalar {
    let value: AttributeScalar = null;
    while (this.pos < end) {
      this.readTag(end);
      switch (this.fieldNumber) {
        case field.anyValue.string: {
          this.expectWireType(wireType.lengthDelimited);
          const length = this.readLength(end);
          value = decodeUtf8Truncated(this.bytes, this.pos, this.pos + length, this.limits.maxStringLength);
          this.pos += length;
          break;
        }
        case field.anyValue.bool:
          this.expectWireType(wireType.varint);
          this.readVarint64(end);
          value = (this.varintLow | this.varintHigh) !== 0;
          break;
        case field.anyValue.int:
          this.expectWireType(wireType.varint);
          this.readVarint64(end);
          value = this.varintAsInt64();
          break;
        case field.anyValue.double:
          this.expectWireType(wireType.fixed64);
          value = this.view.getFloat64(this.pos, true);
          this.skipBytes(8, end);
          break;
        case field.anyValue.array:
        case field.anyValue.kvlist:
        case field.anyValue.bytes: {
          this.expectWireType(wireType.lengthDelimited);
          const skippedLength = this.readLength(end);
          this.pos += skippedLength;
          value = null;
          break;
        }
        default:
          this.skipField(end);
      }
    }
    this.expectMessageEnd(end);
    return value;
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

  /** Reads a span link; returns null when either id is empty or all zero (the link is dropped). */
  private decodeLink(end: number): SpanLink | null {
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
    if (traceIdLengthSeen !== traceIdLength || isAllZero(bytes, traceIdStart, traceIdLength)) return null;
    if (spanIdLengthSeen !== spanIdLength || isAllZero(bytes, spanIdStart, spanIdLength)) return null;
    return {
      traceId: bytesToHex(bytes, traceIdStart, traceIdLength),
      spanId: bytesToHex(bytes, spanIdStart, spanIdLength),
    };
  }

  private bytesEqual(start: number, end: number, expected: Uint8Array): boolean {
    if (end - start !== expected.length) return false;
    for (let index = 0; index < expected.length; index += 1) {
      if (this.bytes[start + index] !== expected[index]) return false;
    }
    return true;
  }
}
