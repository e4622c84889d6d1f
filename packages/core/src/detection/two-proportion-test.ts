/** Result of comparing the error rates of two groups (e.g. instances on a new version vs the old one). */
export interface TwoProportionTest {
  rateA: number;
  rateB: number;
  /** rateA / rateB with half an error added to each side, so a zero never divides. */
  ratio: number;
  /** Two-sided z statistic of the pooled two-proportion test; positive when A fails more often. */
  z: number;
  /** One-sided p-value that A's rate is not above B's. */
  pValue: number;
}

/**
 * Two-proportion z-test of `errorsA / spansA` against `errorsB / spansB`. Counts of zero spans give
 * rates of 0 and a p-value of 1. Used where both groups are large (hundreds of spans); the continuity
 * correction keeps small counts conservative.
 */
export function twoProportionTest(
  errorsA: number,
  spansA: number,
  errorsB: number,
  spansB: number,
): TwoProportionTest {
  const rateA = spansA > 0 ? errorsA / spansA : 0;
  const rateB = spansB > 0 ? errorsB / spansB : 0;
  const ratio = (errorsA + 0.5) / (spansA + 1) / ((errorsB + 0.5) / (spansB + 1));
  if (spansA === 0 || spansB === 0) return { rateA, rateB, ratio, z: 0, pValue: 1 };
  const pooled = (errorsA + errorsB) / (spansA + spansB);
  const variance = pooled * (1 - pooled) * (1 / spansA + 1 / spansB);
  if (variance <= 0) return { rateA, rateB, ratio, z: 0, pValue: 1 };
  const correction = 0.5 * (1 / spansA + 1 / spansB);
  const difference = rateA - rateB;
  const z = (Math.sign(difference) * Math.max(0, Math.abs(difference) - correction)) / Math.sqrt(variance);
  return { rateA, rateB, ratio, z, pValue: upperNormalTail(z) };
}

/** P(Z > z) for a standard normal Z (Abramowitz–Stegun 7.1.26 on erfc; absolute error < 1.5e-7). */
export function upperNormalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  // Far in the tail the approximation's relative error grows; an asymptotic form keeps tiny p-values honest.
  // Two terms of it (φ(z)/z · (1 − 1/z²), z² = 2x²): one term alone overshoots by ~2% at the switch and
  // made the p-value jump up there, i.e. not monotone in z.
  const tail = x > 5 ? ((Math.exp(-x * x) / (x * Math.sqrt(Math.PI))) * (1 - 1 / (2 * x * x))) / 2 : erfc / 2;
  return z >= 0 ? tail : 1 - tail;
}

/** Counts of two groups within one stratum (one time bucket). */
export interface RateStratum {
  errorsA: number;
  spansA: number;
  errorsB: number;
  spansB: number;
}

/**
 * Cochran–Mantel–Haenszel comparison of group A's error rate with group B's, stratified by time bucket:
 * each bucket compares A and B only with each other, so a rate that drifts over time (an outage ramping
 * up while a rollout progresses) cannot make the group that happens to run later look worse. `ratio` is
 * the Mantel–Haenszel rate ratio; `z`/`pValue` test A > B with a continuity correction.
 */
export function stratifiedRateTest(strata: readonly RateStratum[]): TwoProportionTest {
  let observed = 0;
  let expected = 0;
  let variance = 0;
  let numerator = 0;
  let denominator = 0;
  let errorsA = 0;
  let spansA = 0;
  let errorsB = 0;
  let spansB = 0;
  for (const stratum of strata) {
    errorsA += stratum.errorsA;
    spansA += stratum.spansA;
    errorsB += stratum.errorsB;
    spansB += stratum.spansB;
    const total = stratum.spansA + stratum.spansB;
    if (stratum.spansA === 0 || stratum.spansB === 0 || total < 2) continue;
    const totalErrors = stratum.errorsA + stratum.errorsB;
    observed += stratum.errorsA;
    expected += (stratum.spansA * totalErrors) / total;
    variance +=
      (stratum.spansA * stratum.spansB * totalErrors * (total - totalErrors)) / (total * total * (total - 1));
    numerator += (stratum.errorsA * stratum.spansB) / total;
    denominator += (stratum.errorsB * stratum.spansA) / total;
  }
  const rateA = spansA > 0 ? errorsA / spansA : 0;
  const rateB = spansB > 0 ? errorsB / spansB : 0;
  const ratio = (numerator + 0.5) / (denominator + 0.5);
  if (variance <= 0) return { rateA, rateB, ratio, z: 0, pValue: 1 };
  const difference = observed - expected;
  const z = (Math.sign(difference) * Math.max(0, Math.abs(difference) - 0.5)) / Math.sqrt(variance);
  return { rateA, rateB, ratio, z, pValue: upperNormalTail(z) };
}
