/** Tunables of detection and attribution. Defaults aim at about one false alarm per series per day. */
export interface DetectionConfig {
  /** Width of the buckets detection runs on, ms (the raw aggregation width). */
  stepMs: number;
  /** How long after a bucket ends data may still arrive for it before detection closes it, ms. */
  allowedLatenessMs: number;
  /** Buckets in the trailing baseline (default 180 = 30 minutes of 10 s buckets). */
  baselineBuckets: number;
  /** A series is judged only after this much history (ms) and this many baseline spans. */
  warmupMs: number;
  minBaselineSpans: number;
  /** CUSUM alarm threshold in nats; e^h ≈ buckets between false alarms under the baseline. */
  cusumThreshold: number;
  /** The alternative rate is `max(baseline × factor, baseline + minLift)`. */
  alternativeFactor: number;
  alternativeMinLift: number;
  /** Errors that must have accumulated in the CUSUM run before it may alarm (low-count guard). */
  minAlarmErrors: number;
  /** A signal has recovered after this many consecutive normal buckets. */
  recoveryBuckets: number;
  /** Throughput: a bucket is low below this share of the baseline mean; alarm after `dropBuckets` low ones. */
  dropFactor: number;
  dropBuckets: number;
  /** Throughput is judged only where the baseline mean is at least this many spans per bucket. */
  minDropBaselineSpans: number;
  /**
   * Below `minDropBaselineSpans`, down to this baseline mean, throughput is judged on whole runs of quiet
   * buckets instead of bucket by bucket (a Poisson tail test on the run's total).
   */
  minRunDropBaselineSpans: number;
  /**
   * A blackout: no bucket closed for at least this long (the telemetry pipeline was down, or a replay
   * jumped ahead in event time). A signal silent since before it is not judged for throughput until it
   * reports again: nobody saw when it stopped, and at the next scenario or after an outage of the
   * pipeline every service that did not come back would otherwise look collapsed at once.
   */
  telemetryGapMs: number;
  /** Latency: p95 above `latencyFactor` × baseline and baseline + `latencyMinLiftMs` for `latencyBuckets`. */
  latencyFactor: number;
  latencyMinLiftMs: number;
  latencyBuckets: number;
  minLatencySpans: number;
  /** A failure on the same service within this long after an incident ended reopens it, ms. */
  reopenWindowMs: number;
  /** Changes started up to this long before onset are suspects, ms. */
  attributionLookbackMs: number;
  /** Time-decay constant of a suspect's score, ms. */
  attributionDecayMs: number;
  /** A suspect becomes the cause only with at least this score and this margin over the runner-up. */
  causeThreshold: number;
  causeMargin: number;
}

export const defaultDetectionConfig: DetectionConfig = {
  stepMs: 10_000,
  allowedLatenessMs: 20_000,
  baselineBuckets: 180,
  warmupMs: 180_000,
  minBaselineSpans: 150,
  cusumThreshold: 9,
  alternativeFactor: 4,
  alternativeMinLift: 0.01,
  minAlarmErrors: 5,
  recoveryBuckets: 18,
  dropFactor: 0.25,
  dropBuckets: 3,
  minDropBaselineSpans: 20,
  minRunDropBaselineSpans: 2,
  telemetryGapMs: 5 * 60_000,
  latencyFactor: 3,
  latencyMinLiftMs: 100,
  latencyBuckets: 3,
  minLatencySpans: 20,
  reopenWindowMs: 5 * 60_000,
  attributionLookbackMs: 2 * 3_600_000,
  attributionDecayMs: 10 * 60_000,
  causeThreshold: 0.5,
  causeMargin: 0.15,
};
