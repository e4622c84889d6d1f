import { describe, expect, it } from "vitest";
import { bucketStartOf, rawBucketMs } from "./time-buckets.ts";

describe("bucketStartOf", () => {
  it("aligns to the epoch at the raw 10 s width by default", () => {
    const t = Date.parse("2026-11-27T10:00:17.250Z");
    expect(bucketStartOf(t)).toBe(Date.parse("2026-11-27T10:00:10.000Z"));
    expect(rawBucketMs).toBe(10_000);
  });

  it("keeps a time on a boundary in its own bucket and rounds negatives down", () => {
    expect(bucketStartOf(60_000, 60_000)).toBe(60_000);
    expect(bucketStartOf(-1, 10_000)).toBe(-10_000);
  });

  it("rejects a non-positive width", () => {
    expect(() => bucketStartOf(1, 0)).toThrow(RangeError);
  });
});
