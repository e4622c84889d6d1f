/**
 * UTF-8 → string for the decoders. Invalid sequences become U+FFFD (non-fatal, like most OTLP
 * receivers); a leading BOM is kept as a character, as protobuf runtimes do.
 */
import { truncateString } from "./normalize-attributes.ts";

const utf8Decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Below this many bytes a plain loop avoids TextDecoder's per-call overhead for ASCII text (span names,
 * attribute values). The threshold is a guess, not yet tuned with bench/decode-bench.ts.
 */
const asciiLoopMaxBytes = 24;

/** Decodes `bytes[start, end)` as UTF-8. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= asciiLoopMaxBytes) {
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

/**
 * Decodes `bytes[start, end)` as UTF-8 and keeps at most `maxLength` UTF-16 code units, decoding only
 * the prefix that can contribute to them (a 10 MB attribute costs no more than a short one).
 */
export function decodeUtf8Truncated(
  bytes: Uint8Array,
  start: number,
  end: number,
  maxLength: number,
): string {
  // A UTF-16 code unit takes at least one UTF-8 byte, so short byte runs cannot exceed the limit.
  if (end - start <= maxLength) return decodeUtf8(bytes, start, end);
  // Every code unit takes at most 3 bytes; 4 spare bytes keep a cut character out of the result.
  const prefixEnd = Math.min(end, start + maxLength * 3 + 4);
  return truncateString(decodeUtf8(bytes, start, prefixEnd), maxLength);
}

/** Decodes a whole buffer as UTF-8 text for JSON, dropping a leading BOM (JSON.parse rejects it). */
export function decodeUtf8Document(bytes: Uint8Array): string {
  const text = utf8Decoder.decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
