/**
 * Cost of detection per closed 10-second bucket over 10 000 active series: 500 services × 20 operations
 * (server spans), Poisson volumes of 5–200 spans per bucket, ~1% errors, latency sketches of a few dozen
 * bins, call edges between services (each calls three others). A warm-up is fed first (its buckets close
 * as they go): by default just over the 30-minute baseline window, so every ring, baseline and the recent
 * graph are full and sliding when measuring starts; then each further bucket is observed and `advance()`
 * timed alone.
 *
 *   npx tsx packages/core/bench/detect-bench.ts [--services N] [--operations N] [--buckets N] [--warmup N]
 */
import { defaultDetectionConfig } from "../src/detection/detection-config.ts";
import { DetectionEngine } from "../src/detection/detection-engine.ts";
import type { EdgeObservation, SeriesObservation } from "../src/detection/detection-types.ts";
import { latencyBinKeyOf } from "../src/latency-bin-key-of.ts";
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
// size class are reused (the engine reads them when their bucket closes and keeps no copy).
const specs = Array.from({ length: services * operations }, (_, index) => ({
  service: `svc-${Math.floor(index / operations)}`,
  operation: `op-${index % operations}`,
  volume: 5 + Math.floor(random.next() ** 2 * 195),
  errorRate: 0.002 + random.next() * 0.02,
  medianMs: 5 + random.next() * 200,
}));
const sketchPool: SketchBins[][] = specs.map((spec) =>
  Array.from({ length: 4 }, () => {
    const bins = emptySketchBins();
    for (let sample = 0; sample < 40; sample += 1) {
      const key = latencyBinKeyOf(random.lognormal(spec.medianMs, 0.5));
      bins[key] = (bins[key] ?? 0) + Math.max(1, Math.round(spec.volume / 40));
    }
    return bins;
  }),
);
const calls = Array.from({ length: services * 3 }, (_, index) => ({
  source: `svc-${Math.floor(index / 3)}`,
  target: `svc-${(Math.floor(index / 3) * 7 + (index % 3) * 13 + 1) % services}`,
}));

function bucketAt(start: number): { series: SeriesObservation[]; edges: EdgeObservation[] } {
  const series: SeriesObservation[] = [];
  const spansOf = new Map<string, number>();
  for (const [index, spec] of specs.entries()) {
    const spans = poisson(spec.volume);
    if (spans === 0) continue;
    spansOf.set(spec.service, (spansOf.get(spec.service) ?? 0) + spans);
    series.push({
      environment: "production",
      service: spec.service,
      operation: spec.operation,
      spanKind: "server",
      version: "1.0.0",
      bucketStartMs: start,
      spans,
      errors: poisson(spans * spec.errorRate),
      latencyBins: sketchPool[index]?.[random.int(4)] ?? emptySketchBins(),
      userRegisters: emptySketchBins(),
    });
  }
  const edges: EdgeObservation[] = calls.map(({ source, target }) => {
    const count = Math.round((spansOf.get(source) ?? 0) / 3);
    return {
      environment: "production",
      kind: "call",
      source,
      target,
      bucketStartMs: start,
      count,
      errors: poisson(count * 0.005),
    };
  });
  return { series, edges };
}

const engine = new DetectionEngine();
const warmStarted = performance.now();
for (let bucket = 0; bucket < warmupBuckets; bucket += 1) {
  const { series, edges } = bucketAt(t0 + bucket * step);
  engine.observe(series, edges);
  engine.advance();
}
console.log(
  `warm-up: ${warmupBuckets} buckets of ${specs.length} series in ${((performance.now() - warmStarted) / 1000).toFixed(1)} s`,
);

const timings: number[] = [];
const observeTimings: number[] = [];
let incidents = 0;
for (let bucket = warmupBuckets; bucket < warmupBuckets + measured; bucket += 1) {
  const { series, edges } = bucketAt(t0 + bucket * step);
  const observing = performance.now();
  engine.observe(series, edges);
  observeTimings.push(performance.now() - observing);
  const started = performance.now();
  incidents += engine.advance().length;
  timings.push(performance.now() - started);
}
timings.sort((a, b) => a - b);
observeTimings.sort((a, b) => a - b);
const quantileOf = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const quantile = (q: number) => quantileOf(timings, q);
const median = quantile(0.5);
const p99 = quantile(0.99);
console.log(`measured ${timings.length} closed buckets; incident updates during them: ${incidents}`);
console.log(`min ${quantile(0).toFixed(2)} ms, max ${quantile(1).toFixed(2)} ms`);
// observe() reads the latency sketches of busy series as data arrives (not at bucket close): shown apart.
console.log(
  `observe (all of a bucket's series, outside the figure below): median ${quantileOf(observeTimings, 0.5).toFixed(2)} ms, p99 ${quantileOf(observeTimings, 0.99).toFixed(2)} ms`,
);
console.log(
  `detect: ${specs.length} series, median ${median.toFixed(2)} ms/bucket, p99 ${p99.toFixed(2)} ms/bucket`,
);
