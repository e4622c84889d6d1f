import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alternativeErrorRate, baselineErrorRate, binomialCusumStep } from "./binomial-cusum.ts";
import { twoProportionTest, upperNormalTail } from "./two-proportion-test.ts";

// Fixed seeds: a failing property prints its counterexample, and the same seed reproduces it.
const runs = (seed: number, numRuns = 300) => ({ seed, numRuns });

/** A probability pair 0 < p0 < p1 < 1 with p0 in the range baselines live in. */
const ratePair = fc
  .tuple(fc.double({ min: 0.0005, max: 0.5, noNaN: true }), fc.double({ min: 1.05, max: 20, noNaN: true }))
  .map(([p0, factor]) => ({ p0, p1: Math.min(0.99, p0 * factor) }))
  .filter(({ p0, p1 }) => p1 > p0);

describe("binomialCusumStep", () => {
  it("matches hand-computed log-likelihood ratios", () => {
    // 5 errors in 100 spans, 1% against 4%: 5·ln 4 + 95·ln(0.96/0.99).
    expect(binomialCusumStep(0, 5, 100, 0.01, 0.04)).toBeCloseTo(
      5 * Math.log(4) + 95 * Math.log(0.96 / 0.99),
      12,
    );
    expect(binomialCusumStep(0, 5, 100, 0.01, 0.04)).toBeCloseTo(4.00816, 4);
    // A clean bucket pulls the sum down, floored at zero.
    expect(binomialCusumStep(5, 0, 100, 0.01, 0.04)).toBeCloseTo(5 + 100 * Math.log(0.96 / 0.99), 12);
    expect(binomialCusumStep(0, 0, 100, 0.01, 0.04)).toBe(0);
    // No traffic: no evidence either way.
    expect(binomialCusumStep(3.5, 0, 0, 0.01, 0.04)).toBe(3.5);
  });

  it("is non-negative and monotone in errors and in the previous sum", () => {
    fc.assert(
      fc.property(
        ratePair,
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        ({ p0, p1 }, previous, spans, share) => {
          const errors = Math.floor(share * spans);
          const value = binomialCusumStep(previous, errors, spans, p0, p1);
          expect(value).toBeGreaterThanOrEqual(0);
          if (errors < spans) {
            const more = binomialCusumStep(previous, errors + 1, spans, p0, p1);
            expect(more).toBeGreaterThanOrEqual(value);
            // Away from the floor, one more error weighs ln(p1/p0) − ln((1−p1)/(1−p0)).
            if (value > 0)
              expect(more - value).toBeCloseTo(Math.log(p1 / p0) - Math.log((1 - p1) / (1 - p0)), 9);
          }
          expect(binomialCusumStep(previous + 1, errors, spans, p0, p1)).toBeGreaterThanOrEqual(value);
        },
      ),
      runs(101),
    );
  });

  it("drifts down under the baseline (−KL(p0‖p1) per span) and up under the alternative (+KL(p1‖p0))", () => {
    fc.assert(
      fc.property(ratePair, fc.integer({ min: 1, max: 2000 }), ({ p0, p1 }, spans) => {
        // The expected increment from a large previous sum (no flooring) is linear in the error count.
        const big = 1e6;
        const increment = (errors: number) => binomialCusumStep(big, errors, spans, p0, p1) - big;
        const slope = increment(1) - increment(0);
        const expectedUnder = (rate: number) => increment(0) + slope * rate * spans;
        const kl = (a: number, b: number) => a * Math.log(a / b) + (1 - a) * Math.log((1 - a) / (1 - b));
        expect(expectedUnder(p0)).toBeLessThan(0);
        expect(expectedUnder(p1)).toBeGreaterThan(0);
        expect(expectedUnder(p0)).toBeCloseTo(-spans * kl(p0, p1), 3);
        expect(expectedUnder(p1)).toBeCloseTo(spans * kl(p1, p0), 3);
      }),
      runs(102),
    );
  });
});

describe("baselineErrorRate", () => {
  const options = { priorRate: 0.002, priorSpans: 500, floor: 0.0005 };

  it("falls back to the prior with no data and follows the data with a lot of it", () => {
    expect(baselineErrorRate(0, 0, options)).toBeCloseTo(0.002, 12);
    expect(baselineErrorRate(0, 0, { ...options, priorRate: 0 })).toBe(0.0005);
    expect(baselineErrorRate(100, 10_000, options)).toBeCloseTo((100 + 1) / 10_500, 12);
    expect(baselineErrorRate(1_000_000, 100_000_000, options)).toBeCloseTo(0.01, 5);
    // Capped at one half: a series failing half of the time has no meaningful "elevated" rate above it.
    expect(baselineErrorRate(900, 1000, options)).toBe(0.5);
  });

  it("stays within [floor, 0.5] and is monotone in errors", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (spans, share) => {
          const errors = Math.floor(share * spans);
          const rate = baselineErrorRate(errors, spans, options);
          expect(rate).toBeGreaterThanOrEqual(options.floor);
          expect(rate).toBeLessThanOrEqual(0.5);
          if (errors < spans) {
            expect(baselineErrorRate(errors + 1, spans, options)).toBeGreaterThanOrEqual(rate);
          }
        },
      ),
      runs(103),
    );
  });
});

describe("alternativeErrorRate", () => {
  it("is the larger of factor × p0 and p0 + lift, capped at 0.95", () => {
    expect(alternativeErrorRate(0.01, 4, 0.01)).toBeCloseTo(0.04, 12);
    expect(alternativeErrorRate(0.001, 4, 0.01)).toBeCloseTo(0.011, 12);
    expect(alternativeErrorRate(0.4, 4, 0.01)).toBe(0.95);
  });

  it("is always above the baseline it is an alternative to", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.0005, max: 0.5, noNaN: true }),
        fc.double({ min: 1.1, max: 10, noNaN: true }),
        fc.double({ min: 0.001, max: 0.1, noNaN: true }),
        (p0, factor, lift) => {
          const p1 = alternativeErrorRate(p0, factor, lift);
          expect(p1).toBeGreaterThan(p0);
          expect(p1).toBeLessThanOrEqual(0.95);
          expect(p1).toBeGreaterThanOrEqual(Math.min(0.95, p0 * factor) - 1e-15);
        },
      ),
      runs(104),
    );
  });
});

describe("upperNormalTail", () => {
  // Reference values: 0.5 · erfc(z / √2) (Python's math.erfc).
  it.each([
    [0, 0.5],
    [1, 0.15865525393145707],
    [1.6448536, 0.05],
    [1.959964, 0.025],
    [2.5758293, 0.005],
    [3.0902323, 0.001],
    [4, 3.1671241833119965e-5],
    [6, 9.865876450377012e-10],
    [7, 1.279812543885835e-12],
    [7.1, 6.23784446333164e-13],
    [8, 6.220960574271819e-16],
    [10, 7.619853024160593e-24],
  ])("P(Z > %d) ≈ %d", (z, expected) => {
    const value = upperNormalTail(z);
    // Absolute error < 1.5e-7 in the body; within a few percent of the value far in the tail.
    expect(Math.abs(value - expected)).toBeLessThan(Math.max(2e-7, 0.03 * expected));
    if (z >= 6) expect(Math.abs(value / expected - 1)).toBeLessThan(0.03);
    expect(upperNormalTail(-z)).toBeCloseTo(1 - expected, 6);
  });

  it("is monotone non-increasing in z, including where the tail switches to the asymptotic form", () => {
    let previous = upperNormalTail(-12);
    for (let z = -12; z <= 40; z += 0.0005) {
      const value = upperNormalTail(z);
      if (value > previous) throw new Error(`P(Z > ${z}) = ${value} > ${previous} just below it`);
      previous = value;
    }
    fc.assert(
      fc.property(
        fc.double({ min: -40, max: 40, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (z, delta) => {
          expect(upperNormalTail(z + delta)).toBeLessThanOrEqual(upperNormalTail(z));
        },
      ),
      runs(105, 2000),
    );
  });

  it("is symmetric: P(Z > −z) = 1 − P(Z > z), and within [0, 1]", () => {
    fc.assert(
      fc.property(fc.double({ min: -60, max: 60, noNaN: true }), (z) => {
        const value = upperNormalTail(z);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
        // Exact away from 0; at 0 both sides carry the approximation's 1e-9 error.
        expect(upperNormalTail(-z)).toBeCloseTo(1 - value, 8);
        if (Math.abs(z) > 1e-6) expect(upperNormalTail(-z)).toBeCloseTo(1 - value, 14);
      }),
      runs(106),
    );
  });
});

describe("twoProportionTest", () => {
  it("matches a hand-computed pooled z with continuity correction", () => {
    // 30/100 vs 10/100: pooled 0.2, se √(0.16 · 0.02), correction 0.01 → z = 0.19 / 0.0565685.
    const test = twoProportionTest(30, 100, 10, 100);
    expect(test.rateA).toBe(0.3);
    expect(test.rateB).toBe(0.1);
    expect(test.z).toBeCloseTo(0.19 / Math.sqrt(0.0032), 10);
    expect(test.pValue).toBeCloseTo(0.5 * 0.000782887, 6);
    expect(test.ratio).toBeCloseTo(30.5 / 101 / (10.5 / 101), 12);
  });

  it("gives no evidence from an empty group or equal rates", () => {
    expect(twoProportionTest(5, 0, 10, 100)).toMatchObject({ z: 0, pValue: 1 });
    expect(twoProportionTest(5, 100, 0, 0)).toMatchObject({ z: 0, pValue: 1 });
    expect(twoProportionTest(0, 100, 0, 100)).toMatchObject({ z: 0, pValue: 1 });
    const equal = twoProportionTest(10, 1000, 10, 1000);
    expect(equal.z).toBe(0);
    expect(equal.pValue).toBeCloseTo(0.5, 8);
  });

  const group = fc
    .tuple(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([spans, share]) => ({ spans, errors: Math.floor(share * spans) }));

  it("is antisymmetric in its groups", () => {
    fc.assert(
      fc.property(group, group, (a, b) => {
        const ab = twoProportionTest(a.errors, a.spans, b.errors, b.spans);
        const ba = twoProportionTest(b.errors, b.spans, a.errors, a.spans);
        expect(ba.z).toBeCloseTo(-ab.z, 9);
        expect(ba.rateA).toBe(ab.rateB);
        expect(ba.ratio * ab.ratio).toBeCloseTo(1, 9);
        // Degenerate groups (no spread) give p = 1 on both sides; otherwise the one-sided p-values add to 1.
        const pooled = (a.errors + b.errors) / (a.spans + b.spans);
        expect(ba.pValue + ab.pValue).toBeCloseTo(pooled === 0 || pooled === 1 ? 2 : 1, 8);
      }),
      runs(107),
    );
  });

  it("has a p-value that falls as z rises, and z that rises with A's errors", () => {
    fc.assert(
      fc.property(group, group, group, (a, b, c) => {
        // Where the pooled rate is 0 or 1 there is no spread and the test answers z = 0, p = 1 by
        // convention; the monotonicity is about informative comparisons.
        const informative = (x: { errors: number; spans: number }) => {
          const pooled = (x.errors + b.errors) / (x.spans + b.spans);
          return pooled > 0 && pooled < 1;
        };
        fc.pre(informative(a) && informative(c) && informative({ errors: a.errors + 1, spans: a.spans }));
        const first = twoProportionTest(a.errors, a.spans, b.errors, b.spans);
        const second = twoProportionTest(c.errors, c.spans, b.errors, b.spans);
        if (first.z < second.z) expect(second.pValue).toBeLessThanOrEqual(first.pValue);
        expect(first.pValue).toBeGreaterThanOrEqual(0);
        expect(first.pValue).toBeLessThanOrEqual(1);
        if (a.errors < a.spans) {
          const more = twoProportionTest(a.errors + 1, a.spans, b.errors, b.spans);
          expect(more.z).toBeGreaterThanOrEqual(first.z);
          expect(more.pValue).toBeLessThanOrEqual(first.pValue);
        }
      }),
      runs(108, 1000),
    );
  });

  it("gives a tiny p-value for a 1-in-12 canary failing at 30% (as attribution sees it)", () => {
    // 15 minutes of 100 spans/s: 1/12 of them on the canary, errors 30% there and 0.5% elsewhere.
    const canarySpans = 7_500;
    const otherSpans = 82_500;
    const test = twoProportionTest(0.3 * canarySpans, canarySpans, 0.005 * otherSpans, otherSpans);
    expect(test.pValue).toBeLessThan(1e-9);
    expect(test.ratio).toBeGreaterThan(50);
  });
});
