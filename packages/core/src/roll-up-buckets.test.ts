import { describe, expect, it } from "vitest";
import type { SeriesBucketDelta } from "./ingest-aggregate.ts";
import { latencyBinKeyOf } from "./latency-bin-key-of.ts";
import { rollUpBuckets } from "./roll-up-buckets.ts";
import { seededRandom } from "./test-support/seeded-random.ts";
import { upsertBucketsLikeDb } from "./test-support/upsert-like-db.ts";

const series = {
  environment: "production",
  service: "dm-api",
  operation: "POST /v1/dm/messages",
  spanKind: "server" as const,
  destination: null,
  version: "1.0.0",
};

function delta(bucketStartMs: number, overrides: Partial<SeriesBucketDelta> = {}): SeriesBucketDelta {
  return {
    seriesKey: "k",
    series,
    stepMs: 10_000,
    bucketStartMs,
    spans: 1,
    errors: 0,
    durationSumMs: 5,
    latencyBins: { [latencyBinKeyOf(5)]: 1 },
    userRegisters: {},
    ...overrides,
  };
}

describe("rollUpBuckets", () => {
  it("merges counts and sketches into 1-minute and 1-hour buckets", () => {
    const t = Date.UTC(2026, 0, 1, 12);
    const deltas = [
      delta(t, { userRegisters: { r1: 3 } }),
      delta(t + 50_000, { errors: 1, userRegisters: { r1: 5, r9: 1 } }),
      delta(t + 60_000, { latencyBins: { z: 2 }, spans: 2, durationSumMs: 0 }),
      delta(t, { seriesKey: "other" }),
    ];
    const minutes = rollUpBuckets(deltas, 60_000);
    expect(minutes).toEqual([
      {
        ...delta(t),
        stepMs: 60_000,
        spans: 2,
        errors: 1,
        durationSumMs: 10,
        latencyBins: { [latencyBinKeyOf(5)]: 2 },
        userRegisters: { r1: 5, r9: 1 },
      },
      { ...delta(t + 60_000), stepMs: 60_000, spans: 2, durationSumMs: 0, latencyBins: { z: 2 } },
      { ...delta(t, { seriesKey: "other" }), stepMs: 60_000 },
    ]);
    const hours = rollUpBuckets(minutes, 3_600_000);
    expect(hours.map((h) => [h.seriesKey, h.bucketStartMs, h.spans])).toEqual([
      ["k", t, 4],
      ["other", t, 1],
    ]);
    expect(hours[0]?.latencyBins).toEqual({ [latencyBinKeyOf(5)]: 2, z: 2 });
    // Inputs are left alone.
    expect(deltas[0]?.userRegisters).toEqual({ r1: 3 });
  });

  it("gives the same stored rollup whatever the batching and order (seeded property test)", () => {
    const random = seededRandom(8);
    const t = Date.UTC(2026, 0, 1);
    const deltas = Array.from({ length: 500 }, () =>
      delta(t + random.int(360) * 10_000, {
        seriesKey: `s${random.int(4)}`,
        spans: 1 + random.int(5),
        errors: random.int(2),
        latencyBins: { [latencyBinKeyOf(random.lognormal(10, 1))]: 1 },
        userRegisters: { [`r${random.int(4096)}`]: 1 + random.int(10) },
      }),
    );
    const whole = upsertBucketsLikeDb(rollUpBuckets(deltas, 60_000));
    const shuffled = [...deltas].sort(() => random.next() - 0.5);
    const pieces = [shuffled.slice(0, 100), shuffled.slice(100, 333), shuffled.slice(333)];
    const piecewise = upsertBucketsLikeDb(pieces.flatMap((p) => rollUpBuckets(p, 60_000)));
    expect(piecewise.size).toBe(whole.size);
    for (const [key, row] of whole) {
      const other = piecewise.get(key);
      expect(other?.spans).toBe(row.spans);
      expect(other?.errors).toBe(row.errors);
      expect(other?.latencyBins).toEqual(row.latencyBins);
      expect(other?.userRegisters).toEqual(row.userRegisters);
    }
    expect([...whole.values()].reduce((n, r) => n + r.spans, 0)).toBe(
      deltas.reduce((n, d) => n + d.spans, 0),
    );
  });

  it("refuses a step that is not a multiple of the input step", () => {
    expect(() => rollUpBuckets([delta(0)], 15_000)).toThrow(RangeError);
    expect(() => rollUpBuckets([delta(0)], 0)).toThrow(RangeError);
    expect(rollUpBuckets([], 60_000)).toEqual([]);
  });
});
