import { describe, expect, it } from "vitest";
import { latencyBinKeyOf, latencyRelativeAccuracy } from "./latency-bin-key-of.ts";
import { mergeLatencyBins } from "./merge-latency-bins.ts";
import { quantileFromLatencyBins } from "./quantile-from-latency-bins.ts";
import type { SketchBins } from "./sketch-bins.ts";
import { seededRandom } from "./test-support/seeded-random.ts";

function sketchOf(values: readonly number[]): SketchBins {
  const bins: SketchBins = {};
  for (const v of values) {
    const key = latencyBinKeyOf(v);
    bins[key] = (bins[key] ?? 0) + 1;
  }
  return bins;
}

// The DDSketch guarantee: the answer is within the relative accuracy of the sample of rank q·(n−1).
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN;
}

describe("quantileFromLatencyBins", () => {
  it.each([
    [1, 20, 0.5],
    [2, 120, 1.0],
    [3, 30, 2.0],
  ])(
    "is within the relative accuracy on lognormal samples (seed %i, median %d ms, sigma %d)",
    (seed, median, sigma) => {
      const random = seededRandom(seed);
      const values = Array.from({ length: 50_000 }, () => random.lognormal(median, sigma));
      const bins = sketchOf(values);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0, 0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
        const estimate = quantileFromLatencyBins(bins, q);
        const exact = exactQuantile(sorted, q);
        expect(estimate).not.toBeNull();
        expect(Math.abs((estimate ?? 0) - exact) / exact).toBeLessThanOrEqual(latencyRelativeAccuracy + 1e-9);
      }
    },
  );

  it("gives the same quantiles from merged partial sketches as from one sketch", () => {
    const random = seededRandom(11);
    const values = Array.from({ length: 9000 }, () => random.lognormal(40, 0.8));
    const parts = [values.slice(0, 1000), values.slice(1000, 5000), values.slice(5000)].map(sketchOf);
    const [a = {}, b = {}, c = {}] = parts;
    const merged = mergeLatencyBins(mergeLatencyBins(a, b), c);
    expect(merged).toEqual(sketchOf(values));
    for (const q of [0.5, 0.95, 0.99]) {
      expect(quantileFromLatencyBins(merged, q)).toBe(quantileFromLatencyBins(sketchOf(values), q));
    }
  });

  it("handles zero durations, the empty sketch and bad input", () => {
    expect(quantileFromLatencyBins({}, 0.5)).toBeNull();
    expect(quantileFromLatencyBins({ z: 3 }, 0.99)).toBe(0);
    const mostlyZero = sketchOf([0, 0, 0, 0, 0, 0, 0, 0, 0, 100]);
    expect(quantileFromLatencyBins(mostlyZero, 0.5)).toBe(0);
    expect(quantileFromLatencyBins(mostlyZero, 1)).toBeCloseTo(100, -1);
    expect(quantileFromLatencyBins({ b10: 0, junk: 5, "": 2, "b1.5": 1, "10": 4, b: 1 }, 0.5)).toBeNull();
    expect(() => quantileFromLatencyBins({ z: 1 }, 1.5)).toThrow(RangeError);
    expect(() => quantileFromLatencyBins({ z: 1 }, Number.NaN)).toThrow(RangeError);
  });

  it("orders negative keys (sub-millisecond) below positive ones", () => {
    const bins = sketchOf([0.01, 0.02, 0.5, 5, 50]);
    expect(quantileFromLatencyBins(bins, 0)).toBeCloseTo(0.01, 3);
    expect(quantileFromLatencyBins(bins, 0.5)).toBeCloseTo(0.5, 1);
  });
});

describe("mergeLatencyBins", () => {
  it("is commutative and associative and leaves its inputs alone (seeded property test)", () => {
    const random = seededRandom(99);
    const randomBins = (): SketchBins =>
      sketchOf(
        Array.from({ length: random.int(50) }, () => (random.next() < 0.1 ? 0 : random.lognormal(10, 2))),
      );
    for (let round = 0; round < 200; round++) {
      const a = randomBins();
      const b = randomBins();
      const c = randomBins();
      const aCopy = { ...a };
      expect(mergeLatencyBins(a, b)).toEqual(mergeLatencyBins(b, a));
      expect(mergeLatencyBins(mergeLatencyBins(a, b), c)).toEqual(
        mergeLatencyBins(a, mergeLatencyBins(b, c)),
      );
      expect(mergeLatencyBins(a, {})).toEqual(a);
      expect(a).toEqual(aCopy);
    }
  });
});
