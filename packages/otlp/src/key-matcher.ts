/**
 * Matches UTF-8 attribute keys straight from the wire against the known keys, without decoding them
 * into strings: most attributes of a span are keys Faultline ignores, and decoding each would cost
 * a string allocation.
 */

/** Returns the slot of the key stored in `bytes[start, end)`, or -1 when the key is not known. */
export type KeyMatcher = (bytes: Uint8Array, start: number, end: number) => number;

interface KnownKey {
  readonly bytes: Uint8Array;
  readonly slot: number;
}

/** Builds a matcher for the keys of `slotsByKey` (key → slot). */
export function createKeyMatcher(slotsByKey: ReadonlyMap<string, number>): KeyMatcher {
  const encoder = new TextEncoder();
  const keysByLength: KnownKey[][] = [];
  for (const [key, slot] of slotsByKey) {
    const bytes = encoder.encode(key);
    const bucket = keysByLength[bytes.length] ?? [];
    bucket.push({ bytes, slot });
    keysByLength[bytes.length] = bucket;
  }
  return (bytes, start, end) => {
    const candidates = keysByLength[end - start];
    if (candidates === undefined) return -1;
    for (const candidate of candidates) {
      const known = candidate.bytes;
      // Known keys share prefixes ("http.", "messaging."), so compare from the end first.
      let index = known.length - 1;
      while (index >= 0 && known[index] === bytes[start + index]) index -= 1;
      if (index < 0) return candidate.slot;
    }
    return -1;
  };
}
