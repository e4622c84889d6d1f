/**
 * Cost of detection per closed 10-second bucket over 10 000 active series, for the whole path the
 * DetectionRunner takes: `observeBatch()` of each committed ingest batch of the bucket, then `advance()`.
 * 500 services × 20 operations (server spans), Poisson volumes of 5–200 spans per bucket, ~1% errors,
 * latency sketches of a few dozen bins in both the forms aggregation hands over (the `SketchBins`
 * object for storage and the numeric `LatencyIndexBins`), user-register sketches of a few dozen
 * registers, call edges between services (each calls three others). Each bucket's data arrives in `--batches` commits (default 2: exporters flush about every
 * 5 s), every series in each. A warm-up is fed first (its buckets close as they go): by default just over
 * the 30-minute baseline window, so every ring, baseline and the recent graph are full and sliding when
 * measuring starts.
 *
 * While measuring, real failures come and go as they would in production (`--faults`, default 3, one
 * every ~6 minutes, each lasting 4): a service whose every operation fails at 30% with its callers'
 * calls into it failing too, one whose latency goes up eightfold, one whose traffic collapses to a
 * tenth. Each comes with a deploy of the failing service shortly before and an innocent deploy elsewhere
 * at the same moment, so the measured buckets open, spread, rank, merge and resolve incidents as well as
 * judge the 10 000 quiet series.
 *
 *   npx tsx packages/core/bench/detect-bench.ts [--services N] [--operations N] [--buckets N] [--warmup N]
 *     [--batches N] [--faults N] [--sketch-objects-only]
 *
 * `--sketch-objects-only` leaves the numeric bins out, as deltas read back from storage would be: the
 * cost detection had before aggregation handed it numbers.
 */
import { defaultDetectionConfig } from "../src/detection/detection-config.ts";
import { DetectionEngine } from "../src/detection/detection-engine.ts";
import type { ChangeCandidate } from "../src/detection/detection-types.ts";
import type { GraphEdgeDelta, SeriesBucketDelta } from "../src/ingest-aggregate.ts";
import { latencyBinKeyAt } from "../src/latency-bin-key-of.ts";
import { LatencyIndexBins } from "../src/latency-index-bins.ts";
import { seriesKeyOf } from "../src/series-key-of.ts";
import { emptySketchBins, type SketchBins } from "../src/sketch-bins.ts";
import { seededRandom } from "../src/test-support/seeded-random.ts";

const argValue = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const services = argValue("--services", 500);
const operations = argValue("--operations", 20);
const measured = argValue("--buckets", 120);
const step = 10_000;
const warmupBuckets = argValue("--warmup", defaultDetectionConfig.baselineBuckets + 20);
const batchesPerBucket = argValue("--batches", 2);
const faultCount = process.argv.includes("--faults")
  ? Number(process.argv[process.argv.indexOf("--faults") + 1])
  : 3;
const objectsOnly = process.argv.includes("--sketch-objects-only");
const t0 = Date.UTC(2026, 0, 5);

const random = seededRandom(7);
const poisson = (mean: number): number => {
  if (mean > 60) return Math.max(0, Math.round(mean + Math.sqrt(mean) * random.normal()));
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = random.next();
  while (u > cumulative) {
    k += 1;
    p *= mean / k;
    cumulative += p;
  }
  return k;
};

// Per series: mean volume, error rate and latency median; a few prebuilt latency sketches per series
// are reused (detection reads them when their bucket closes and keeps no copy).
const specs = Array.from({ length: services * operations }, (_, index) => {
  const series = {
    environment: "production",
    service: `svc-${Math.floor(index / operations)}`,
    operation: `op-${index % operations}`,
    spanKind: "server" as const,
    destination: null,
    version: "1.0.0",
  };
  return {
    series,
    seriesKey: seriesKeyOf(series),
    volume: 5 + Math.floor(random.next() ** 2 * 195),
    errorRate: 0.002 + random.next() * 0.02,
    medianMs: 5 + random.next() * 200,
  };
});
interface PooledSketch {
  object: SketchBins;
  numeric: LatencyIndexBins;
}
const pooledSketch = (volume: number, medianMs: number): PooledSketch => {
  const numeric = new LatencyIndexBins();
  const weight = Math.max(1, Math.round(volume / 40 / batchesPerBucket));
  for (let sample = 0; sample < 40; sample += 1) {
    for (let copy = 0; copy < weight; copy += 1) numeric.addDuration(random.lognormal(medianMs, 0.5));
  }
  // The object aggregation would have built from the same spans (keys in the same order).
  const object = emptySketchBins();
  for (const [at, index] of numeric.indices.entries())
    object[latencyBinKeyAt(index)] = numeric.counts[at] ?? 0;
  return { object, numeric };
};
const sketchPool: PooledSketch[][] = specs.map((spec) =>
  Array.from({ length: 4 }, () => pooledSketch(spec.volume, spec.medianMs)),
);
/** HyperLogLog registers of the spans' users as aggregation hands them over: a few dozen per series. */
const registerPool: SketchBins[][] = specs.map((spec) =>
  Array.from({ length: 4 }, () => {
    const registers = emptySketchBins();
    for (let user = 0; user < Math.min(60, spec.volume); user += 1)
      registers[`r${random.int(4096)}`] = 1 + random.int(6);
    return registers;
  }),
);
const calls = Array.from({ length: services * 3 }, (_, index) => ({
  source: `svc-${Math.floor(index / 3)}`,
  target: `svc-${(Math.floor(index / 3) * 7 + (index % 3) * 13 + 1) % services}`,
}));

/** A failure during the measured buckets: `[startBucket, endBucket)` on every operation of `service`. */
interface Fault {
  service: string;
  effect: "errors" | "latency" | "throughput";
  startBucket: number;
  endBucket: number;
}
const faults: Fault[] = Array.from({ length: faultCount }, (_, at) => ({
  service: `svc-${(37 + 101 * at) % services}`,
  effect: (["errors", "latency", "throughput"] as const)[at % 3] ?? "errors",
  startBucket: warmupBuckets + 10 + 35 * at,
  endBucket: warmupBuckets + 10 + 35 * at + 24,
}));
const faultOn = (service: string, bucket: number): Fault | undefined =>
  faults.find(
    (fault) => fault.service === service && bucket >= fault.startBucket && bucket < fault.endBucket,
  );
/** Callers of each service: their calls into a failing service fail, and so do their own spans. */
const callersOf = new Map<string, string[]>();
for (const { source, target } of calls) callersOf.set(target, [...(callersOf.get(target) ?? []), source]);
const slowSketches = new Map<number, PooledSketch[]>();
for (const fault of faults) {
  if (fault.effect !== "latency") continue;
  for (const [index, spec] of specs.entries()) {
    if (spec.series.service !== fault.service) continue;
    slowSketches.set(
      index,
      Array.from({ length: 4 }, () => pooledSketch(spec.volume, spec.medianMs * 8)),
    );
  }
}
/** The deploy before each fault on its service, and an innocent one elsewhere at the same moment. */
const changes: ChangeCandidate[] = faults.flatMap((fault, at) => {
  const startedAtMs = t0 + fault.startBucket * step - 60_000;
  const base = { environment: "production", kind: "deploy" as const, source: "api" as const, startedAtMs };
  return [
    { ...base, id: `culprit-${at}`, service: fault.service, version: "1.1.0", previousVersion: "1.0.0" },
    {
      ...base,
      id: `innocent-${at}`,
      service: `svc-${(fault.service.length * 53 + 211 * (at + 1)) % services}`,
      version: "2.0.0",
      previousVersion: "1.9.0",
    },
  ];
});

interface CommittedBatch {
  seriesBuckets: SeriesBucketDelta[];
  edges: GraphEdgeDelta[];
}

/** A bucket's data as the commits that bring it: each series' spans spread over every batch. */
function bucketAt(bucket: number): CommittedBatch[] {
  const start = t0 + bucket * step;
  const batches: CommittedBatch[] = Array.from({ length: batchesPerBucket }, () => ({
    seriesBuckets: [],
    edges: [],
  }));
  const spansOf = new Map<string, number>();
  /** Error rate callers see on their calls into each service failing with errors now. */
  const failingCallees = new Map<string, number>();
  for (const fault of faults) {
    if (fault.effect === "errors" && bucket >= fault.startBucket && bucket < fault.endBucket)
      failingCallees.set(fault.service, 0.3);
  }
  const upstreamErrorRate = (service: string): number => {
    let rate = 0;
    for (const { source, target } of calls) if (source === service) rate += failingCallees.get(target) ?? 0;
    return rate / 3;
  };
  const upstreamRates = new Map<string, number>();
  for (const failing of failingCallees.keys()) {
    for (const caller of callersOf.get(failing) ?? []) upstreamRates.set(caller, upstreamErrorRate(caller));
  }
  for (const [index, spec] of specs.entries()) {
    const fault = faultOn(spec.series.service, bucket);
    const volume = fault?.effect === "throughput" ? spec.volume / 10 : spec.volume;
    const errorRate =
      fault?.effect === "errors"
        ? 0.3
        : spec.errorRate + (upstreamRates.get(spec.series.service) ?? 0) * (1 - spec.errorRate);
    const sketches = fault?.effect === "latency" ? slowSketches.get(index) : sketchPool[index];
    for (const batch of batches) {
      const spans = poisson(volume / batchesPerBucket);
      if (spans === 0) continue;
      spansOf.set(spec.series.service, (spansOf.get(spec.series.service) ?? 0) + spans);
      const sketch = sketches?.[random.int(4)];
      const delta: SeriesBucketDelta = {
        seriesKey: spec.seriesKey,
        series: spec.series,
        stepMs: step,
        bucketStartMs: start,
        spans,
        errors: Math.min(spans, poisson(spans * errorRate)),
        durationSumMs: spans * spec.medianMs,
        latencyBins: sketch?.object ?? emptySketchBins(),
        userRegisters: registerPool[index]?.[random.int(4)] ?? emptySketchBins(),
      };
      if (!objectsOnly && sketch) delta.latencyIndexBins = sketch.numeric;
      batch.seriesBuckets.push(delta);
    }
  }
  for (const [at, { source, target }] of calls.entries()) {
    const count = Math.round((spansOf.get(source) ?? 0) / 3);
    batches[at % batchesPerBucket]?.edges.push({
      environment: "production",
      kind: "call",
      source,
      target,
      stepMs: step,
      bucketStartMs: start,
      count,
      errors: Math.min(count, poisson(count * (0.005 + (failingCallees.get(target) ?? 0)))),
      delaySumMs: 0,
      delayMaxMs: 0,
      delayCount: 0,
    });
  }
  return batches;
}

const engine = new DetectionEngine();
const warmStarted = performance.now();
for (let bucket = 0; bucket < warmupBuckets; bucket += 1) {
  for (const batch of bucketAt(bucket)) engine.observeBatch(batch);
  engine.advance();
}
console.log(
  `warm-up: ${warmupBuckets} buckets of ${specs.length} series in ${((performance.now() - warmStarted) / 1000).toFixed(1)} s`,
);

const wholeTimings: number[] = [];
const observeTimings: number[] = [];
const advanceTimings: number[] = [];
/** CPU time of the whole path (the process's, so GC helper threads count too): steadier than the wall
 * clock on a machine shared with other work. */
const cpuTimings: number[] = [];
let incidents = 0;
// The runner hands detection the known deploys when they arrive; here all at once, before measuring.
engine.setChanges(changes);
for (let bucket = warmupBuckets; bucket < warmupBuckets + measured; bucket += 1) {
  const batches = bucketAt(bucket);
  const cpu = process.cpuUsage();
  let observing = 0;
  for (const batch of batches) {
    const started = performance.now();
    engine.observeBatch(batch);
    observing += performance.now() - started;
  }
  const started = performance.now();
  incidents += engine.advance().length;
  const advancing = performance.now() - started;
  observeTimings.push(observing);
  advanceTimings.push(advancing);
  wholeTimings.push(observing + advancing);
  const used = process.cpuUsage(cpu);
  cpuTimings.push((used.user + used.system) / 1000);
}
const quantileOf = (timings: number[], q: number) => {
  const sorted = [...timings].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const figures = (timings: number[]) =>
  `median ${quantileOf(timings, 0.5).toFixed(2)} ms, p99 ${quantileOf(timings, 0.99).toFixed(2)} ms`;
console.log(
  `measured ${wholeTimings.length} closed buckets in ${batchesPerBucket} commit(s) each${objectsOnly ? ", sketch objects only" : ""}; incident updates during them: ${incidents}`,
);
const measuredFromMs = t0 + warmupBuckets * step;
const opened = engine.allIncidents().filter((incident) => incident.startedAtMs >= measuredFromMs);
// Found: an incident rooted at (or listing) the failing service, detected within two minutes of the
// fault's start (its onset may read earlier: a caller's own onset estimate can reach back into noise).
const caught = faults.filter((fault) =>
  engine.allIncidents().some((incident) => {
    const faultStartMs = t0 + fault.startBucket * step;
    return (
      (incident.rootService === fault.service || incident.services.includes(fault.service)) &&
      incident.detectedAtMs >= faultStartMs &&
      incident.detectedAtMs <= faultStartMs + 120_000
    );
  }),
);
console.log(
  `faults while measuring: ${faults.length} (${faults.map((fault) => `${fault.effect} on ${fault.service}`).join(", ")}), ${caught.length} found as incidents; incidents opened while measuring: ${opened.length}`,
);
console.log(`  observe (all commits of a bucket): ${figures(observeTimings)}`);
console.log(`  advance (closing the bucket):      ${figures(advanceTimings)}`);
console.log(
  `detect: ${specs.length} series, whole path (observe + advance) ${figures(wholeTimings)} per bucket, max ${quantileOf(wholeTimings, 1).toFixed(2)} ms (CPU ${figures(cpuTimings)})`,
);
