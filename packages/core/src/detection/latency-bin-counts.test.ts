import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { latencyBinKeyOf } from "../latency-bin-key-of.ts";
import { mergeLatencyBins } from "../merge-latency-bins.ts";
import { quantileFromLatencyBins } from "../quantile-from-latency-bins.ts";
import { emptySketchBins, type SketchBins } from "../sketch-bins.ts";
import { binIndexOf, LatencyBinCounts } from "./latency-bin-counts.ts";

const sketchOf = (entries: [string, number][]): SketchBins => {
  const bins = emptySketchBins();
  for (const [key, count] of entries) bins[key] = count;
  return bins;
};

// Mostly real bin keys, plus the zero bin, out-of-range indices and keys that are not bin keys.
const key = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: 0.001, max: 60_000, noNaN: true }).map(latencyBinKeyOf) },
  { weight: 1, arbitrary: fc.constantFrom("z", "b-0", "b01", "b+1", "b", "x7", "b99999", "b-3000", "b1e2") },
);
const count = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 500 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -2, 0.5, 2.25, Number.NaN, Number.POSITIVE_INFINITY) },
);
const sketch = fc.array(fc.tuple(key, count), { maxLength: 40 }).map(sketchOf);

describe("LatencyBinCounts", () => {
  it("gives quantileFromLatencyBins' answer for the merge of the sketches added", () => {
    fc.assert(
      fc.property(
        fc.array(sketch, { maxLength: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (sketches, q) => {
          const counts = new LatencyBinCounts();
          for (const bins of sketches) counts.add(bins);
          const merged = sketches.reduce<SketchBins>(
            (into, bins) => mergeLatencyBins(into, bins),
            emptySketchBins(),
          );
          expect(counts.quantile(q)).toBe(quantileFromLatencyBins(merged, q));
          counts.clear();
          expect(counts.quantile(q)).toBeNull();
        },
      ),
      { seed: 11, numRuns: 2000 },
    );
  });

  it("reads bin keys as latencyBinIndexOf does, without substrings", () => {
    for (const text of [
      "b0",
      "b7",
      "b-12",
      "b116",
      "b-0",
      "b01",
      "b+1",
      "b",
      "z",
      "b1.5",
      "b12345678901",
      "c12",
    ])
      expect(Number.isNaN(binIndexOf(text)) ? "NaN" : binIndexOf(text)).toBe(
        ({ b0: 0, b7: 7, "b-12": -12, b116: 116, b12345678901: 12345678901 } as Record<string, number>)[
          text
        ] ?? "NaN",
      );
  });
});
