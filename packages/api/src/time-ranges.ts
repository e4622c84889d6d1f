import { z } from "zod";

/** The range picker's choices. `live` is the last 15 minutes at full resolution, refreshed by polling. */
export const timeRanges = ["live", "1h", "6h", "24h", "7d"] as const;
export type TimeRange = (typeof timeRanges)[number];
export const timeRangeInput = z.enum(timeRanges).default("1h");

const rangeMs: Record<TimeRange, number> = {
  live: 15 * 60_000,
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "24h": 24 * 3_600_000,
  "7d": 7 * 24 * 3_600_000,
};

/** Charts never get more than this many points a series (server-side LTTB beyond it). */
export const maxChartPoints = 1000;

export interface TimeWindow {
  fromMs: number;
  toMs: number;
  stepSeconds: number;
}

/** The finest stored step (10 s raw, 60 s, 3600 s rollups) that keeps a window within `maxPoints`. */
export function stepFor(spanMs: number, maxPoints = maxChartPoints): number {
  for (const seconds of [10, 60, 3600]) if (spanMs / (seconds * 1000) <= maxPoints) return seconds;
  return 3600;
}

/** A range ending now (rounded up to the step so the newest bucket is included). */
export function windowOf(range: TimeRange, nowMs: number, maxPoints = maxChartPoints): TimeWindow {
  const spanMs = rangeMs[range];
  const stepSeconds = stepFor(spanMs, maxPoints);
  const stepMs = stepSeconds * 1000;
  const toMs = Math.ceil((nowMs + 1) / stepMs) * stepMs;
  return { fromMs: toMs - Math.ceil(spanMs / stepMs) * stepMs, toMs, stepSeconds };
}
