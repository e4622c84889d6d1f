import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { latencyBinKeyAt, latencyBinKeyOf } from "../latency-bin-key-of.ts";
import { LatencyIndexBins } from "../latency-index-bins.ts";
import { addLatencyBinsInto } from "../merge-latency-bins.ts";
import { quantileFromLatencyBins } from "../quantile-from-latency-bins.ts";
import { emptySketchBins, type SketchBins } from "../sketch-bins.ts";
import { SignalColumns } from "./signal-columns.ts";
import { SignalHistory } from "./signal-history.ts";

const duration = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: 0.001, max: 120_000, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0.0004) },
);

/** One observation: a signal number, counts, and its latency sketch in one of the forms callers hand in. */
const observation = fc.record({
  signal: fc.integer({ min: 0, max: 9 }),
  spans: fc.integer({ min: 0, max: 50 }),
  errors: fc.integer({ min: 0, max: 5 }),
  durations: fc.array(duration, { maxLength: 30 }),
  form: fc.constantFrom("numeric", "object", "fractional"),
});
type Observation = typeof observation extends fc.Arbitrary<infer T> ? T : never;

/** The sketch an observation hands in, and the object form a merge of stored sketches would hold. */
function sketchesOf(item: Observation): { given: SketchBins | LatencyIndexBins; object: SketchBins } {
  const object = emptySketchBins();
  const numeric = new LatencyIndexBins();
  for (const ms of item.durations) {
    const key = latencyBinKeyOf(ms);
    object[key] = (object[key] ?? 0) + 1;
    numeric.addDuration(ms);
  }
  if (item.form === "object") return { given: object, object };
  if (item.form === "fractional" && numeric.indices.length > 0) {
    // Non-integral counts: detection must not walk these as integers, and must still read them.
    const index = numeric.indices[0] ?? 0;
    numeric.add(index, 0.5);
    const key = latencyBinKeyAt(index);
    object[key] = (object[key] ?? 0) + 0.5;
  }
  return { given: numeric, object };
}

describe("SignalColumns", () => {
  it("sums counts and reads each signal's p95 as the merge of its sketches, across reuse and growth", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(observation, { maxLength: 25 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 30 }),
        (buckets, readEarlyAt) => {
          // Starts too small for the signal numbers, so adding grows it as the engine does.
          const columns = new SignalColumns(2);
          for (const items of buckets) {
            const expected = new Map<number, { spans: number; errors: number; merged: SketchBins }>();
            for (const item of items) {
              if (item.signal >= columns.capacity) columns.grow(item.signal + 1);
              const { given, object } = sketchesOf(item);
              const first = columns.add(item.signal, item.spans, item.errors, given, item.form !== "object");
              expect(first).toBe(!expected.has(item.signal));
              const sums = expected.get(item.signal) ?? { spans: 0, errors: 0, merged: emptySketchBins() };
              sums.spans += item.spans;
              sums.errors += item.errors;
              addLatencyBinsInto(sums.merged, object);
              expected.set(item.signal, sums);
              // Reading early (the object path does) must not change the final answer.
              columns.readObjectsEarly(item.signal, readEarlyAt);
            }
            for (let signal = 0; signal < 10; signal += 1) {
              const sums = expected.get(signal);
              expect(columns.has(signal)).toBe(sums !== undefined);
              if (!sums) {
                expect(columns.p95Of(signal)).toBeNull();
                continue;
              }
              expect(columns.spans[signal]).toBe(sums.spans);
              expect(columns.errors[signal]).toBe(sums.errors);
              const p95 = sums.spans === 0 ? null : quantileFromLatencyBins(sums.merged, 0.95);
              expect(columns.p95Of(signal)).toBe(p95);
              // Asked again, the same (cached) answer.
              expect(columns.p95Of(signal)).toBe(p95);
            }
            expect([...columns.touched.subarray(0, columns.count)]).toEqual([...expected.keys()]);
            columns.clear();
            expect(columns.count).toBe(0);
          }
        },
      ),
      { seed: 23, numRuns: 400 },
    );
  });
});

describe("SignalHistory", () => {
  it("keeps every signal's slots when it widens for more signals", () => {
    const history = new SignalHistory(5, 3);
    for (let slot = 0; slot < 5; slot += 1) {
      for (let signal = 0; signal < 3; signal += 1) {
        const cell = history.cell(slot, signal);
        history.spans[cell] = slot * 10 + signal;
        history.errors[cell] = slot + signal;
        history.inBaseline[cell] = (slot + signal) % 2;
      }
    }
    history.ensure(7);
    for (let slot = 0; slot < 5; slot += 1) {
      for (let signal = 0; signal < 7; signal += 1) {
        const cell = history.cell(slot, signal);
        const known = signal < 3;
        expect(history.spans[cell]).toBe(known ? slot * 10 + signal : 0);
        expect(history.errors[cell]).toBe(known ? slot + signal : 0);
        expect(history.inBaseline[cell]).toBe(known ? (slot + signal) % 2 : 0);
      }
    }
  });
});
