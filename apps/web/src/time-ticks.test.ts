import { describe, expect, it } from "vitest";
import { timeTicks } from "./time-ticks.ts";

describe("timeTicks", () => {
  it("puts at most maxTicks ticks on round minutes inside the range", () => {
    const from = Date.parse("2026-12-06T06:13:40Z");
    const to = Date.parse("2026-12-06T06:26:10Z");
    const ticks = timeTicks(from, to, 8);
    expect(ticks.length).toBeLessThanOrEqual(8);
    expect(ticks.length).toBeGreaterThan(3);
    expect(ticks.every((tick) => tick >= from && tick <= to && tick % 60_000 === 0)).toBe(true);
    expect(new Set(ticks).size).toBe(ticks.length);
  });

  it("moves to hour steps over a day and returns nothing for an empty range", () => {
    const from = Date.parse("2026-12-05T06:00:00Z");
    const ticks = timeTicks(from, from + 24 * 3_600_000, 8);
    expect((ticks[1] ?? 0) - (ticks[0] ?? 0)).toBe(3 * 3_600_000);
    expect(timeTicks(from, from)).toEqual([]);
  });
});
