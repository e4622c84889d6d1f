/**
 * Finds which of a fixed set of names a run of UTF-8 bytes spells, without decoding it. Used by the
 * OTLP/JSON scanner for member names and attribute keys: most keys it meets are names it ignores.
 * Names of four bytes or more are compared as little-endian 32-bit words (the last word overlapping
 * the previous one when the length is not a multiple of four), which rejects most strangers with one
 * read and accepts a known name in a quarter of the comparisons of a byte loop.
 */

interface KnownName {
  readonly bytes: Uint8Array;
  readonly number: number;
  /** Byte offsets of the words compared, and the words; empty for names under four bytes. */
  readonly wordOffsets: readonly number[];
  readonly words: readonly number[];
}

const noNames: readonly KnownName[] = [];

function knownName(bytes: Uint8Array, number: number): KnownName {
  const wordOffsets: number[] = [];
  if (bytes.length >= 4) {
    for (let offset = 0; offset + 4 < bytes.length; offset += 4) wordOffsets.push(offset);
    wordOffsets.push(bytes.length - 4);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { bytes, number, wordOffsets, words: wordOffsets.map((offset) => view.getInt32(offset, true)) };
}

export class ByteNameTable {
  /** Known names by byte length; dense, so that a lookup never meets a hole. */
  private readonly namesByLength: (readonly KnownName[])[];
  private readonly numbersByName: ReadonlyMap<string, number>;

  /** @param numbersByName name → the number `find` returns for it (≥ 0). */
  constructor(numbersByName: ReadonlyMap<string, number>) {
    this.numbersByName = numbersByName;
    const encoder = new TextEncoder();
    const names = [...numbersByName].map(([name, number]) => knownName(encoder.encode(name), number));
    const longest = Math.max(0, ...names.map((name) => name.bytes.length));
    this.namesByLength = Array.from({ length: longest + 1 }, (_, length) => {
      const sameLength = names.filter((name) => name.bytes.length === length);
      return sameLength.length === 0 ? noNames : sameLength;
    });
  }

  /** The number of `name` (already decoded text), or -1 when it is none of the known names. */
  findText(name: string): number {
    return this.numbersByName.get(name) ?? -1;
  }

  /**
   * The number of the name stored in `bytes[start, end)` (`view` is a DataView of the same bytes), or
   * -1 when it is none of the known names.
   */
  find(bytes: Uint8Array, view: DataView, start: number, end: number): number {
    const length = end - start;
    if (length >= this.namesByLength.length) return -1;
    const candidates = this.namesByLength[length] ?? noNames;
    for (let candidate = 0; candidate < candidates.length; candidate += 1) {
      const known = candidates[candidate];
      if (known === undefined) break;
      if (length >= 4) {
        const offsets = known.wordOffsets;
        const words = known.words;
        let index = 0;
        while (
          index < offsets.length &&
          view.getInt32(start + (offsets[index] ?? 0), true) === words[index]
        ) {
          index += 1;
        }
        if (index === offsets.length) return known.number;
      } else {
        const name = known.bytes;
        let index = 0;
        while (index < length && name[index] === bytes[start + index]) index += 1;
        if (index === length) return known.number;
      }
    }
    return -1;
  }
}
