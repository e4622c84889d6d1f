/** Trace/span id helpers shared by the decoders: lower-case hex rendering and validation. */

const hexByByte: readonly string[] = Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, "0"),
);

/** Lower-case hex of `bytes[start, start + length)`. */
export function bytesToHex(bytes: Uint8Array, start: number, length: number): string {
  let hex = "";
  for (let index = start; index < start + length; index += 1) {
    hex += hexByByte[bytes[index] ?? 0];
  }
  return hex;
}

/** True when `bytes[start, start + length)` holds only zero bytes (an invalid id). */
export function isAllZero(bytes: Uint8Array, start: number, length: number): boolean {
  for (let index = start; index < start + length; index += 1) {
    if (bytes[index] !== 0) return false;
  }
  return true;
}

const hexPattern = /^[0-9a-fA-F]*$/;
const zeroHexPattern = /^0*$/;

/**
 * Validates a JSON hex id (case-insensitive; OTLP/JSON deviation from base64). Returns the lower-case
 * hex, "" for an empty or all-zero id (invalid, the span is rejected), or null when the text has the
 * wrong length or non-hex characters (the whole request is malformed, as in the Collector).
 */
export function normalizeHexId(text: string, byteLength: number): string | null {
  if (text === "") return "";
  if (text.length !== byteLength * 2 || !hexPattern.test(text)) return null;
  if (zeroHexPattern.test(text)) return "";
  return text.toLowerCase();
}
