import { createHash, timingSafeEqual } from "node:crypto";

/** Checks an `Authorization` header value; true when it carries one of the configured bearer tokens. */
export type BearerTokenVerifier = (authorization: string | undefined) => boolean;

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Builds a verifier for `Authorization: Bearer <token>` (scheme case-insensitive, as RFC 9110 says
 * auth schemes are). Tokens are compared as SHA-256 digests with `timingSafeEqual`: fixed 32-byte
 * inputs, so neither the token's length leaks nor `timingSafeEqual` throws on a length mismatch, and
 * every configured token is checked without an early exit.
 *
 * @param tokens one token or several (rotation); empty strings are ignored.
 * @returns null when no token is configured (auth disabled).
 */
export function createBearerTokenVerifier(
  tokens: string | readonly string[] | null | undefined,
): BearerTokenVerifier | null {
  const list = (typeof tokens === "string" ? [tokens] : (tokens ?? [])).filter((t) => t.length > 0);
  if (list.length === 0) return null;
  const expected = list.map(digest);
  return (authorization) => {
    if (authorization === undefined) return false;
    const match = /^bearer[ \t]+(.+)$/i.exec(authorization.trim());
    const presented = digest(match?.[1]?.trim() ?? "");
    let ok = false;
    for (const candidate of expected) {
      // The comparison sits left of `||` so it runs for every candidate whatever the earlier results.
      ok = timingSafeEqual(presented, candidate) || ok;
    }
    return ok && match !== null;
  };
}
