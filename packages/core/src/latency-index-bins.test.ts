import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateSpans } from "./aggregate-spans.ts";
import { LatencyBinCounts } from "./detection/latency-bin-counts.ts";
import { latencyBinKeyAt, latencyBinKeyOf, latencyIndexValueOf } from "./latency-bin-key-of.ts";
import { LatencyIndexBins, quantileIndexOfIndexBins } from "./latency-index-bins.ts";
import { addLatencyBinsInto } from "./merge-latency-bins.ts";
import { quantileFromLatencyBins } from "./quantile-from-latency-bins.ts";
import { rollUpBuckets } from "./roll-up-buckets.ts";
import { emptySketchBins, type SketchBins } from "./sketch-bins.ts";
import { makeSpan } from "./test-support/make-span.ts";

const duration = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: 0.001, max: 120_000, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0.0004, 1e9, 3e15) },
);

/** Both forms of one sketch, built span by span the way aggregation builds them. */
function bothForms(durations: readonly number[]): { object: SketchBins; numeric: LatencyIndexBins } {
  const object = emptySketchBins();
  const numeric = new LatencyIndexBins();
  for (const ms of durations) {
    const key = latencyBinKeyOf(ms);
    object[key] = (object[key] ?? 0) + 1;
    numeric.addDuration(ms);
  }
  return { object, numeric };
}

/** The numeric form read back as keyed entries: the zero bin first, then by index. */
function entriesOf(bins: LatencyIndexBins): [string, number][] {
  const out: [string, number][] = bins.zero > 0 ? [[latencyBinKeyAt(Number.NaN), bins.zero]] : [];
  for (const [at, index] of bins.indices.entries()) out.push([latencyBinKeyAt(index), bins.counts[at] ?? 0]);
  return out;
}

/** A sketch object's entries in the same order. */
function sortedEntriesOf(bins: SketchBins): [string, number][] {
  const order = (key: string) => (key === "z" ? Number.NEGATIVE_INFINITY : Number(key.slice(1)));
  return Object.entries(bins).sort(([a], [b]) => order(a) - order(b));
}

describe("LatencyIndexBins", () => {
  it("holds the same bins as the sketch object built from the same spans and merges", () => {
    fc.assert(
      fc.property(fc.array(fc.array(duration, { maxLength: 60 }), { maxLength: 5 }), (groups) => {
        const mergedObject = emptySketchBins();
        const mergedNumeric = new LatencyIndexBins();
        for (const durations of groups) {
          const { object, numeric } = bothForms(durations);
          expect(entriesOf(numeric)).toEqual(sortedEntriesOf(object));
          addLatencyBinsInto(mergedObject, object);
          mergedNumeric.addAll(numeric);
        }
        expect(entriesOf(mergedNumeric)).toEqual(sortedEntriesOf(mergedObject));
        expect(mergedNumeric.total).toBe(groups.flat().length);
      }),
      { seed: 5, numRuns: 500 },
    );
  });

  it("gives detection exactly the quantiles of the sketch objects", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(duration, { maxLength: 80 }), { maxLength: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (groups, q) => {
          const fromObjects = new LatencyBinCounts();
          const fromNumbers = new LatencyBinCounts();
          const merged = emptySketchBins();
          const numericSketches: LatencyIndexBins[] = [];
          for (const durations of groups) {
            const { object, numeric } = bothForms(durations);
            numericSketches.push(numeric);
            fromObjects.add(object);
            fromNumbers.addIndexBins(numeric);
            addLatencyBinsInto(merged, object);
          }
          const expected = quantileFromLatencyBins(merged, q);
          expect(fromObjects.quantile(q)).toBe(expected);
          expect(fromNumbers.quantile(q)).toBe(expected);
          const index = quantileIndexOfIndexBins(numericSketches, q);
          expect(index === null ? null : Number.isNaN(index) ? 0 : latencyIndexValueOf(index)).toBe(expected);
        },
      ),
      { seed: 6, numRuns: 1000 },
    );
  });

  it("comes out of aggregation and raw merges matching the stored sketch; a merge with a delta lacking it drops it", () => {
    const nowMs = Date.UTC(2026, 0, 5, 12);
    const spans = [3, 3, 40, 0, 250, 41, 3].map((ms, at) =>
      makeSpan({ name: "GET /x", startTimeMs: nowMs - 5_000 + at, durationMs: ms }),
    );
    const [delta] = aggregateSpans(spans, { defaultEnvironment: "prod", nowMs }).seriesBuckets;
    if (!delta?.latencyIndexBins) throw new Error("aggregation kept no numeric bins");
    expect(entriesOf(delta.latencyIndexBins)).toEqual(sortedEntriesOf(delta.latencyBins));
    const [twice] = rollUpBuckets([delta, delta], delta.stepMs);
    expect(twice?.latencyIndexBins && entriesOf(twice.latencyIndexBins)).toEqual(
      sortedEntriesOf(twice?.latencyBins ?? {}),
    );
    const { latencyIndexBins: _dropped, ...stored } = delta;
    expect(rollUpBuckets([delta, stored], delta.stepMs)[0]?.latencyIndexBins).toBeUndefined();
  });
});
