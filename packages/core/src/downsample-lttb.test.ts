import { describe, expect, it } from "vitest";
import { downsampleLttb, lttbIndexes } from "./downsample-lttb.ts";

describe("lttbIndexes", () => {
  it("keeps everything when there are no more points than asked for", () => {
    expect(lttbIndexes([1, 2, 3], [5, 6, 7], 3)).toEqual([0, 1, 2]);
    expect(lttbIndexes([], [], 10)).toEqual([]);
  });

  it("keeps the first and the last point and returns exactly maxPoints ascending indexes", () => {
    const xs = Array.from({ length: 10_000 }, (_, index) => index * 10_000);
    const ys = xs.map((_, index) => Math.sin(index / 50) * 100);
    const kept = lttbIndexes(xs, ys, 1000);
    expect(kept).toHaveLength(1000);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(9999);
    expect(kept.every((index, position) => position === 0 || index > (kept[position - 1] as number))).toBe(
      true,
    );
  });

  it("keeps a one-bucket spike that plain decimation would drop", () => {
    const xs = Array.from({ length: 5000 }, (_, index) => index);
    const ys = xs.map((index) => (index === 2503 ? 900 : 1));
    const kept = lttbIndexes(xs, ys, 100);
    expect(kept).toContain(2503);
    const everyFiftieth = xs.filter((index) => index % 50 === 0);
    expect(everyFiftieth).not.toContain(2503);
  });

  it("treats missing values as zero instead of failing", () => {
    const kept = lttbIndexes([0, 1, 2, 3, 4, 5], [1, null, Number.NaN, 9, null, 1], 4);
    expect(kept).toHaveLength(4);
    expect(kept).toContain(3);
  });

  it("keeps only the ends below three points", () => {
    expect(lttbIndexes([0, 1, 2, 3], [0, 1, 2, 3], 2)).toEqual([0, 3]);
  });
});

describe("downsampleLttb", () => {
  it("returns the kept items themselves", () => {
    const items = Array.from({ length: 50 }, (_, index) => ({ t: index, errors: index === 20 ? 50 : 0 }));
    const kept = downsampleLttb(
      items,
      10,
      (item) => item.t,
      (item) => item.errors,
    );
    expect(kept).toHaveLength(10);
    expect(kept).toContainEqual({ t: 20, errors: 50 });
  });
});
