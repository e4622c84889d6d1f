import { describe, expect, it } from "vitest";
import { defaultDetectionConfig } from "./detection-config.ts";
import type { ChangeCandidate } from "./detection-types.ts";
import { type IncidentEvidence, rankSuspects } from "./rank-suspects.ts";
import { fitRolloutRate, fitRolloutTracking, type TrackingBucket } from "./rollout-tracking.ts";

const step = defaultDetectionConfig.stepMs;
const minute = 60_000;
const onset = Date.UTC(2026, 0, 5, 12);

/** 18 minutes of 10 s buckets from 3 minutes before onset; `share(t)` and `rate(t)` by time. */
function bucketsOf(share: (t: number) => number | null, rate: (t: number) => number): TrackingBucket[] {
  return Array.from({ length: 108 }, (_, index) => {
    const t = onset - 3 * minute + index * step;
    return { spans: 80, errors: Math.round(80 * rate(t)), share: share(t) };
  });
}

/** A rollout over `minutes` from `startMs`: the new version's share of traffic, in instance steps. */
const rollout =
  (startMs: number, minutes: number, instances = 6) =>
  (t: number): number => {
    if (t < startMs) return 0;
    if (minutes === 0) return 1;
    const switched = 1 + Math.floor(((t - startMs) / (minutes * minute)) * (instances - 1));
    return Math.min(1, switched / instances);
  };

describe("fitRolloutTracking", () => {
  it("finds errors that rise with a rollout's share far better explained by it than by any step or ramp", () => {
    const share = rollout(onset, 6);
    const fit = fitRolloutTracking(bucketsOf(share, (t) => 0.001 + 0.9 * share(t)));
    expect(fit?.gainOverStep).toBeGreaterThan(20);
    expect(fit?.rateAtNew).toBeCloseTo(0.9, 1);
    expect(fit?.rateAtOld).toBeLessThan(0.01);
    expect(fit?.partialBuckets).toBeGreaterThanOrEqual(30);
  });

  it("prefers a step when the errors jump at once, even beside a rollout under way at onset", () => {
    const share = rollout(onset, 2);
    const fit = fitRolloutTracking(bucketsOf(share, (t) => (t >= onset + 30_000 ? 0.4 : 0.001)));
    expect(fit?.gainOverStep).toBeLessThan(10);
  });

  it("prefers a ramp in time when the errors grow in with the clock while a rollout runs beside them", () => {
    // A store degrading over six minutes from onset, and an innocent six-instance rollout at the same time.
    const grows = (t: number) => Math.min(1, Math.max(0, (t - onset) / (6 * minute)));
    const fit = fitRolloutTracking(bucketsOf(rollout(onset, 6), (t) => 0.001 + 0.9 * grows(t)));
    expect(fit?.gainOverStep).toBeLessThan(10);
  });

  it("gains nothing from a share that does not move, and declines to judge too little traffic", () => {
    const flat = fitRolloutTracking(
      bucketsOf(
        () => 0.5,
        (t) => (t >= onset ? 0.3 : 0.001),
      ),
    );
    expect(flat?.gainOverStep).toBeLessThanOrEqual(0);
    expect(fitRolloutTracking(bucketsOf(rollout(onset, 6), () => 0.1).slice(0, 3))).toBeNull();
  });
});

describe("fitRolloutRate", () => {
  const counts = (share: (t: number) => number, rate: (t: number) => number) =>
    Array.from({ length: 60 }, (_, index) => {
      const t = onset - 3 * minute + index * step;
      return { spans: Math.round(rate(t)), share: share(t) };
    });

  it("finds a consumer starving as a producer's new version (which loses its messages) takes over", () => {
    const share = rollout(onset, 5, 5);
    const fit = fitRolloutRate(counts(share, (t) => 200 * (1 - share(t))));
    expect(fit?.gainOverStep).toBeGreaterThan(50);
    expect(fit?.rateAtOld).toBeCloseTo(200, -1);
    expect(fit?.rateAtNew).toBeLessThan(20);
  });

  it("prefers a ramp in time when a consumer's rate falls with the clock while a producer rolls out", () => {
    const falls = (t: number) => Math.min(1, Math.max(0, (t - onset) / (6 * minute)));
    const fit = fitRolloutRate(counts(rollout(onset, 6, 6), (t) => 200 * (1 - 0.95 * falls(t))));
    expect(fit?.gainOverStep).toBeLessThan(10);
  });

  it("prefers a step when the rate collapses at once beside a rollout", () => {
    const fit = fitRolloutRate(counts(rollout(onset, 5, 5), (t) => (t >= onset + 2 * minute ? 10 : 200)));
    expect(fit?.gainOverStep).toBeLessThan(10);
  });
});

/**
 * A consumer (the root) fails on messages from the producer's new version, which rolls out over six
 * minutes from onset. The consumer itself got a deploy six minutes earlier that ran clean, and a
 * service it calls got a two-minute deploy at onset.
 */
function schemaBreakWorld(consumerRate: (t: number) => number) {
  const producerShare = rollout(onset, 6);
  const calleeShare = rollout(onset, 2);
  const consumerShare = rollout(onset - 6 * minute, 0);
  const perBucket = (from: number, to: number) => {
    const times: number[] = [];
    for (let t = Math.ceil(from / step) * step; t < to; t += step) times.push(t);
    return times;
  };
  const traffic: Record<string, (t: number) => Map<string, { spans: number; errors: number }>> = {
    consumer: (t) => {
      const errors = Math.round(80 * consumerRate(t));
      return consumerShare(t) === 1
        ? new Map([["2.3.0", { spans: 80, errors }]])
        : new Map([["2.2.5", { spans: 80, errors }]]);
    },
    producer: (t) =>
      new Map([
        ["6.8.2", { spans: Math.round(500 * (1 - producerShare(t))), errors: 0 }],
        ["6.9.0", { spans: Math.round(500 * producerShare(t)), errors: 0 }],
      ]),
    callee: (t) =>
      new Map([
        ["11.0.1", { spans: Math.round(300 * (1 - calleeShare(t))), errors: 0 }],
        ["11.1.0", { spans: Math.round(300 * calleeShare(t)), errors: 0 }],
      ]),
  };
  const evidence: IncidentEvidence = {
    environment: "production",
    startedAtMs: onset,
    endedAtMs: null,
    rootService: "consumer",
    signal: "error_rate",
    services: ["consumer"],
    neighboursOfRoot: new Set(["producer", "callee"]),
    versionCounts: (service, fromMs, toMs) => {
      const out = new Map<string, { spans: number; errors: number }>();
      for (const t of perBucket(fromMs, toMs)) {
        for (const [version, counts] of traffic[service]?.(t) ?? []) {
          const total = out.get(version) ?? { spans: 0, errors: 0 };
          out.set(version, { spans: total.spans + counts.spans, errors: total.errors + counts.errors });
        }
      }
      return out;
    },
    versionBuckets: (service, fromMs, toMs) => {
      const times = perBucket(fromMs, toMs);
      const out = new Map<string, { spans: number[]; errors: number[] }>();
      for (const [index, t] of times.entries()) {
        for (const [version, counts] of traffic[service]?.(t) ?? []) {
          const series = out.get(version) ?? { spans: times.map(() => 0), errors: times.map(() => 0) };
          series.spans[index] = counts.spans;
          series.errors[index] = counts.errors;
          out.set(version, series);
        }
      }
      return out;
    },
    wasFailingBefore: () => false,
  };
  const change = (id: string, service: string, version: string, startedAtMs: number): ChangeCandidate => ({
    id,
    environment: "production",
    service,
    version,
    previousVersion: null,
    kind: "deploy",
    source: "api",
    startedAtMs,
  });
  const candidates = [
    change("consumer-deploy", "consumer", "2.3.0", onset - 6 * minute),
    change("producer-deploy", "producer", "6.9.0", onset),
    change("callee-deploy", "callee", "11.1.0", onset),
  ];
  return { evidence, candidates, producerShare };
}

describe("rankSuspects with rollout tracking", () => {
  it("blames the producer whose rollout the consumer's errors follow, not the consumer's earlier clean deploy", () => {
    const world = schemaBreakWorld((t) => 0.0006 + 0.9 * rollout(onset, 6)(t));
    const { suspects, causeChangeId } = rankSuspects(
      world.candidates,
      world.evidence,
      defaultDetectionConfig,
    );
    expect(causeChangeId).toBe("producer-deploy");
    const producer = suspects.find((suspect) => suspect.changeId === "producer-deploy");
    expect(producer?.evidence.join(" ")).toMatch(/errors on consumer follow the rollout of producer 6\.9\.0/);
    const consumer = suspects.find((suspect) => suspect.changeId === "consumer-deploy");
    expect(consumer?.evidence.join(" ")).toMatch(/2\.3\.0 served \d+ spans before onset with no more errors/);
    expect(consumer?.score ?? 1).toBeLessThan(producer?.score ?? 0);
  });

  it("does not blame the producer when the consumer's errors start in one step", () => {
    const world = schemaBreakWorld((t) => (t >= onset ? 0.5 : 0.0006));
    const { suspects, causeChangeId } = rankSuspects(
      world.candidates,
      world.evidence,
      defaultDetectionConfig,
    );
    expect(causeChangeId).not.toBe("producer-deploy");
    const producer = suspects.find((suspect) => suspect.changeId === "producer-deploy");
    expect(producer?.evidence.join(" ")).not.toMatch(/follow the rollout/);
  });
});
