/**
 * Just enough protobuf wire encoding for the few fixed response messages the receivers build
 * themselves (google.rpc.Status details for gRPC). Span data is never encoded or decoded here.
 */
export class ProtoWriter {
  private readonly bytes: number[] = [];

  /** Writes a varint field (wire type 0); zero is skipped, as proto3 omits defaults. */
  varint(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, 0);
    this.rawVarint(value);
    return this;
  }

  /** Writes a length-delimited field (wire type 2); empty values are skipped. */
  bytesField(field: number, value: Uint8Array): this {
    if (value.length === 0) return this;
    this.tag(field, 2);
    this.rawVarint(value.length);
    for (const b of value) this.bytes.push(b);
    return this;
  }

  /** Writes a UTF-8 string field; empty strings are skipped. */
  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  // Non-negative integers up to 2^53 only, which covers every count and code written here.
  private rawVarint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }
}
