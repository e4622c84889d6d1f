import { downsampleLttb, quantileFromLatencyBins } from "@faultline/core";
import type { SketchBins, StoredSeries } from "@faultline/db";
import { maxChartPoints } from "./time-ranges.ts";

/** One chart point: a bucket's request rate (per second), error rate (0..1) and p95 latency (ms). */
export interface SignalPoint {
  t: number;
  requestsPerSecond: number;
  errorRate: number | null;
  p95Ms: number | null;
}

const entryKinds = new Set(["server", "consumer", "browser"]);

/**
 * Folds one service's series into per-bucket signals over its entry spans (server, consumer, browser:
 * the requests and messages it handled), or over all its spans when it has no entry spans at all,
 * then thins them to at most `maxChartPoints` with LTTB on the error rate (spikes are what matter).
 */
export function signalPointsOf(series: readonly StoredSeries[], stepSeconds: number): SignalPoint[] {
  const entries = series.filter((one) => entryKinds.has(one.spanKind));
  const chosen = entries.length > 0 ? entries : series;
  const byTime = new Map<number, { spans: number; errors: number; bins: SketchBins }>();
  for (const one of chosen) {
    for (const point of one.points) {
      let bucket = byTime.get(point.bucketStartMs);
      if (!bucket) {
        bucket = { spans: 0, errors: 0, bins: {} };
        byTime.set(point.bucketStartMs, bucket);
      }
      bucket.spans += point.spans;
      bucket.errors += point.errors;
      for (const [bin, count] of Object.entries(point.latencyBins))
        bucket.bins[bin] = (bucket.bins[bin] ?? 0) + count;
    }
  }
  const points = [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, bucket]) => ({
      t,
      requestsPerSecond: round(bucket.spans / stepSeconds, 3),
      errorRate: bucket.spans > 0 ? round(bucket.errors / bucket.spans, 5) : null,
      p95Ms: roundOrNull(quantileFromLatencyBins(bucket.bins, 0.95), 2),
    }));
  return downsampleLttb(
    points,
    maxChartPoints,
    (point) => point.t,
    (point) => point.errorRate,
  );
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundOrNull(value: number | null, digits: number): number | null {
  return value === null ? null : round(value, digits);
}

/** A sparkline on a regular grid: value `i` covers [startMs + i·stepMs, startMs + (i+1)·stepMs). */
export interface GridSparkline {
  startMs: number;
  stepMs: number;
  /** Null where the range held no spans. */
  values: (number | null)[];
}

/**
 * Error rates on a regular grid of at most `maxPoints` cells from `fromMs` to `toMs`: each cell sums the
 * errors and totals of the buckets it covers, so a cell's rate is exact rather than one sampled bucket.
 * Values only (times follow from the grid): a board of hundreds of rows sends a few numbers a row,
 * where {t, value} pairs made the board's payload 300 KB at 200 services.
 */
export function errorRateGrid(
  buckets: readonly { bucketStartMs: number; total: number; errors: number }[],
  window: { fromMs: number; toMs: number; stepSeconds: number },
  maxPoints: number,
): GridSparkline {
  const bucketMs = window.stepSeconds * 1000;
  const bucketCount = Math.max(1, Math.ceil((window.toMs - window.fromMs) / bucketMs));
  const stepMs = Math.ceil(bucketCount / maxPoints) * bucketMs;
  const cells = Math.ceil((window.toMs - window.fromMs) / stepMs);
  const totals = new Array<number>(cells).fill(0);
  const errors = new Array<number>(cells).fill(0);
  for (const bucket of buckets) {
    const cell = Math.floor((bucket.bucketStartMs - window.fromMs) / stepMs);
    if (cell < 0 || cell >= cells) continue;
    totals[cell] = (totals[cell] as number) + bucket.total;
    errors[cell] = (errors[cell] as number) + bucket.errors;
  }
  return {
    startMs: window.fromMs,
    stepMs,
    values: totals.map((total, cell) => (total > 0 ? round((errors[cell] as number) / total, 4) : null)),
  };
}
