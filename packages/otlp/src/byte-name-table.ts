/**
 * Finds which of a fixed set of names a run of UTF-8 bytes spells, without decoding it. Used by the
 * OTLP/JSON scanner for member names and attribute keys: most keys it meets are names it ignores,
 * and those are told apart by length, last and first byte before any full comparison.
 */

interface KnownName {
  readonly bytes: Uint8Array;
  readonly number: number;
}

const noNames: readonly KnownName[] = [];

export class ByteNameTable {
  /** Known names by byte length; dense, so that a lookup never meets a hole. */
  private readonly namesByLength: (readonly KnownName[])[];
  private readonly numbersByName: ReadonlyMap<string, number>;

  /** @param numbersByName name → the number `find` returns for it (≥ 0). */
  constructor(numbersByName: ReadonlyMap<string, number>) {
    this.numbersByName = numbersByName;
    const encoder = new TextEncoder();
    const names = [...numbersByName].map(([name, number]) => ({ bytes: encoder.encode(name), number }));
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

  /** The number of the name stored in `bytes[start, end)`, or -1 when it is none of the known names. */
  find(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    if (length >= this.namesByLength.length) return -1;
    const candidates = this.namesByLength[length] ?? noNames;
    for (let candidate = 0; candidate < candidates.length; candidate += 1) {
      const known = candidates[candidate];
      if (known === undefined) break;
      const name = known.bytes;
      // Known names share prefixes ("http.", "messaging."), so the last byte tells most apart.
      if (name[length - 1] !== bytes[end - 1] || name[0] !== bytes[start]) continue;
      let index = length - 2;
      while (index > 0 && name[index] === bytes[start + index]) index -= 1;
      if (index <= 0) return known.number;
    }
    return -1;
  }
}
