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
  const tail = x > 5 ? Math.exp(-x * x) / (x * Math.sqrt(Math.PI)) / 2 : erfc / 2;
  return z >= 0 ? tail : 1 - tail;
}
