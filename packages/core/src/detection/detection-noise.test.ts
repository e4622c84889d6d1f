import { describe, expect, it } from "vitest";
import { latencyBinKeyOf } from "../latency-bin-key-of.ts";
import { emptySketchBins, type SketchBins } from "../sketch-bins.ts";
import { binomial, poisson } from "../test-support/random-counts.ts";
import { type SeededRandom, seededRandom } from "../test-support/seeded-random.ts";
import { DetectionEngine } from "./detection-engine.ts";
import type { IncidentSnapshot, SeriesObservation } from "./detection-types.ts";

// The false-alarm budget: "no more than about one false alarm per series per day". A day of 10 s
// buckets of stationary traffic (Poisson volumes with a daily cycle, binomial errors at a fixed rate,
// lognormal latencies) per series, for several error rates and volumes, through the real engine.

const step = 10_000;
const day = 86_400_000;
const t0 = Date.UTC(2026, 0, 5);

function latencyBins(random: SeededRandom, spans: number): SketchBins {
  const bins = emptySketchBins();
  const samples = Math.min(spans, 16);
  if (samples === 0) return bins;
  const base = Math.floor(spans / samples);
  let extra = spans - base * samples;
  for (let index = 0; index < samples; index += 1) {
    const key = latencyBinKeyOf(random.lognormal(40, 0.5));
    bins[key] = (bins[key] ?? 0) + base + (extra > 0 ? 1 : 0);
    extra -= 1;
  }
  return bins;
}

describe("DetectionEngine on stationary noise", () => {
  it("raises at most about one incident per series-day", () => {
    const rates = [0.001, 0.01, 0.05];
    const volumes = [3, 8, 30, 300, 1500]; // mean spans per 10 s bucket
    const series = rates.flatMap((rate) => volumes.map((volume) => ({ rate, volume })));
    const days = 1;
    const random = seededRandom(9001);
    const engine = new DetectionEngine();
    const incidents = new Map<string, IncidentSnapshot>();
    for (let start = t0; start < t0 + days * day; start += step) {
      // A daily cycle: volume between 50% and 150% of the mean, slow against the 30-minute baseline.
      const cycle = 1 + 0.5 * Math.sin((2 * Math.PI * (start - t0)) / day);
      const batch: SeriesObservation[] = [];
      for (const [index, { rate, volume }] of series.entries()) {
        const spans = poisson(random, volume * cycle);
        if (spans === 0) continue;
        batch.push({
          environment: "production",
          service: `svc-${index}`,
          operation: "GET /",
          spanKind: "server",
          version: "1.0.0",
          bucketStartMs: start,
          spans,
          errors: binomial(random, spans, rate),
          latencyBins: latencyBins(random, spans),
          userRegisters: emptySketchBins(),
        });
      }
      engine.observe(batch, []);
      for (const incident of engine.advance()) incidents.set(incident.id, incident);
    }
    for (const incident of engine.advance(t0 + days * day)) incidents.set(incident.id, incident);

    const seriesDays = series.length * days;
    const byKind = [...incidents.values()].map((incident) => {
      const spec = series[Number(incident.rootService?.slice(4))];
      return `${incident.signal}@${spec?.rate}/${spec?.volume}`;
    });
    console.info(
      `stationary noise: ${incidents.size} incidents in ${seriesDays} series-days (${byKind.join(", ") || "none"})`,
    );
    expect(incidents.size).toBeLessThanOrEqual(seriesDays);
  });
});
