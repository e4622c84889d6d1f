import { addLatencyBinsInto } from "../merge-latency-bins.ts";
import { quantileFromLatencyBins } from "../quantile-from-latency-bins.ts";
import type { SketchBins } from "../sketch-bins.ts";
import type { ServiceTraffic } from "./postmortem-types.ts";

/** Stored series as the chart snapshot reads them (structurally what storage returns). */
export interface SnapshotSeriesInput {
  service: string;
  spanKind: string;
  points: { bucketStartMs: number; spans: number; errors: number; latencyBins: SketchBins }[];
}

export interface ChartSnapshotPoint {
  t: number;
  requests: number;
  errors: number;
  p95Ms: number | null;
}

/** A chart frozen at writing time: per-service request, error and p95 series plus markers. */
export interface ChartSnapshotData {
  stepSeconds: number;
  fromMs: number;
  toMs: number;
  series: { service: string; points: ChartSnapshotPoint[] }[];
  markers: { atMs: number; label: string }[];
}

/** Span kinds that are a service's requests: work it was asked to do, not calls it made. */
const entryKinds = new Set(["server", "consumer", "browser"]);

/**
 * Freezes an incident's series into chart data: for each service, per bucket, its requests (entry spans:
 * server, consumer and browser; every span when the service has none of those), errors among them and
 * p95 latency merged from the sketches. Buckets with no data are left out, services keep the given order.
 */
export function buildChartSnapshot(input: {
  services: readonly string[];
  series: readonly SnapshotSeriesInput[];
  stepSeconds: number;
  fromMs: number;
  toMs: number;
  markers: readonly { atMs: number; label: string }[];
}): ChartSnapshotData {
  const series = input.services.map((service) => {
    const own = input.series.filter((one) => one.service === service);
    const entries = own.some((one) => entryKinds.has(one.spanKind))
      ? own.filter((one) => entryKinds.has(one.spanKind))
      : own;
    const buckets = new Map<number, { requests: number; errors: number; bins: SketchBins }>();
    for (const one of entries) {
      for (const point of one.points) {
        if (point.bucketStartMs < input.fromMs || point.bucketStartMs >= input.toMs) continue;
        const bucket = buckets.get(point.bucketStartMs) ?? { requests: 0, errors: 0, bins: {} };
        bucket.requests += point.spans;
        bucket.errors += point.errors;
        addLatencyBinsInto(bucket.bins, point.latencyBins);
        buckets.set(point.bucketStartMs, bucket);
      }
    }
    const points = [...buckets]
      .sort(([a], [b]) => a - b)
      .map(([t, bucket]) => {
        const p95 = quantileFromLatencyBins(bucket.bins, 0.95);
        return {
          t,
          requests: bucket.requests,
          errors: bucket.errors,
          p95Ms: p95 === null ? null : Math.round(p95 * 10) / 10,
        };
      });
    return { service, points };
  });
  return {
    stepSeconds: input.stepSeconds,
    fromMs: input.fromMs,
    toMs: input.toMs,
    series,
    markers: [...input.markers].sort((a, b) => a.atMs - b.atMs),
  };
}

/** Requests and failures per service of a snapshot within [fromMs, toMs): the draft's impact numbers. */
export function trafficOfSnapshot(
  snapshot: ChartSnapshotData,
  fromMs: number,
  toMs: number,
): ServiceTraffic[] {
  return snapshot.series.map((one) => {
    let requests = 0;
    let failed = 0;
    for (const point of one.points) {
      // A bucket counts when it overlaps the window: the incident rarely starts on a bucket boundary.
      if (point.t + snapshot.stepSeconds * 1000 <= fromMs || point.t >= toMs) continue;
      requests += point.requests;
      failed += point.errors;
    }
    return { service: one.service, requests, failed };
  });
}
