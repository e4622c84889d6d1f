import { describe, expect, it } from "vitest";
import { errorRateGrid } from "./signal-points.ts";

describe("errorRateGrid", () => {
  const minute = 60_000;
  const window = { fromMs: 0, toMs: 180 * minute, stepSeconds: 60 };

  it("sums the buckets a cell covers, so a cell's rate is exact", () => {
    // 180 minutes into at most 60 cells: 3 minutes a cell. Cell 1 holds a clean and a failing minute.
    const grid = errorRateGrid(
      [
        { bucketStartMs: 3 * minute, total: 90, errors: 0 },
        { bucketStartMs: 4 * minute, total: 10, errors: 10 },
        { bucketStartMs: 179 * minute, total: 4, errors: 1 },
      ],
      window,
      60,
    );
    expect(grid.stepMs).toBe(3 * minute);
    expect(grid.values).toHaveLength(60);
    expect(grid.values[1]).toBe(0.1);
    expect(grid.values[59]).toBe(0.25);
    expect(grid.values[0]).toBeNull();
  });

  it("keeps one cell a bucket when they fit, and ignores buckets outside the window", () => {
    const grid = errorRateGrid(
      [
        { bucketStartMs: -minute, total: 5, errors: 5 },
        { bucketStartMs: 0, total: 2, errors: 1 },
        { bucketStartMs: 180 * minute, total: 5, errors: 5 },
      ],
      window,
      500,
    );
    expect(grid.stepMs).toBe(minute);
    expect(grid.values).toHaveLength(180);
    expect(grid.values[0]).toBe(0.5);
    expect(grid.values.filter((value) => value !== null)).toEqual([0.5]);
  });
});
