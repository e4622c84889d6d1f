/** Minimal proto3 writing for the small response messages (a few fields, written once per request). */

const utf8Encoder = new TextEncoder();

/** Error messages in responses are cut to this many UTF-8 bytes (the Collector reads ≤ 64 KiB). */
export const maxResponseMessageBytes = 1024;

/** UTF-8 bytes of `text`, cut at a character boundary to at most `maxBytes`. */
export function encodeUtf8Bounded(text: string, maxBytes: number): Uint8Array {
  const bytes = utf8Encoder.encode(text);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so that no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end);
}

/** `text` cut so that its UTF-8 encoding fits in `maxBytes`. */
export function boundUtf8Text(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  return new TextDecoder().decode(encodeUtf8Bounded(text, maxBytes));
}

export class ProtoWriter {
  private readonly bytes: number[] = [];

  /** Appends an unsigned varint; `value` must be a non-negative safe integer. */
  writeVarint(value: number): void {
    let remaining = value;
    while (remaining >= 0x80) {
      this.bytes.push((remaining % 0x80) | 0x80);
      remaining = Math.floor(remaining / 0x80);
    }
    this.bytes.push(remaining);
  }

  /** Appends an int32 varint; negative values take 10 bytes (sign-extended to 64 bits). */
  writeInt32(value: number): void {
    if (value >= 0) {
      this.writeVarint(value);
      return;
    }
    let low = value >>> 0;
    for (let index = 0; index < 4; index += 1) {
      this.bytes.push((low & 0x7f) | 0x80);
      low >>>= 7;
    }
    // Bits 28..31 of the low word, then all-ones for the sign extension up to bit 63.
    this.bytes.push((low & 0x0f) | 0x70 | 0x80, 0xff, 0xff, 0xff, 0xff, 0x01);
  }

  writeTag(fieldNumber: number, wireType: number): void {
    this.writeVarint(fieldNumber * 8 + wireType);
  }

  writeBytesField(fieldNumber: number, value: Uint8Array): void {
    this.writeTag(fieldNumber, 2);
    this.writeVarint(value.length);
    for (const byte of value) this.bytes.push(byte);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
