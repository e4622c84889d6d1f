/**
 * Whether a service's error rate follows another service's rollout, bucket by bucket.
 *
 * A change can break a service it does not run on: a producer's new message schema fails its
 * consumers, a client's new request shape fails the server it calls. The changed service stays healthy
 * (consumers never fail their producer), so comparing its own versions clears it. What gives it away
 * is shape: while its new version rolls out instance by instance, the failing service's error rate
 * rises with the new version's share of the changed service's traffic, not in one step.
 *
 * The test fits the failing service's errors per bucket as binomial with p = a + b·share and compares
 * that fit with the best single step anywhere in the window (a fault starting at some moment, which is
 * how an unrelated cause looks). Log-likelihoods, so the margin is in units of evidence.
 */

/** One bucket: the failing service's spans and errors, and the new version's share of the changed service. */
export interface TrackingBucket {
  spans: number;
  errors: number;
  /** New-version spans / all spans of the changed service in the bucket; null when it had none. */
  share: number | null;
}

/** A fit of the failing service's rate (error rate, or spans per bucket) as a + b·share. */
export interface RolloutFit {
  /**
   * Log-likelihood gain of a + b·share over the best single step or linear ramp in time (≥ 0 favours
   * the rollout: the rate follows the instances switching, not the clock).
   */
  gainOverStep: number;
  /** Log-likelihood gain of a + b·share over a constant rate. */
  gainOverConstant: number;
  /** The fitted rate at share 0 and share 1. */
  rateAtOld: number;
  rateAtNew: number;
  /** Buckets in which the rollout was partial (share strictly between 5 % and 95 %). */
  partialBuckets: number;
  /** Smallest and largest share in the window. */
  shareRange: [number, number];
}

/** The share part of a fit: how much of the window the rollout was under way, and its range. */
function shareSpread(shares: readonly number[]): Pick<RolloutFit, "partialBuckets" | "shareRange"> {
  return {
    partialBuckets: shares.filter((value) => value > 0.05 && value < 0.95).length,
    shareRange: [Math.min(...shares), Math.max(...shares)],
  };
}

const epsilon = 1e-6;

/**
 * Fits the buckets (in time order) as above. Null when there is too little to judge: fewer than
 * `minSpans` spans, or no bucket with both spans and a share.
 */
export function fitRolloutTracking(buckets: readonly TrackingBucket[], minSpans = 300): RolloutFit | null {
  const used = buckets.filter(
    (bucket): bucket is TrackingBucket & { share: number } => bucket.spans > 0 && bucket.share !== null,
  );
  const spans = used.reduce((sum, bucket) => sum + bucket.spans, 0);
  if (used.length < 3 || spans < minSpans) return null;
  const errors = used.reduce((sum, bucket) => sum + bucket.errors, 0);
  const constant = logLikelihood(used, () => errors / spans);
  const shareLine = weightedLine(used, (bucket) => bucket.share);
  const share = logLikelihood(used, (bucket) => shareLine.a + shareLine.b * bucket.share);
  // The best single step: rates before and after it are each group's own rate (what the fit of a 0/1
  // regressor gives), so every split point costs O(1) with running totals.
  let bestStep = constant;
  let spansBefore = 0;
  let errorsBefore = 0;
  for (let at = 1; at < used.length; at++) {
    const previous = used[at - 1] as TrackingBucket;
    spansBefore += previous.spans;
    errorsBefore += previous.errors;
    const stepLikelihood =
      groupLikelihood(errorsBefore, spansBefore) +
      groupLikelihood(errors - errorsBefore, spans - spansBefore);
    bestStep = Math.max(bestStep, stepLikelihood);
  }
  const bestRamp = bestRampLikelihood(used.length, (x) => {
    const line = weightedLine(used, (_, index) => x(index));
    return logLikelihood(used, (_, index) => line.a + line.b * x(index));
  });
  return {
    gainOverStep: share - Math.max(bestStep, bestRamp),
    gainOverConstant: share - constant,
    rateAtOld: clamp(shareLine.a),
    rateAtNew: clamp(shareLine.a + shareLine.b),
    ...shareSpread(used.map((bucket) => bucket.share)),
  };
}

/** One bucket of a throughput fit: the failing service's spans, and the changed service's new-version share. */
export interface TrackingCount {
  spans: number;
  share: number | null;
}

/**
 * The throughput form of {@link fitRolloutTracking}: the failing service's spans per bucket as Poisson
 * with mean λ = a + b·share, against the best single step and a constant. A consumer starving while a
 * producer's new version loses its messages: its rate falls with the new version's share.
 */
export function fitRolloutRate(buckets: readonly TrackingCount[], minBuckets = 12): RolloutFit | null {
  const used = buckets.filter((bucket): bucket is TrackingCount & { share: number } => bucket.share !== null);
  if (used.length < minBuckets) return null;
  const total = used.reduce((sum, bucket) => sum + bucket.spans, 0);
  if (total === 0) return null;
  const poisson = (spans: number, mean: number) => {
    const lambda = Math.max(epsilon, mean);
    return spans * Math.log(lambda) - lambda;
  };
  const constant = used.reduce((sum, bucket) => sum + poisson(bucket.spans, total / used.length), 0);
  // Unweighted least squares of the counts: each bucket as one "span" whose "errors" are its count.
  const counts = used.map((bucket) => ({ spans: 1, errors: bucket.spans, share: bucket.share }));
  const line = weightedLine(counts, (bucket) => bucket.share);
  const share = used.reduce((sum, bucket) => sum + poisson(bucket.spans, line.a + line.b * bucket.share), 0);
  // A group at its own mean: Σ y·ln(mean) − n·mean, from the group's total alone.
  const group = (sum: number, count: number) => sum * Math.log(Math.max(epsilon, sum / count)) - sum;
  let bestStep = constant;
  let before = 0;
  for (let at = 1; at < used.length; at++) {
    before += (used[at - 1] as TrackingCount).spans;
    bestStep = Math.max(bestStep, group(before, at) + group(total - before, used.length - at));
  }
  const bestRamp = bestRampLikelihood(used.length, (x) => {
    const ramp = weightedLine(counts, (_, index) => x(index));
    let likelihood = 0;
    for (let index = 0; index < used.length; index++)
      likelihood += poisson((used[index] as TrackingCount).spans, ramp.a + ramp.b * x(index));
    return likelihood;
  });
  return {
    gainOverStep: share - Math.max(bestStep, bestRamp),
    gainOverConstant: share - constant,
    rateAtOld: Math.max(0, line.a),
    rateAtNew: Math.max(0, line.a + line.b),
    ...shareSpread(used.map((bucket) => bucket.share)),
  };
}

/** Ramp lengths tried, in buckets (1 to 15 minutes of 10 s buckets), and the stride of their starts. */
const rampLengths = [6, 12, 18, 24, 36, 48, 60, 90];
const rampStartStride = 2;

/**
 * The best linear ramp in time: a fault that grows in over some minutes (a store degrading, a queue
 * filling) looks like a rollout's share rising at the same time, but follows the clock, not the
 * instances switching. `likelihood(x)` fits the rate as a + b·x(index) and returns its log-likelihood;
 * x goes from 0 to 1 over each ramp tried.
 */
function bestRampLikelihood(count: number, likelihood: (x: (index: number) => number) => number): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const length of rampLengths) {
    for (let start = 0; start < count - 1; start += rampStartStride) {
      best = Math.max(
        best,
        likelihood((index) => Math.min(1, Math.max(0, (index - start) / length))),
      );
    }
  }
  return best;
}

/** Least squares of the error rate on x, each bucket weighted by its spans. */
function weightedLine<T extends TrackingBucket>(
  buckets: readonly T[],
  x: (bucket: T, index: number) => number,
): { a: number; b: number } {
  let weight = 0;
  let sumX = 0;
  let sumY = 0;
  for (let index = 0; index < buckets.length; index++) {
    const bucket = buckets[index] as T;
    weight += bucket.spans;
    sumX += bucket.spans * x(bucket, index);
    sumY += bucket.errors;
  }
  const meanX = sumX / weight;
  const meanY = sumY / weight;
  let sxx = 0;
  let sxy = 0;
  for (let index = 0; index < buckets.length; index++) {
    const bucket = buckets[index] as T;
    const dx = x(bucket, index) - meanX;
    sxx += bucket.spans * dx * dx;
    sxy += dx * (bucket.errors - bucket.spans * meanY);
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: meanY - b * meanX, b };
}

function logLikelihood<T extends TrackingBucket>(
  buckets: readonly T[],
  rate: (bucket: T, index: number) => number,
): number {
  let total = 0;
  for (let index = 0; index < buckets.length; index++) {
    const bucket = buckets[index] as T;
    const p = clamp(rate(bucket, index));
    total += bucket.errors * Math.log(p) + (bucket.spans - bucket.errors) * Math.log(1 - p);
  }
  return total;
}

/** Log-likelihood of a group of spans at its own error rate. */
function groupLikelihood(errors: number, spans: number): number {
  const p = clamp(errors / spans);
  return errors * Math.log(p) + (spans - errors) * Math.log(1 - p);
}

function clamp(p: number): number {
  return Math.min(1 - epsilon, Math.max(epsilon, p));
}
