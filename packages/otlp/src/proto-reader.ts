/**
 * Proto3 wire-format primitives over one Uint8Array. Every read is bounds-checked against the end of
 * the enclosing message, so a hostile length can never make a reader run past its message, and every
 * failure is an OtlpDecodeError with a short message (the receiver answers 400).
 */
import { OtlpDecodeError } from "./normalized-span.ts";

export const wireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

/** Nested groups deeper than this are refused rather than tracked (groups are legacy proto2). */
const maxGroupDepth = 32;

const twoPow32 = 4294967296;

export class ProtoReader {
  protected readonly bytes: Uint8Array;
  protected readonly view: DataView;
  /** The next byte to read. */
  protected pos = 0;
  /** Field number and wire type of the tag read last by `readTag`. */
  protected fieldNumber = 0;
  protected fieldWireType = 0;
  /** Low and high 32 bits (unsigned) of the varint read last by `readVarint64`. */
  protected varintLow = 0;
  protected varintHigh = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads a varint that must fit in 32 unsigned bits (tags, lengths); longer ones are malformed here. */
  protected readUint32(end: number): number {
    const bytes = this.bytes;
    let pos = this.pos;
    if (pos >= end) throw new OtlpDecodeError(`truncated varint at byte ${pos}`);
    let byte = bytes[pos++] ?? 0;
    if (byte < 0x80) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      if (pos >= end) throw new OtlpDecodeError(`truncated varint at byte ${pos}`);
      byte = bytes[pos++] ?? 0;
      if (shift === 28) {
        // The fifth byte may only carry the top 4 bits of a 32-bit value.
        if (byte > 0x0f) throw new OtlpDecodeError(`varint too large at byte ${pos - 1}`);
        this.pos = pos;
        return value + byte * 0x10000000;
      }
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw new OtlpDecodeError(`varint too large at byte ${pos}`);
  }

  /** Reads a varint of up to 10 bytes into `varintLow`/`varintHigh`. */
  protected readVarint64(end: number): void {
    const bytes = this.bytes;
    let pos = this.pos;
    let low = 0;
    let high = 0;
    let byte = 0x80;
    let index = 0;
    for (; index < 10 && byte >= 0x80; index += 1) {
      if (pos >= end) throw new OtlpDecodeError(`truncated varint at byte ${pos}`);
      byte = bytes[pos++] ?? 0;
      const bits = byte & 0x7f;
      if (index < 4) {
        low |= bits << (7 * index);
      } else if (index === 4) {
        low |= bits << 28;
        high |= bits >>> 4;
      } else {
        high |= bits << (7 * index - 32);
      }
    }
    if (byte >= 0x80) throw new OtlpDecodeError(`varint longer than 10 bytes at byte ${pos}`);
    this.varintLow = low >>> 0;
    this.varintHigh = high >>> 0;
    this.pos = pos;
  }

  /** Reads a varint and keeps its low 32 bits as a signed int32 (enums, int32 fields). */
  protected readInt32(end: number): number {
    this.readVarint64(end);
    return this.varintLow | 0;
  }

  /** The varint read last as a signed int64: a number when safe, otherwise a bigint. */
  protected varintAsInt64(): number | bigint {
    const high = this.varintHigh | 0;
    if (high >= -0x200000 && high < 0x200000) return high * twoPow32 + this.varintLow;
    return BigInt.asIntN(64, (BigInt(this.varintHigh) << 32n) | BigInt(this.varintLow));
  }

  /** Reads the next tag into `fieldNumber`/`fieldWireType`. */
  protected readTag(end: number): void {
    const tag = this.readUint32(end);
    this.fieldNumber = tag >>> 3;
    this.fieldWireType = tag & 7;
    if (this.fieldNumber === 0) throw new OtlpDecodeError(`invalid field number 0 at byte ${this.pos}`);
  }

  /** Reads a length prefix and checks that many bytes remain before `end`; returns the length. */
  protected readLength(end: number): number {
    const length = this.readUint32(end);
    if (length > end - this.pos) {
      throw new OtlpDecodeError(`length ${length} at byte ${this.pos} runs past the end of its message`);
    }
    return length;
  }

  /** Throws unless the tag just read has the wire type the schema gives its field. */
  protected expectWireType(expected: number): void {
    if (this.fieldWireType !== expected) {
      throw new OtlpDecodeError(
        `field ${this.fieldNumber} has wire type ${this.fieldWireType}, expected ${expected}`,
      );
    }
  }

  /** Advances past `count` bytes, which must lie before `end`. */
  protected skipBytes(count: number, end: number): void {
    if (count > end - this.pos) throw new OtlpDecodeError(`field runs past the end at byte ${this.pos}`);
    this.pos += count;
  }

  /** Skips the value of the field whose tag was just read, whatever its (valid) wire type. */
  protected skipField(end: number): void {
    switch (this.fieldWireType) {
      case wireType.varint:
        this.readVarint64(end);
        return;
      case wireType.fixed64:
        this.skipBytes(8, end);
        return;
      case wireType.lengthDelimited: {
        const skippedLength = this.readLength(end);
        this.pos += skippedLength;
        return;
      }
      case wireType.fixed32:
        this.skipBytes(4, end);
        return;
      case wireType.startGroup:
        this.skipGroup(this.fieldNumber, end);
        return;
      case wireType.endGroup:
        throw new OtlpDecodeError(`unexpected end-group tag at byte ${this.pos}`);
      default:
        throw new OtlpDecodeError(`invalid wire type ${this.fieldWireType} at byte ${this.pos}`);
    }
  }

  /** Skips a (legacy proto2) group, iteratively so that nesting cannot exhaust the call stack. */
  private skipGroup(fieldNumber: number, end: number): void {
    const openGroups = [fieldNumber];
    while (openGroups.length > 0) {
      this.readTag(end);
      if (this.fieldWireType === wireType.endGroup) {
        if (openGroups.pop() !== this.fieldNumber) {
          throw new OtlpDecodeError(`mismatched end-group tag at byte ${this.pos}`);
        }
      } else if (this.fieldWireType === wireType.startGroup) {
        if (openGroups.length >= maxGroupDepth) throw new OtlpDecodeError("groups nested too deeply");
        openGroups.push(this.fieldNumber);
      } else {
        this.skipField(end);
      }
    }
  }

  /** Throws when the last field overran the message that should have ended at `end`. */
  protected expectMessageEnd(end: number): void {
    if (this.pos !== end) throw new OtlpDecodeError(`field overruns its message at byte ${end}`);
  }

  /** Reads a little-endian fixed64 at `at` as an unsigned bigint. */
  protected fixed64At(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }
}
