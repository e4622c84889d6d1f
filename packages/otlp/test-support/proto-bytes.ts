/**
 * A tiny test-side protobuf writer: builds wire bytes field by field, so tests can place fields in any
 * order, repeat them, and add unknown fields and groups that generated encoders never produce.
 */

export type Chunk = Uint8Array;

export function concatBytes(chunks: readonly Chunk[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Unsigned varint of a (non-negative, < 2^64) bigint or number; negative numbers → 64-bit two's complement. */
export function varint(value: bigint | number): Uint8Array {
  if (typeof value === "number" && value >= 0 && value < 0x80000000) {
    const out: number[] = [];
    let remaining = value;
    while (remaining >= 0x80) {
      out.push((remaining & 0x7f) | 0x80);
      remaining >>>= 7;
    }
    out.push(remaining);
    return Uint8Array.from(out);
  }
  let remaining = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (remaining >= 0x80n) {
    out.push(Number(remaining & 0x7fn) | 0x80);
    remaining >>= 7n;
  }
  out.push(Number(remaining));
  return Uint8Array.from(out);
}

export function tag(fieldNumber: number, wireType: number): Uint8Array {
  return varint(fieldNumber * 8 + wireType);
}

export function varintField(fieldNumber: number, value: bigint | number): Uint8Array {
  return concatBytes([tag(fieldNumber, 0), varint(value)]);
}

export function fixed64Field(fieldNumber: number, value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return concatBytes([tag(fieldNumber, 1), out]);
}

export function doubleField(fieldNumber: number, value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, value, true);
  return concatBytes([tag(fieldNumber, 1), out]);
}

export function fixed32Field(fieldNumber: number, value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return concatBytes([tag(fieldNumber, 5), out]);
}

export function bytesField(fieldNumber: number, value: Uint8Array): Uint8Array {
  return concatBytes([tag(fieldNumber, 2), varint(value.length), value]);
}

const utf8Encoder = new TextEncoder();

export function stringField(fieldNumber: number, value: string): Uint8Array {
  return bytesField(fieldNumber, utf8Encoder.encode(value));
}

export function messageField(fieldNumber: number, fields: readonly Chunk[]): Uint8Array {
  return bytesField(fieldNumber, concatBytes(fields));
}

export function groupField(fieldNumber: number, fields: readonly Chunk[]): Uint8Array {
  return concatBytes([tag(fieldNumber, 3), ...fields, tag(fieldNumber, 4)]);
}
