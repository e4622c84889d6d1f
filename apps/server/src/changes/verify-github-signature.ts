import { createHmac, timingSafeEqual } from "node:crypto";

const signaturePattern = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Checks GitHub's `X-Hub-Signature-256` header: `sha256=` and the hex HMAC-SHA256 of the raw body
 * bytes keyed by the webhook secret. The body must be the bytes as received, never re-serialized
 * JSON. Compared in constant time over the 32 decoded bytes. Hex digits are accepted in either case
 * (GitHub sends lower case; the case carries no meaning). A missing header, the legacy `sha1=` form,
 * a wrong length or any whitespace inside is a failure.
 */
export function verifyGithubSignature(
  secret: string,
  rawBody: Uint8Array,
  header: string | undefined,
): boolean {
  const match = header === undefined ? null : signaturePattern.exec(header);
  const hex = match?.[1];
  if (hex === undefined) return false;
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(hex, "hex"), expected);
}
