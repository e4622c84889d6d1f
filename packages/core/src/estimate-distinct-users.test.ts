import { describe, expect, it } from "vitest";
import { addUserToRegisters, userRegisterCount, userRegisterOf } from "./add-user-to-registers.ts";
import { estimateDistinctUsers } from "./estimate-distinct-users.ts";
import { mergeUserRegisters } from "./merge-user-registers.ts";
import type { SketchBins } from "./sketch-bins.ts";
import { seededRandom } from "./test-support/seeded-random.ts";

const standardError = 1.04 / Math.sqrt(userRegisterCount);

function registersOf(ids: Iterable<string>): SketchBins {
  const registers: SketchBins = {};
  for (const id of ids) addUserToRegisters(registers, id);
  return registers;
}

function* ids(prefix: string, from: number, to: number): Generator<string> {
  for (let i = from; i < to; i++) yield `${prefix}${i}`;
}

describe("estimateDistinctUsers", () => {
  it.each([
    ["sequential user ids", "user-", 10_000],
    ["sequential user ids", "user-", 100_000],
    ["numeric ids", "", 10_000],
    ["prefixed ids around the small/large range switch", "acct_", 10_240],
    ["prefixed ids around the small/large range switch", "u:", 15_000],
    ["numeric ids", "", 100_000],
    ["email-like ids", "someone+", 30_000],
  ])("is within 3 standard errors for %s (%s…, %i distinct)", (_label, prefix, n) => {
    const registers = registersOf(ids(prefix, 0, n));
    const estimate = estimateDistinctUsers(registers);
    expect(Math.abs(estimate - n) / n).toBeLessThan(3 * standardError);
  });

  it("is near exact for small sets and ignores repeats", () => {
    expect(estimateDistinctUsers({})).toBe(0);
    const registers = registersOf(["a", "b", "c", "a", "b", "a"]);
    expect(Math.round(estimateDistinctUsers(registers))).toBe(3);
    expect(Math.round(estimateDistinctUsers(registersOf(ids("u", 0, 500))))).toBeGreaterThan(490);
    expect(Math.round(estimateDistinctUsers(registersOf(ids("u", 0, 500))))).toBeLessThan(510);
  });

  it("estimates a union from merged registers, whatever the split", () => {
    const random = seededRandom(5);
    const all: SketchBins = {};
    const parts: SketchBins[] = [{}, {}, {}];
    for (let i = 0; i < 40_000; i++) {
      const id = `u${random.int(25_000)}`;
      addUserToRegisters(all, id);
      const part = parts[random.int(3)];
      if (part !== undefined) addUserToRegisters(part, id);
    }
    const [a = {}, b = {}, c = {}] = parts;
    expect(mergeUserRegisters(mergeUserRegisters(a, b), c)).toEqual(all);
    expect(mergeUserRegisters(c, mergeUserRegisters(b, a))).toEqual(all);
  });

  it("ignores keys and ranks that no writer produces", () => {
    const registers = registersOf(ids("x", 0, 100));
    const estimate = estimateDistinctUsers(registers);
    const noisy = { ...registers, r4096: 5, "r-1": 3, r01: 9, "7": 9, junk: 2 };
    expect(estimateDistinctUsers(noisy)).toBe(estimate);
  });

  it("spreads user ids evenly over the registers", () => {
    const counts = new Array<number>(userRegisterCount).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const index = userRegisterOf(`user-${i}`) >>> 6;
      counts[index] = (counts[index] ?? 0) + 1;
    }
    const expected = n / userRegisterCount;
    let chiSquare = 0;
    for (const c of counts) chiSquare += (c - expected) ** 2 / expected;
    // 4095 degrees of freedom: mean 4095, sd ≈ 90.5; 5 sd is a generous bound for a fixed input.
    expect(chiSquare).toBeLessThan(4095 + 5 * 90.5);
  });
});

describe("mergeUserRegisters", () => {
  it("is commutative, associative and idempotent (seeded property test)", () => {
    const random = seededRandom(3);
    const randomRegisters = (): SketchBins =>
      registersOf(Array.from({ length: random.int(300) }, () => `id-${random.int(1000)}`));
    for (let round = 0; round < 100; round++) {
      const a = randomRegisters();
      const b = randomRegisters();
      const c = randomRegisters();
      expect(mergeUserRegisters(a, b)).toEqual(mergeUserRegisters(b, a));
      expect(mergeUserRegisters(mergeUserRegisters(a, b), c)).toEqual(
        mergeUserRegisters(a, mergeUserRegisters(b, c)),
      );
      expect(mergeUserRegisters(a, a)).toEqual(a);
    }
  });
});
