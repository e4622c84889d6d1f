/**
 * One step of a binomial log-likelihood-ratio CUSUM: the evidence that `errors` out of `spans` came
 * from the elevated rate `p1` rather than the baseline `p0` (0 < p0 < p1 < 1), added to `previous` and
 * floored at 0. The sum crosses a threshold h after a step to p1 within about h / KL(p1‖p0) spans, and
 * under the baseline it reaches h about once every e^h steps — which is what sets the false-alarm rate.
 */
export function binomialCusumStep(
  previous: number,
  errors: number,
  spans: number,
  p0: number,
  p1: number,
): number {
  if (spans <= 0) return previous;
  const errorWeight = Math.log(p1 / p0);
  const successWeight = Math.log((1 - p1) / (1 - p0));
  return Math.max(0, previous + errors * errorWeight + (spans - errors) * successWeight);
}

/**
 * Baseline error rate from trailing counts, shrunk towards `priorRate` with the weight of `priorSpans`
 * spans, so a quiet series (no errors yet) does not get a baseline of exactly zero, and floored at
 * `floor`.
 */
export function baselineErrorRate(
  errors: number,
  spans: number,
  options: { priorRate: number; priorSpans: number; floor: number },
): number {
  const rate = (errors + options.priorRate * options.priorSpans) / (spans + options.priorSpans);
  return Math.min(0.5, Math.max(options.floor, rate));
}

/** The elevated rate the CUSUM looks for: several times the baseline, and at least `minLift` above it. */
export function alternativeErrorRate(p0: number, factor: number, minLift: number): number {
  return Math.min(0.95, Math.max(p0 * factor, p0 + minLift));
}
