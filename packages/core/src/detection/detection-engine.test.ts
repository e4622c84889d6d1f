import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SeriesBucketDelta } from "../ingest-aggregate.ts";
import { latencyBinIndexOf, latencyBinKeyOf } from "../latency-bin-key-of.ts";
import { LatencyIndexBins } from "../latency-index-bins.ts";
import { seriesKeyOf } from "../series-key-of.ts";
import { emptySketchBins, type SketchBins } from "../sketch-bins.ts";
import { binomial, poisson } from "../test-support/random-counts.ts";
import { type SeededRandom, seededRandom } from "../test-support/seeded-random.ts";
import { defaultDetectionConfig } from "./detection-config.ts";
import { DetectionEngine } from "./detection-engine.ts";
import type {
  ChangeCandidate,
  EdgeObservation,
  IncidentSnapshot,
  SeriesObservation,
} from "./detection-types.ts";

const step = 10_000;
const minute = 60_000;
const env = "production";
/** Monday 2026-01-05 00:00 UTC: bucket-aligned. */
const t0 = Date.UTC(2026, 0, 5);
/** Faults start after 40 minutes: the 30-minute baseline is full and the series are warm. */
const faultAt = t0 + 40 * minute;

// ---------------------------------------------------------------- synthetic traffic

/** A latency sketch of `spans` durations, lognormal around `medianMs`, with integer counts. */
function latencyBins(random: SeededRandom, spans: number, medianMs: number): SketchBins {
  const bins = emptySketchBins();
  const samples = Math.min(spans, 40);
  if (samples === 0) return bins;
  const base = Math.floor(spans / samples);
  let extra = spans - base * samples;
  for (let index = 0; index < samples; index += 1) {
    const key = latencyBinKeyOf(random.lognormal(medianMs, 0.35));
    const weight = base + (extra > 0 ? 1 : 0);
    extra -= 1;
    bins[key] = (bins[key] ?? 0) + weight;
  }
  return bins;
}

interface ServiceSpec {
  name: string;
  /** Mean spans per 10 s bucket per operation. */
  spans: number;
  errorRate: number;
  medianMs?: number;
  operations?: string[];
  /** Instances' versions and their share of traffic (default one version). */
  versions?: { version: string; share: number }[];
}

interface Topology {
  services: ServiceSpec[];
  /** caller → callee; the caller's spans each call the callee once. */
  calls: [string, string][];
  /**
   * Whether callers also report their outgoing calls as CLIENT spans (one series per callee, failing
   * with the call), as instrumented HTTP and gRPC clients do; by default only server spans are seen.
   */
  clientSpans?: boolean;
}

/** What a fault does to a service (or one version of it) in a bucket. */
interface Effect {
  errorRate?: number;
  volume?: number;
  latency?: number;
}
type Fault = (service: string, version: string, bucketStartMs: number) => Effect | null;

interface Bucket {
  startMs: number;
  series: SeriesObservation[];
  edges: EdgeObservation[];
}

/**
 * Buckets of traffic over [fromMs, toMs). A callee's excess error rate propagates to its callers (a
 * failed call fails the caller's span), and call edges carry the caller's span count and failed calls.
 */
function generate(topology: Topology, fromMs: number, toMs: number, fault: Fault, seed: number): Bucket[] {
  const random = seededRandom(seed);
  const byName = new Map(topology.services.map((service) => [service.name, service]));
  const out: Bucket[] = [];
  for (let start = fromMs; start < toMs; start += step) {
    // Effective error rate per service (weighted over versions), callees first.
    const effective = new Map<string, number>();
    const rateOf = (name: string, depth = 0): number => {
      const known = effective.get(name);
      if (known !== undefined) return known;
      const spec = byName.get(name);
      if (!spec || depth > 10) return 0;
      let survive = 1;
      for (const [caller, callee] of topology.calls) {
        if (caller !== name) continue;
        const calleeSpec = byName.get(callee);
        const excess = Math.max(0, rateOf(callee, depth + 1) - (calleeSpec?.errorRate ?? 0));
        survive *= 1 - excess;
      }
      let own = 0;
      for (const { version, share } of spec.versions ?? [{ version: "1.0.0", share: 1 }]) {
        own += share * (fault(name, version, start)?.errorRate ?? spec.errorRate);
      }
      const rate = 1 - (1 - own) * survive;
      effective.set(name, rate);
      return rate;
    };
    const series: SeriesObservation[] = [];
    const spansOf = new Map<string, number>();
    for (const spec of topology.services) {
      const serviceRate = rateOf(spec.name);
      let own = 0;
      const versions = spec.versions ?? [{ version: "1.0.0", share: 1 }];
      for (const { version, share } of versions) {
        own += share * (fault(spec.name, version, start)?.errorRate ?? spec.errorRate);
      }
      const propagated = serviceRate - own;
      for (const operation of spec.operations ?? ["GET /"]) {
        for (const { version, share } of versions) {
          const effect = fault(spec.name, version, start);
          const spans = poisson(random, spec.spans * share * (effect?.volume ?? 1));
          const rate = Math.min(1, (effect?.errorRate ?? spec.errorRate) + propagated);
          spansOf.set(spec.name, (spansOf.get(spec.name) ?? 0) + spans);
          if (spans === 0) continue; // no spans, no aggregate row
          series.push({
            environment: env,
            service: spec.name,
            operation,
            spanKind: "server",
            version,
            bucketStartMs: start,
            spans,
            errors: binomial(random, spans, rate),
            latencyBins: latencyBins(random, spans, (spec.medianMs ?? 40) * (effect?.latency ?? 1)),
            userRegisters: emptySketchBins(),
          });
        }
      }
    }
    const edges: EdgeObservation[] = topology.calls.map(([source, target]) => {
      const count = spansOf.get(source) ?? 0;
      return {
        environment: env,
        kind: "call",
        source,
        target,
        bucketStartMs: start,
        count,
        errors: binomial(random, count, rateOf(target)),
      };
    });
    if (topology.clientSpans) {
      for (const edge of edges) {
        if (edge.count === 0) continue;
        series.push({
          environment: env,
          service: edge.source,
          operation: `call ${edge.target}`,
          spanKind: "client",
          version: byName.get(edge.source)?.versions?.[0]?.version ?? "1.0.0",
          bucketStartMs: start,
          spans: edge.count,
          errors: edge.errors,
          latencyBins: latencyBins(random, edge.count, 20),
          userRegisters: emptySketchBins(),
        });
      }
    }
    out.push({ startMs: start, series, edges });
  }
  return out;
}

/** Feeds bucket by bucket, advancing after each, then flushes everything. */
function replay(buckets: readonly Bucket[], changes: readonly ChangeCandidate[] = []): IncidentSnapshot[] {
  const engine = new DetectionEngine();
  engine.setChanges(changes);
  for (const bucket of buckets) {
    engine.observe(bucket.series, bucket.edges);
    engine.advance();
  }
  const last = buckets[buckets.length - 1];
  engine.advance((last?.startMs ?? 0) + step);
  return engine.allIncidents().sort((a, b) => a.startedAtMs - b.startedAtMs || a.id.localeCompare(b.id));
}

/** Incidents detected at or after `fromMs` (a chance alarm during the 40 quiet minutes is the noise test's business). */
const detectedFrom = (incidents: IncidentSnapshot[], fromMs = faultAt) =>
  incidents.filter((incident) => incident.detectedAtMs > fromMs);

function change(partial: Partial<ChangeCandidate> & Pick<ChangeCandidate, "id" | "service" | "startedAtMs">) {
  return {
    environment: env,
    version: null,
    previousVersion: null,
    kind: "deploy",
    source: "api",
    ...partial,
  } satisfies ChangeCandidate;
}

const single = (spans: number, errorRate: number): Topology => ({
  services: [{ name: "api", spans, errorRate }],
  calls: [],
});
const after = (
  fromMs: number,
  effect: Effect,
  service = "api",
  untilMs = Number.POSITIVE_INFINITY,
): Fault => {
  return (name, _version, start) => (name === service && start >= fromMs && start < untilMs ? effect : null);
};

// ---------------------------------------------------------------- error rate

describe("DetectionEngine: error-rate steps", () => {
  it("finds a 3× error-rate step within 60 s of event time, and not before it", () => {
    const delays: number[] = [];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(0.005, 0.01, 0.02),
        fc.integer({ min: 500, max: 3000 }),
        (seed, base, spans) => {
          const buckets = generate(
            single(spans, base),
            t0,
            faultAt + 5 * minute,
            after(faultAt, { errorRate: 3 * base }),
            seed,
          );
          const incidents = detectedFrom(replay(buckets));
          expect(incidents).toHaveLength(1);
          const [incident] = incidents;
          expect(incident?.signal).toBe("error_rate");
          expect(incident?.rootService).toBe("api");
          const detected = incident?.detectedAtMs ?? Number.NaN;
          delays.push(detected - faultAt);
          expect(detected - faultAt).toBeGreaterThan(0);
          expect(detected - faultAt).toBeLessThanOrEqual(60_000);
          // The estimated onset is at the step, give or take a bucket or two.
          expect(Math.abs((incident?.startedAtMs ?? Number.NaN) - faultAt)).toBeLessThanOrEqual(2 * step);
        },
      ),
      { seed: 201, numRuns: 12 },
    );
    console.info(`3× step: detection delays ${delays.map((d) => d / 1000).join(", ")} s`);
  });

  it("finds a collapse to 60% errors within one or two buckets, even at low volume", () => {
    const early: number[] = [];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(0.001, 0.01, 0.03),
        fc.integer({ min: 20, max: 3000 }),
        (seed, base, spans) => {
          const buckets = generate(
            single(spans, base),
            t0,
            faultAt + 3 * minute,
            after(faultAt, { errorRate: 0.6 }),
            seed,
          );
          const incidents = detectedFrom(replay(buckets));
          expect(incidents).toHaveLength(1);
          expect(incidents[0]?.signal).toBe("error_rate");
          expect((incidents[0]?.detectedAtMs ?? Number.NaN) - faultAt).toBeLessThanOrEqual(2 * step);
          // Onset: never after the step; exact at volume. At a few dozen spans per bucket a chance blip of
          // 2–3 errors just before the step can pull the estimate back (seen: 80 s at 26 spans/bucket).
          const startedAtMs = incidents[0]?.startedAtMs ?? Number.NaN;
          expect(startedAtMs).toBeLessThanOrEqual(faultAt);
          if (spans >= 200) expect(startedAtMs).toBe(faultAt);
          if (startedAtMs < faultAt) early.push((faultAt - startedAtMs) / 1000);
        },
      ),
      { seed: 202, numRuns: 12 },
    );
    // Seed 788530 at 26 spans/bucket is a known case: a 3-errors-in-30 blip 80 s before the step.
    const lowVolume = generate(
      single(26, 0.01),
      t0,
      faultAt + 3 * minute,
      after(faultAt, { errorRate: 0.6 }),
      788530,
    );
    const [lowVolumeIncident] = detectedFrom(replay(lowVolume));
    early.push((faultAt - (lowVolumeIncident?.startedAtMs ?? faultAt)) / 1000);
    console.info(`60% collapse: onsets estimated early by ${early.join(", ") || "nothing"} s`);
  });
});

// ---------------------------------------------------------------- throughput and latency

describe("DetectionEngine: throughput and latency", () => {
  it("detects a consumer whose processed rate collapses with no errors at all", () => {
    for (const seed of [1, 2, 3]) {
      const buckets = generate(
        single(300, 0),
        t0,
        faultAt + 3 * minute,
        after(faultAt, { volume: 0.05 }),
        seed,
      );
      const incidents = replay(buckets);
      expect(incidents).toHaveLength(1);
      expect(incidents[0]?.signal).toBe("throughput");
      expect(incidents[0]?.startedAtMs).toBe(faultAt);
      expect((incidents[0]?.detectedAtMs ?? Number.NaN) - faultAt).toBeLessThanOrEqual(40_000);
    }
  });

  it("does not call a service collapsed when it never came back after a blackout, but does when it stops in plain sight", () => {
    // Two scenarios replayed one after another with 30 minutes of nothing between them (or telemetry
    // back after an outage of the pipeline): the second has only "other"; "api" was last seen before.
    const topology: Topology = {
      services: [
        { name: "api", spans: 40, errorRate: 0.001 },
        { name: "other", spans: 200, errorRate: 0.001 },
      ],
      calls: [],
    };
    const none: Fault = () => null;
    const before = generate(topology, t0, faultAt, none, 71);
    const onlyOther = (buckets: Bucket[]) =>
      buckets.map((bucket) => ({
        ...bucket,
        series: bucket.series.filter((series) => series.service !== "api"),
      }));
    const afterBlackout = onlyOther(
      generate(topology, faultAt + 30 * minute, faultAt + 45 * minute, none, 72),
    );
    expect(detectedFrom(replay([...before, ...afterBlackout]))).toEqual([]);
    // The same silence without the blackout: "api" stops while "other" goes on.
    const inPlainSight = onlyOther(generate(topology, faultAt, faultAt + 15 * minute, none, 72));
    const incidents = detectedFrom(replay([...before, ...inPlainSight]));
    expect(incidents.map((incident) => [incident.signal, incident.rootService])).toEqual([
      ["throughput", "api"],
    ]);
    // Back after the blackout, it is judged again: a later stop is seen.
    const back = generate(topology, faultAt + 30 * minute, faultAt + 45 * minute, none, 73);
    const stopsAgain = onlyOther(generate(topology, faultAt + 45 * minute, faultAt + 55 * minute, none, 74));
    const later = detectedFrom(replay([...before, ...back, ...stopsAgain]));
    expect(later.map((incident) => [incident.signal, incident.rootService, incident.startedAtMs])).toEqual([
      ["throughput", "api", faultAt + 45 * minute],
    ]);
  });

  it("detects a quiet consumer losing most of its few messages a bucket, with the onset at the drop", () => {
    // 6–12 spans per bucket: too few for a bucket-by-bucket test; the run of quiet buckets decides.
    const delays: number[] = [];
    for (const [seed, spans] of [
      [61, 6],
      [62, 9],
      [63, 12],
      [64, 8],
    ] as const) {
      // A busier service beside it closes the buckets in which the consumer saw nothing at all.
      const topology: Topology = {
        services: [
          { name: "api", spans, errorRate: 0 },
          { name: "other", spans: 200, errorRate: 0.01 },
        ],
        calls: [],
      };
      const buckets = generate(topology, t0, faultAt + 4 * minute, after(faultAt, { volume: 0.15 }), seed);
      const incidents = detectedFrom(replay(buckets));
      expect(incidents).toHaveLength(1);
      expect(incidents[0]?.signal).toBe("throughput");
      expect(incidents[0]?.startedAtMs).toBeGreaterThanOrEqual(faultAt);
      expect(incidents[0]?.startedAtMs).toBeLessThanOrEqual(faultAt + 2 * step);
      const delay = (incidents[0]?.detectedAtMs ?? Number.NaN) - faultAt;
      expect(delay).toBeLessThanOrEqual(60_000);
      delays.push(delay / 1000);
    }
    console.info(`low-rate drop: detection delays ${delays.join(", ")} s`);
  });

  it("detects a service that goes silent, judged from the watermark of other services", () => {
    const topology: Topology = {
      services: [
        { name: "api", spans: 200, errorRate: 0.01 },
        { name: "other", spans: 200, errorRate: 0.01 },
      ],
      calls: [],
    };
    const buckets = generate(topology, t0, faultAt + 3 * minute, after(faultAt, { volume: 0 }), 4);
    const incidents = detectedFrom(replay(buckets));
    expect(incidents.map((incident) => [incident.signal, incident.rootService])).toEqual([
      ["throughput", "api"],
    ]);
  });

  it("detects a slowdown that rolls out instance by instance, however slowly its first steps lift the p95", () => {
    // Four instances (a quarter of the traffic each) get a 5× slower build one minute apart: at one
    // slow quarter the p95 sits under the alarm line, and those buckets must not teach the baseline
    // that slow is normal before the rollout completes.
    const topology: Topology = {
      services: [
        {
          name: "api",
          spans: 40,
          errorRate: 0.0005,
          medianMs: 20,
          versions: ["a", "b", "c", "d"].map((version) => ({ version, share: 0.25 })),
        },
      ],
      calls: [],
    };
    const rolling: Fault = (service, version, start) =>
      service === "api" && start >= faultAt + "abcd".indexOf(version) * minute ? { latency: 5 } : null;
    for (const seed of [81, 82, 83]) {
      const incidents = detectedFrom(replay(generate(topology, t0, faultAt + 10 * minute, rolling, seed)));
      expect(incidents.map((incident) => incident.signal)).toEqual(["latency"]);
      expect(incidents[0]?.startedAtMs).toBeLessThanOrEqual(faultAt + 4 * minute);
    }
  });

  it("blames a slow dependency's deploy when its callers' calls time out, though it fails nothing", () => {
    // The cache's new version (half the instances) is 80× slower: callers' client spans to it time out
    // (errors), the cache's own spans only get slow. The incident's first alarms are the callers'
    // errors, but the root failed by latency: unchanged error rates must not clear its deploy.
    const topology: Topology = {
      services: [
        { name: "api", spans: 60, errorRate: 0.0005 },
        {
          name: "cache",
          spans: 60,
          errorRate: 0.0002,
          medianMs: 5,
          versions: [
            { version: "1.0.0", share: 0.5 },
            { version: "1.1.0", share: 0.5 },
          ],
        },
      ],
      calls: [["api", "cache"]],
      clientSpans: true,
    };
    const slowNew: Fault = (service, version, start) =>
      service === "cache" && version === "1.1.0" && start >= faultAt ? { latency: 80 } : null;
    const deploy: ChangeCandidate = {
      id: "cache-deploy",
      environment: env,
      service: "cache",
      version: "1.1.0",
      previousVersion: "1.0.0",
      kind: "deploy",
      source: "api",
      startedAtMs: faultAt - step,
    };
    for (const seed of [91, 92]) {
      const buckets = generate(topology, t0, faultAt + 8 * minute, slowNew, seed).map((bucket) => {
        if (bucket.startMs < faultAt) return bucket;
        // Calls to the slow half time out: the callers' client spans (and the edge) fail.
        const timedOut = (count: number) => Math.round(count * 0.5);
        return {
          ...bucket,
          series: bucket.series.map((series) =>
            series.spanKind === "client" ? { ...series, errors: timedOut(series.spans) } : series,
          ),
          edges: bucket.edges.map((edge) => ({ ...edge, errors: timedOut(edge.count) })),
        };
      });
      const incidents = detectedFrom(replay(buckets, [deploy]));
      expect(incidents).toHaveLength(1);
      expect(incidents[0]?.rootService).toBe("cache");
      expect(incidents[0]?.causeChangeId).toBe("cache-deploy");
    }
  });

  it("detects a 4× latency shift of the whole distribution", () => {
    for (const seed of [5, 6, 7]) {
      const buckets = generate(
        single(200, 0.01),
        t0,
        faultAt + 3 * minute,
        after(faultAt, { latency: 4 }),
        seed,
      );
      const incidents = replay(buckets);
      expect(incidents).toHaveLength(1);
      expect(incidents[0]?.signal).toBe("latency");
      expect(incidents[0]?.startedAtMs).toBe(faultAt);
      expect((incidents[0]?.detectedAtMs ?? Number.NaN) - faultAt).toBeLessThanOrEqual(40_000);
    }
  });
});

// ---------------------------------------------------------------- grouping, roots, reopening

const shop: Topology = {
  services: [
    { name: "web", spans: 400, errorRate: 0.005 },
    { name: "api", spans: 300, errorRate: 0.005 },
    { name: "auth", spans: 200, errorRate: 0.002 },
    { name: "db", spans: 500, errorRate: 0.001 },
    { name: "billing", spans: 150, errorRate: 0.005 },
    { name: "ledger", spans: 150, errorRate: 0.002 },
  ],
  calls: [
    ["web", "api"],
    ["web", "auth"],
    ["api", "db"],
    ["billing", "ledger"],
  ],
};

describe("DetectionEngine: incidents", () => {
  it("opens one incident for a failure that spreads from a shared dependency to its callers, rooted there", () => {
    for (const seed of [11, 12, 13]) {
      const buckets = generate(
        shop,
        t0,
        faultAt + 5 * minute,
        after(faultAt, { errorRate: 0.4 }, "db"),
        seed,
      );
      const incidents = replay(buckets);
      expect(incidents).toHaveLength(1);
      const [incident] = incidents;
      expect(incident?.rootService).toBe("db");
      expect([...(incident?.services ?? [])].sort()).toEqual(["api", "db", "web"]);
      expect(incident?.startedAtMs).toBe(faultAt);
    }
  });

  it("roots a canary's failure at the failing service when its callers' client spans fail with it", () => {
    // Two gateways call dm-api; one dm-api instance in four runs a canary failing half its requests.
    // Each gateway fails twice per failed call, on its server span and on its client span to dm-api:
    // the client span's errors are the callee's, not the gateway's own, so dm-api explains both
    // gateways and the failure is one incident rooted at dm-api, blamed on the canary.
    const messaging: Topology = {
      services: [
        { name: "mobile-gateway", spans: 300, errorRate: 0.002 },
        { name: "web-gateway", spans: 200, errorRate: 0.002 },
        {
          name: "dm-api",
          spans: 500,
          errorRate: 0.001,
          versions: [
            { version: "3.41.2", share: 0.75 },
            { version: "3.42.0", share: 0.25 },
          ],
        },
      ],
      calls: [
        ["mobile-gateway", "dm-api"],
        ["web-gateway", "dm-api"],
      ],
      clientSpans: true,
    };
    const canary = change({ id: "dm-canary", service: "dm-api", version: "3.42.0", startedAtMs: faultAt });
    for (const seed of [61, 62, 63, 64, 65, 66]) {
      const fault: Fault = (service, version, start) =>
        service === "dm-api" && version === "3.42.0" && start >= faultAt ? { errorRate: 0.5 } : null;
      const incidents = detectedFrom(
        replay(generate(messaging, t0, faultAt + 6 * minute, fault, seed), [canary]),
      );
      expect(incidents, `seed ${seed}`).toHaveLength(1);
      expect(incidents[0]?.rootService, `seed ${seed}`).toBe("dm-api");
      expect([...(incidents[0]?.services ?? [])].sort()).toEqual(["dm-api", "mobile-gateway", "web-gateway"]);
      expect(incidents[0]?.causeChangeId).toBe("dm-canary");
    }
  });

  it("opens two incidents for two unconnected services failing at the same time", () => {
    const fault: Fault = (service, _version, start) =>
      (service === "db" || service === "ledger") && start >= faultAt ? { errorRate: 0.3 } : null;
    const incidents = replay(generate(shop, t0, faultAt + 5 * minute, fault, 21));
    expect(incidents.map((incident) => incident.rootService).sort()).toEqual(["db", "ledger"]);
    const billingSide = incidents.find((incident) => incident.rootService === "ledger");
    expect([...(billingSide?.services ?? [])].sort()).toEqual(["billing", "ledger"]);
  });

  it("keeps two unrelated faults apart when one gateway calls both failing services", () => {
    // edge → gateway → {auth, media}; auth and media fail independently at (nearly) the same time, each
    // after its own change. The gateway's errors come from both and connect them in the graph, but no
    // failing dependency explains either fault: two incidents, each rooted at its own service.
    const gateway: Topology = {
      services: [
        { name: "edge", spans: 500, errorRate: 0.003 },
        { name: "gateway", spans: 500, errorRate: 0.003 },
        { name: "auth", spans: 250, errorRate: 0.002 },
        { name: "media", spans: 200, errorRate: 0.002 },
        { name: "catalog", spans: 300, errorRate: 0.002 },
      ],
      calls: [
        ["edge", "gateway"],
        ["gateway", "auth"],
        ["gateway", "media"],
        ["gateway", "catalog"],
      ],
    };
    const changes = [
      change({ id: "auth-deploy", service: "auth", version: "4.2.0", startedAtMs: faultAt - 2 * minute }),
      change({ id: "media-config", service: "media", kind: "config", startedAtMs: faultAt - minute }),
      change({ id: "catalog-deploy", service: "catalog", version: "7.0.1", startedAtMs: faultAt - 90_000 }),
    ];
    for (const [seed, mediaLagMs, authRate, mediaRate] of [
      [51, 0, 0.3, 0.3],
      [52, 30_000, 0.5, 0.2],
      [54, 20_000, 0.15, 0.6],
    ] as const) {
      const fault: Fault = (service, _version, start) =>
        service === "auth" && start >= faultAt
          ? { errorRate: authRate }
          : service === "media" && start >= faultAt + mediaLagMs
            ? { errorRate: mediaRate }
            : null;
      const incidents = detectedFrom(
        replay(generate(gateway, t0, faultAt + 6 * minute, fault, seed), changes),
      );
      expect(incidents.map((incident) => incident.rootService).sort()).toEqual(["auth", "media"]);
      for (const incident of incidents) {
        const other = incident.rootService === "auth" ? "media" : "auth";
        expect(incident.services).not.toContain(other);
        expect(incident.causeChangeId).toBe(incident.rootService === "auth" ? "auth-deploy" : "media-config");
      }
      // The gateway (and its caller) went down with both: neither cause alone explains their errors, so
      // neither incident lists them as affected (one listing them would claim the other fault's errors,
      // and read as a second incident of it); the timeline of the one they alarmed into says why.
      for (const incident of incidents) {
        expect(incident.services).not.toContain("gateway");
        expect(incident.services).not.toContain("edge");
      }
      expect(
        incidents
          .flatMap((incident) => incident.events)
          .filter((event) => /^gateway fails from another cause too/.test(event.message)),
      ).toHaveLength(1);
    }
  });

  it("reopens the incident when the same failure flares again shortly after recovery", () => {
    // The failure ends at +5 min (so does the incident, declared `recoveryBuckets` later) and returns
    // between that declaration and the end of the reopen window.
    const { recoveryBuckets, reopenWindowMs } = defaultDetectionConfig;
    const again =
      faultAt + 5 * minute + Math.floor((recoveryBuckets * step + reopenWindowMs) / 2 / step) * step;
    const fault: Fault = (service, _version, start) =>
      service === "db" &&
      ((start >= faultAt && start < faultAt + 5 * minute) || (start >= again && start < again + 3 * minute))
        ? { errorRate: 0.3 }
        : null;
    const incidents = replay(generate(shop, t0, faultAt + 20 * minute, fault, 31));
    expect(incidents).toHaveLength(1);
    const kinds = incidents[0]?.events.map((event) => event.kind) ?? [];
    expect(kinds.filter((kind) => kind === "opened")).toHaveLength(1);
    expect(kinds).toContain("recovered");
    expect(kinds).toContain("reopened");
    expect(kinds.lastIndexOf("recovered")).toBeGreaterThan(kinds.indexOf("reopened"));
    expect(incidents[0]?.endedAtMs).toBe(again + 3 * minute);
  });

  it("opens a new incident when the root fails a different way soon after recovering", () => {
    // A throughput stall, recovered; two minutes later the same service throws errors: another failure.
    const topology: Topology = {
      services: [
        { name: "api", spans: 300, errorRate: 0.005 },
        { name: "other", spans: 200, errorRate: 0.005 },
      ],
      calls: [],
    };
    const fault: Fault = (service, _version, start) =>
      service !== "api"
        ? null
        : start >= faultAt && start < faultAt + 3 * minute
          ? { volume: 0.05 }
          : start >= faultAt + 6 * minute && start < faultAt + 9 * minute
            ? { errorRate: 0.3 }
            : null;
    const incidents = detectedFrom(replay(generate(topology, t0, faultAt + 16 * minute, fault, 33)));
    expect(incidents.map((incident) => incident.signal)).toEqual(["throughput", "error_rate"]);
    expect(incidents[0]?.events.map((event) => event.kind)).not.toContain("reopened");
  });

  it("opens a new incident when the failure returns long after recovery", () => {
    const fault: Fault = (service, _version, start) =>
      service === "db" &&
      ((start >= faultAt && start < faultAt + 5 * minute) ||
        (start >= faultAt + 45 * minute && start < faultAt + 48 * minute))
        ? { errorRate: 0.3 }
        : null;
    const incidents = replay(generate(shop, t0, faultAt + 55 * minute, fault, 32));
    expect(incidents).toHaveLength(2);
    expect(incidents[0]?.startedAtMs).toBe(faultAt);
    // The onset estimate may reach a bucket or two back into noise that happened to run high.
    expect(faultAt + 45 * minute - (incidents[1]?.startedAtMs ?? Number.NaN)).toBeLessThanOrEqual(2 * step);
    expect(faultAt + 45 * minute - (incidents[1]?.startedAtMs ?? Number.NaN)).toBeGreaterThanOrEqual(0);
    expect(incidents.every((incident) => incident.rootService === "db")).toBe(true);
  });
});

// ---------------------------------------------------------------- attribution through the engine

/** checkout on 12 instances; from `faultAt` one of them runs 2.14.0 and fails 30% of its requests. */
const canaryShop: Topology = {
  services: [
    { name: "web", spans: 600, errorRate: 0.005 },
    {
      name: "checkout",
      spans: 600,
      errorRate: 0.005,
      versions: [
        { version: "2.13.9", share: 11 / 12 },
        { version: "2.14.0", share: 1 / 12 },
      ],
    },
    { name: "search", spans: 300, errorRate: 0.005 },
    { name: "payments", spans: 300, errorRate: 0.002 },
  ],
  calls: [
    ["web", "checkout"],
    ["web", "search"],
    ["checkout", "payments"],
  ],
};
const canaryDeployAt = faultAt - 20_000;
const canaryFault: Fault = (service, version, start) =>
  service === "checkout" && version === "2.14.0" && start >= faultAt ? { errorRate: 0.3 } : null;
/** Before the canary, its instance ran the old version: traffic on 2.14.0 only from the deploy on. */
function canaryBuckets(seed: number, toMs: number, topology = canaryShop, fault = canaryFault): Bucket[] {
  return generate(topology, t0, toMs, fault, seed).map((bucket) => ({
    ...bucket,
    series: bucket.series.map((series) =>
      series.version === "2.14.0" && series.bucketStartMs < canaryDeployAt
        ? { ...series, version: "2.13.9" }
        : series,
    ),
  }));
}
const canaryChanges: ChangeCandidate[] = [
  change({
    id: "canary",
    service: "checkout",
    version: "2.14.0",
    previousVersion: "2.13.9",
    startedAtMs: canaryDeployAt,
  }),
  // Innocent: a caller's config push, an unrelated deploy closer to onset, and a change after onset.
  change({ id: "web-config", service: "web", kind: "config", startedAtMs: faultAt - 5 * minute }),
  change({ id: "search-deploy", service: "search", version: "9.1.0", startedAtMs: faultAt - 15_000 }),
  change({ id: "late", service: "checkout", kind: "feature_flag", startedAtMs: faultAt + 2 * minute }),
];

describe("DetectionEngine: attribution", () => {
  it("implicates a 1-in-12 canary failing at 30% by version evidence, and names it the cause", () => {
    for (const seed of [41, 42]) {
      const incidents = replay(canaryBuckets(seed, faultAt + 6 * minute), canaryChanges);
      expect(incidents).toHaveLength(1);
      const [incident] = incidents;
      expect(incident?.rootService).toBe("checkout");
      expect(incident?.causeChangeId).toBe("canary");
      const top = incident?.suspects[0];
      expect(top?.changeId).toBe("canary");
      expect(top?.evidence.some((line) => /higher on 2\.14\.0/.test(line))).toBe(true);
      expect(incident?.suspects.map((suspect) => suspect.changeId)).not.toContain("late");
    }
  });

  it("names a deploy reported after the incident ended, while the incident's evidence is still kept", () => {
    // The canary stops failing after four minutes (withdrawn, say) and CI reports its deploy only then.
    const withdrawn: Fault = (service, version, start) =>
      start < faultAt + 4 * minute ? canaryFault(service, version, start) : null;
    const innocent = canaryChanges.filter((candidate) => candidate.id !== "canary");
    const feedUntil = (engine: DetectionEngine, buckets: readonly Bucket[]) => {
      for (const bucket of buckets) {
        engine.observe(bucket.series, bucket.edges);
        engine.advance();
      }
      engine.advance((buckets[buckets.length - 1]?.startMs ?? 0) + step);
    };
    const endMs = faultAt + 12 * minute;
    const engine = new DetectionEngine();
    engine.setChanges(innocent);
    feedUntil(engine, canaryBuckets(44, endMs, canaryShop, withdrawn));
    const [ended] = engine.allIncidents();
    expect(ended?.status).toBe("resolved");
    expect(ended?.causeChangeId).toBeNull();

    engine.setChanges(innocent);
    expect(engine.advance()).toEqual([]);
    engine.setChanges(canaryChanges);
    const [attributed] = engine.advance();
    expect(attributed?.id).toBe(ended?.id);
    expect(attributed?.causeChangeId).toBe("canary");
    expect(attributed?.events.at(-1)?.message).toMatch(/top suspect: deploy of checkout 2\.14\.0/);
    // The same cause as when the deploy was known all along.
    expect(replay(canaryBuckets(44, endMs, canaryShop, withdrawn), canaryChanges)[0]?.causeChangeId).toBe(
      "canary",
    );

    // Once the incident's start has left the newer half of the kept history, a late report changes nothing.
    const later = new DetectionEngine();
    later.setChanges(innocent);
    feedUntil(later, canaryBuckets(44, faultAt + 30 * minute, canaryShop, withdrawn));
    later.setChanges(canaryChanges);
    expect(later.advance()).toEqual([]);
    expect(later.allIncidents()[0]?.causeChangeId).toBeNull();
  });

  it("leaves the cause empty when only innocent changes are around", () => {
    const innocent = canaryChanges.filter((candidate) => candidate.id !== "canary");
    const incidents = replay(canaryBuckets(43, faultAt + 6 * minute), innocent);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.causeChangeId).toBeNull();
    expect(incidents[0]?.suspects.map((suspect) => suspect.changeId)).not.toContain("late");
  });
});

// ---------------------------------------------------------------- event-time determinism

describe("DetectionEngine: event-time determinism", () => {
  // The canary shop plus an unconnected pair whose callee fails later: two incidents to compare.
  const topology: Topology = {
    services: [
      ...canaryShop.services,
      { name: "billing", spans: 150, errorRate: 0.005 },
      { name: "ledger", spans: 150, errorRate: 0.002 },
    ],
    calls: [...canaryShop.calls, ["billing", "ledger"]],
  };
  const fault: Fault = (service, version, start) =>
    canaryFault(service, version, start) ??
    (service === "ledger" && start >= faultAt + 4 * minute ? { errorRate: 0.5 } : null);
  const buckets = canaryBuckets(51, faultAt + 14 * minute, topology, fault);
  const endMs = faultAt + 14 * minute;

  /**
   * Observations split per version and operation, shuffled within pairs of buckets (inside the lateness).
   * With `changesAsReported`, the engine learns each change as the ingest runner does: every change
   * whose time the stream has reached, handed over again before every advance.
   */
  function feed(
    seed: number,
    batchSize: number,
    advanceEvery: number,
    changesAsReported = false,
  ): IncidentSnapshot[] {
    const random = seededRandom(seed);
    type Item = { series?: SeriesObservation; edge?: EdgeObservation };
    const stream: Item[] = [];
    for (let index = 0; index < buckets.length; index += 2) {
      const chunk: Item[] = [];
      for (const bucket of buckets.slice(index, index + 2)) {
        for (const series of bucket.series) chunk.push({ series });
        for (const edge of bucket.edges) chunk.push({ edge });
      }
      for (let i = chunk.length - 1; i > 0; i -= 1) {
        const j = random.int(i + 1);
        const swap = chunk[i];
        const other = chunk[j];
        if (swap && other) {
          chunk[i] = other;
          chunk[j] = swap;
        }
      }
      stream.push(...chunk);
    }
    const engine = new DetectionEngine();
    if (!changesAsReported) engine.setChanges(canaryChanges);
    let reachedMs = Number.NEGATIVE_INFINITY;
    let batches = 0;
    for (let index = 0; index < stream.length; index += batchSize) {
      const batch = stream.slice(index, index + batchSize);
      for (const item of batch) {
        reachedMs = Math.max(reachedMs, item.series?.bucketStartMs ?? item.edge?.bucketStartMs ?? reachedMs);
      }
      engine.observe(
        batch.flatMap((item) => (item.series ? [item.series] : [])),
        batch.flatMap((item) => (item.edge ? [item.edge] : [])),
      );
      batches += 1;
      if (batches % advanceEvery !== 0) continue;
      if (changesAsReported) {
        engine.setChanges(canaryChanges.filter((candidate) => candidate.startedAtMs <= reachedMs));
      }
      engine.advance();
    }
    if (changesAsReported) engine.setChanges(canaryChanges);
    engine.advance(endMs);
    return engine.allIncidents().sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Runs `check` for eight seeded draws of shuffle seed, batch size and advance cadence. */
  function forAnyFeeding(check: (seed: number, batchSize: number, advanceEvery: number) => void): void {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 7 }),
        check,
      ),
      { seed: 501, numRuns: 8 },
    );
  }

  it("gives identical incidents from ingest batches with numeric latency bins as from sketch objects", () => {
    // A latency shift on checkout besides the canary, so the p95 path decides an incident too.
    const slow: Fault = (service, version, start) =>
      fault(service, version, start) ??
      (service === "search" && start >= faultAt + 2 * minute ? { latency: 5 } : null);
    const slowBuckets = canaryBuckets(52, endMs, topology, slow);
    const reference = replay(slowBuckets, canaryChanges);
    expect(reference.map((incident) => incident.signal).sort()).toContain("latency");
    for (const seed of [1, 2]) {
      const random = seededRandom(seed);
      const engine = new DetectionEngine();
      engine.setChanges(canaryChanges);
      for (const bucket of slowBuckets) {
        // Some deltas carry both forms (as aggregation makes them), some only the object (as read back).
        const seriesBuckets = bucket.series.map((series): SeriesBucketDelta => {
          const identity = { ...series, destination: null };
          const delta: SeriesBucketDelta = {
            seriesKey: seriesKeyOf(identity),
            series: identity,
            stepMs: step,
            bucketStartMs: series.bucketStartMs,
            spans: series.spans,
            errors: series.errors,
            durationSumMs: 0,
            latencyBins: series.latencyBins,
            userRegisters: series.userRegisters,
          };
          if (random.next() < 0.8) {
            const numeric = new LatencyIndexBins();
            for (const [key, count] of Object.entries(series.latencyBins)) {
              if (key === "z") numeric.addZero(count);
              else numeric.add(latencyBinIndexOf(key), count);
            }
            delta.latencyIndexBins = numeric;
          }
          return delta;
        });
        engine.observeBatch({ seriesBuckets, edges: bucket.edges });
        engine.advance();
      }
      engine.advance(endMs);
      const incidents = engine
        .allIncidents()
        .sort((a, b) => a.startedAtMs - b.startedAtMs || a.id.localeCompare(b.id));
      expect(incidents).toEqual(reference);
    }
  });

  it("gives identical incidents for any batch size, order within the lateness and advance cadence", () => {
    const reference = feed(0, Number.MAX_SAFE_INTEGER, 1);
    expect(reference.length).toBe(2);
    expect(reference.find((incident) => incident.rootService === "checkout")?.causeChangeId).toBe("canary");
    // The canary is bad, but billing/ledger are not connected to checkout: it is not their cause.
    expect(reference.find((incident) => incident.rootService === "ledger")?.causeChangeId).toBeNull();
    const bucketByBucket = replay(buckets, canaryChanges).sort((a, b) => a.id.localeCompare(b.id));
    expect(bucketByBucket).toEqual(reference);
    forAnyFeeding((seed, batchSize, advanceEvery) => {
      expect(feed(seed, batchSize, advanceEvery)).toEqual(reference);
    });
  });

  it("gives the same incidents and causes when changes become known as the stream reaches them, in any batching", () => {
    const reference = feed(0, Number.MAX_SAFE_INTEGER, 1);
    const summary = (incidents: IncidentSnapshot[]) =>
      incidents.map((incident) => ({
        root: incident.rootService,
        startedAtMs: incident.startedAtMs,
        endedAtMs: incident.endedAtMs,
        cause: incident.causeChangeId,
        suspects: incident.suspects.map((suspect) => suspect.changeId),
      }));
    forAnyFeeding((seed, batchSize, advanceEvery) => {
      expect(summary(feed(seed, batchSize, advanceEvery, true))).toEqual(summary(reference));
    });
  });
});
