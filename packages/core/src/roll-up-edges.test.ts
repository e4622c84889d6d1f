import { describe, expect, it } from "vitest";
import type { GraphEdgeDelta } from "./ingest-aggregate.ts";
import { rollUpEdges } from "./roll-up-edges.ts";

function edge(bucketStartMs: number, overrides: Partial<GraphEdgeDelta> = {}): GraphEdgeDelta {
  return {
    environment: "production",
    kind: "consume",
    source: "dm.messages",
    target: "delivery-worker",
    stepMs: 10_000,
    bucketStartMs,
    count: 1,
    errors: 0,
    delaySumMs: 10,
    delayMaxMs: 10,
    delayCount: 1,
    ...overrides,
  };
}

describe("rollUpEdges", () => {
  it("adds counts and delay sums and takes the delay max per wider bucket", () => {
    const rolled = rollUpEdges(
      [
        edge(0),
        edge(10_000, { errors: 1, delaySumMs: 40, delayMaxMs: 40 }),
        edge(60_000),
        edge(0, { kind: "publish" }),
      ],
      60_000,
    );
    expect(rolled).toEqual([
      edge(0, { stepMs: 60_000, count: 2, errors: 1, delaySumMs: 50, delayMaxMs: 40, delayCount: 2 }),
      edge(60_000, { stepMs: 60_000 }),
      edge(0, { kind: "publish", stepMs: 60_000 }),
    ]);
    expect(() => rollUpEdges([edge(0)], 25_000)).toThrow(RangeError);
  });
});
