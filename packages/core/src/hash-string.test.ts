import { describe, expect, it } from "vitest";
import { hashString64, hashStringHex, lastLowHashWord } from "./hash-string.ts";

describe("hashStringHex", () => {
  it("is deterministic, 16 hex characters, and pinned (stored fingerprints depend on it)", () => {
    expect(hashStringHex("user-1")).toMatch(/^[0-9a-f]{16}$/);
    expect(hashStringHex("user-1")).toBe(hashStringHex("user-1"));
    expect(hashStringHex("")).toBe(hashStringHex(""));
    expect(hashStringHex("")).not.toBe(hashStringHex("\u0000"));
    expect(hashStringHex("ab")).not.toBe(hashStringHex("ba"));
    expect({
      empty: hashStringHex(""),
      user: hashStringHex("user-1"),
      unicode: hashStringHex("ユーザー🙂"),
    }).toMatchInlineSnapshot(`
        {
          "empty": "46c73d9663767bde",
          "unicode": "e978e59ef05cad62",
          "user": "a613646c53b9d30f",
        }
      `);
  });

  it("has no collisions and flips about half the bits for one-character changes", () => {
    const seen = new Set<string>();
    let flips = 0;
    let pairs = 0;
    for (let i = 0; i < 50_000; i++) {
      const a = `session-${i}`;
      seen.add(hashStringHex(a));
      const high = hashString64(a);
      const low = lastLowHashWord();
      const high2 = hashString64(`session-${i}x`);
      const low2 = lastLowHashWord();
      flips += popcount(high ^ high2) + popcount(low ^ low2);
      pairs++;
    }
    expect(seen.size).toBe(50_000);
    expect(flips / pairs).toBeGreaterThan(31);
    expect(flips / pairs).toBeLessThan(33);
  });
});

function popcount(x: number): number {
  let v = x >>> 0;
  let n = 0;
  while (v !== 0) {
    v &= v - 1;
    n++;
  }
  return n;
}
