import { hashStringHex } from "./hash-string.ts";

// Order matters: quoted strings first (they may contain ids and numbers), then UUIDs (they contain
// hex runs), then hex ids, then any remaining numbers.
const quoted = /"[^"\n]*"|'[^'\n]*'|`[^`\n]*`/g;
const uuid = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const prefixedHex = /\b0x[0-9a-f]+\b/gi;
// A bare run of 8+ hex characters with at least one digit and one letter: span, trace, object and
// commit ids. Pure words ("deadbeef" is rare; "accepted" is not hex) and pure numbers are left to the
// other rules.
const bareHex = /\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi;
const number = /\d+(?:[.,]\d+)*/g;
const spaces = /\s+/g;

/**
 * Normalizes an error message so that occurrences of the same error group together: quoted strings
 * become `<str>`, UUIDs `<uuid>`, hex ids (`0x…`, or 8+ hex characters mixing digits and letters)
 * `<hex>`, other numbers (with decimal or thousands separators) `<n>`; whitespace runs collapse to one
 * space and the ends are trimmed. Deterministic; an empty message stays empty.
 */
export function normalizeErrorMessage(message: string): string {
  return message
    .replace(quoted, "<str>")
    .replace(uuid, "<uuid>")
    .replace(prefixedHex, "<hex>")
    .replace(bareHex, "<hex>")
    .replace(number, "<n>")
    .replace(spaces, " ")
    .trim();
}

/**
 * The fingerprint of an error: 16 hex characters hashing the exception type and the normalized message
 * (see {@link normalizeErrorMessage}). A missing type and a missing message are distinct from an empty
 * one only through the other part; both missing still gives one stable fingerprint ("no detail").
 */
export function errorFingerprintOf(exceptionType: string | null, message: string | null): string {
  return hashStringHex(
    `${exceptionType ?? ""}\u001f${message === null ? "" : normalizeErrorMessage(message)}`,
  );
}
