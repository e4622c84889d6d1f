import { describe, expect, it } from "vitest";
import { isCheckpointDue } from "./is-checkpoint-due.ts";

const bound = 2_000_000;

describe("isCheckpointDue", () => {
  it("starts the first checkpoint at once, and the next after a short one at the next tick", () => {
    expect(
      isCheckpointDue({
        nowMs: 10,
        lastEndedAtMs: Number.NEGATIVE_INFINITY,
        lastDurationMs: 0,
        uncheckpointedSpans: 1,
        maxUncheckpointedSpans: bound,
      }),
    ).toBe(true);
    const afterShort = { lastEndedAtMs: 1_000, lastDurationMs: 100, uncheckpointedSpans: 5_000 };
    expect(isCheckpointDue({ ...afterShort, nowMs: 1_150, maxUncheckpointedSpans: bound })).toBe(false);
    expect(isCheckpointDue({ ...afterShort, nowMs: 1_200, maxUncheckpointedSpans: bound })).toBe(true);
  });

  it("after a long checkpoint waits twice its duration, unless a quarter of the bound is waiting", () => {
    const afterLong = { lastEndedAtMs: 10_000, lastDurationMs: 3_000, maxUncheckpointedSpans: bound };
    expect(isCheckpointDue({ ...afterLong, nowMs: 15_999, uncheckpointedSpans: 100_000 })).toBe(false);
    expect(isCheckpointDue({ ...afterLong, nowMs: 16_000, uncheckpointedSpans: 100_000 })).toBe(true);
    expect(isCheckpointDue({ ...afterLong, nowMs: 11_000, uncheckpointedSpans: bound / 4 })).toBe(true);
  });
});
