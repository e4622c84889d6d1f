import { createHash, timingSafeEqual } from "node:crypto";

/** Checks a presented API key (e.g. Faro's `x-api-key` header); true when it is a configured one. */
export type ApiKeyVerifier = (presented: string | undefined) => boolean;

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Builds a constant-time verifier for a shared API key. Keys are compared as SHA-256 digests with
 * `timingSafeEqual` (fixed 32 bytes: no length leak, no throw on very long values), and every
 * configured key is checked without an early exit.
 *
 * @returns null when no key is configured (the check is off).
 */
export function createApiKeyVerifier(
  keys: string | readonly string[] | null | undefined,
): ApiKeyVerifier | null {
  const list = (typeof keys === "string" ? [keys] : (keys ?? [])).filter((key) => key.length > 0);
  if (list.length === 0) return null;
  const expected = list.map(digest);
  return (presented) => {
    const candidate = digest(presented ?? "");
    let ok = false;
    for (const key of expected) ok = timingSafeEqual(candidate, key) || ok;
    return ok && presented !== undefined;
  };
}
