import { DDSketch } from "@datadog/sketches-js";
import { describe, expect, it } from "vitest";
import {
  latencyBinKeyOf,
  latencyBinValueOf,
  latencyRelativeAccuracy,
  minIndexableLatencyMs,
  zeroLatencyBinKey,
} from "./latency-bin-key-of.ts";
import { seededRandom } from "./test-support/seeded-random.ts";

describe("latencyBinKeyOf", () => {
  it("uses the DDSketch logarithmic index of the library", () => {
    const reference = new DDSketch({ relativeAccuracy: latencyRelativeAccuracy }).mapping;
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const ms = random.lognormal(30, 3);
      if (ms < minIndexableLatencyMs) continue;
      expect(latencyBinKeyOf(ms)).toBe(`b${reference.key(ms)}`);
    }
  });

  it("puts zero, sub-microsecond, negative and NaN durations in the zero bin", () => {
    for (const ms of [0, 1e-9, 0.000999, -5, Number.NaN]) expect(latencyBinKeyOf(ms)).toBe(zeroLatencyBinKey);
    expect(latencyBinKeyOf(minIndexableLatencyMs)).not.toBe(zeroLatencyBinKey);
    expect(latencyBinValueOf(zeroLatencyBinKey)).toBe(0);
  });

  it("reads every bin back within the relative accuracy, far beyond the precomputed key table", () => {
    for (const ms of [0.001, 0.5, 1, 13.7, 999, 86_400_000, 3e12]) {
      const back = latencyBinValueOf(latencyBinKeyOf(ms));
      expect(Math.abs(back - ms) / ms).toBeLessThanOrEqual(latencyRelativeAccuracy + 1e-12);
    }
  });

  it("reads a key that is not a bin key as NaN", () => {
    expect(latencyBinValueOf("")).toBeNaN();
    expect(latencyBinValueOf("1.5")).toBeNaN();
    expect(latencyBinValueOf("x")).toBeNaN();
    expect(latencyBinValueOf("117")).toBeNaN();
    expect(latencyBinValueOf("b01")).toBeNaN();
    expect(latencyBinValueOf("b")).toBeNaN();
    expect(latencyBinKeyOf(100)).toBe("b116");
    expect(Math.abs(latencyBinValueOf("b116") - 100)).toBeLessThan(2);
  });
});
