import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Constant-time equality of a presented secret and the configured one. Both are hashed first, so the
 * comparison is over 32 bytes whatever their lengths: no length leak, and `timingSafeEqual` never
 * throws on a length mismatch (a very long presented value is just hashed).
 */
export function secretsEqual(presented: string | undefined, expected: string): boolean {
  const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(presented ?? ""), digest(expected)) && presented !== undefined;
}
