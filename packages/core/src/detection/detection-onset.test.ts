import { describe, expect, it } from "vitest";
import { latencyBinKeyOf } from "../latency-bin-key-of.ts";
import { emptySketchBins } from "../sketch-bins.ts";
import { DetectionEngine } from "./detection-engine.ts";
import type { SeriesObservation } from "./detection-types.ts";

// The onset of an error alarm on a low-volume series. There a stray error or two lifts the CUSUM by
// several nats while each quiet bucket takes back only a tenth of one, so the run stays open for many
// minutes after the strays; the onset must still be where the failure starts, not at the strays.

const step = 10_000;
const minute = 60_000;
/** Monday 2026-01-05 00:00 UTC: bucket-aligned. */
const t0 = Date.UTC(2026, 0, 5);

function bucket(startMs: number, spans: number, errors: number): SeriesObservation {
  const latencyBins = emptySketchBins();
  latencyBins[latencyBinKeyOf(9)] = spans;
  return {
    environment: "production",
    service: "web-gateway",
    operation: "GET /api/profile/{id}",
    spanKind: "server",
    version: "5.3.1",
    bucketStartMs: startMs,
    spans,
    errors,
    latencyBins,
    userRegisters: emptySketchBins(),
  };
}

describe("DetectionEngine: error-alarm onset on a low-volume series", () => {
  it("puts the onset at the failure, not at stray errors minutes before it", () => {
    const straysAt = t0 + 40 * minute;
    const failureAt = t0 + 48 * minute;
    const errorsAt = new Map([
      // Three stray errors: too few to alarm (minAlarmErrors), enough to keep the run open.
      [straysAt, 2],
      [straysAt + minute, 1],
    ]);
    const engine = new DetectionEngine();
    for (let start = t0; start < failureAt + 3 * minute; start += step) {
      const spans = 8;
      const errors = start >= failureAt ? 4 : (errorsAt.get(start) ?? 0);
      engine.observe([bucket(start, spans, errors)], []);
      engine.advance();
    }
    engine.advance(failureAt + 4 * minute);
    const incidents = engine.allIncidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.signal).toBe("error_rate");
    expect(incidents[0]?.detectedAtMs).toBeGreaterThan(failureAt);
    expect(Math.abs((incidents[0]?.startedAtMs ?? 0) - failureAt)).toBeLessThanOrEqual(step);
  });
});
