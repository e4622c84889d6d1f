import type { IngestRows } from "@faultline/db";
import { describe, expect, it } from "vitest";
import { inTimeOrderedPieces } from "./in-time-ordered-pieces.ts";

const bucket = (seriesId: number, bucketStartMs: number) => ({
  seriesId,
  stepSeconds: 10,
  bucketStartMs,
  spans: 1,
  errors: 0,
  durationSumMs: 1,
  latencyBins: {},
  userRegisters: {},
});
const edge = (source: string, bucketStartMs: number) => ({
  environment: "production",
  kind: "call",
  source,
  target: "b",
  stepSeconds: 10,
  bucketStartMs,
  count: 1,
  errors: 0,
  delaySumMs: 0,
  delayMaxMs: 0,
  delayCount: 0,
});
const exemplar = (seriesId: number, bucketStartMs: number, fingerprint: string) => ({
  seriesId,
  bucketStartMs,
  fingerprint,
  exceptionType: null,
  message: null,
  stack: null,
  traceId: "t",
  spanId: "s",
  count: 1,
});

function rowsOver(times: number[]): IngestRows {
  return {
    seriesBuckets: times.flatMap((time, index) => [bucket(index, time), bucket(index + 100, time)]),
    edges: times.map((time, index) => edge(`e${index}`, time)),
    exemplars: times.flatMap((time, index) => [exemplar(index, time, "f1"), exemplar(index, time, "f2")]),
    instanceVersions: [
      {
        environment: "production",
        service: "a",
        instanceId: "i",
        version: "1",
        region: null,
        firstSeenMs: 0,
        lastSeenMs: 0,
      },
    ],
    services: [{ environment: "production", name: "a", sdkLanguage: null, firstSeenMs: 0, lastSeenMs: 0 }],
  };
}

describe("inTimeOrderedPieces", () => {
  it("keeps every row once, in pieces of whole bucket times, earliest first, small tables last", () => {
    // Times out of order and repeated, as a checkpoint's merged rows come.
    const times = [50_000, 10_000, 30_000, 10_000, 40_000, 20_000, 30_000, 60_000];
    const rows = rowsOver(times);
    const pieces = inTimeOrderedPieces(rows, 6);
    expect(pieces.length).toBeGreaterThan(2);
    const all = (key: "seriesBuckets" | "edges" | "exemplars"): unknown[] =>
      pieces.flatMap((piece): unknown[] => piece[key]);
    for (const key of ["seriesBuckets", "edges", "exemplars"] as const) {
      const expected: unknown[] = rows[key];
      expect(new Set(all(key))).toEqual(new Set(expected));
      expect(all(key)).toHaveLength(expected.length);
    }
    let previousLast = Number.NEGATIVE_INFINITY;
    for (const piece of pieces) {
      const pieceTimes = [...piece.seriesBuckets, ...piece.edges, ...piece.exemplars].map(
        (row) => row.bucketStartMs,
      );
      // No time is split between pieces, and pieces follow each other in time.
      expect(Math.min(...pieceTimes)).toBeGreaterThan(previousLast);
      previousLast = Math.max(...pieceTimes);
    }
    for (const piece of pieces.slice(0, -1)) {
      expect(piece.instanceVersions).toEqual([]);
      expect(piece.services).toEqual([]);
    }
    expect(pieces.at(-1)?.instanceVersions).toBe(rows.instanceVersions);
    expect(pieces.at(-1)?.services).toBe(rows.services);
  });

  it("gives one piece when the rows fit, and one piece with the small tables when there are no rows", () => {
    const rows = rowsOver([10_000, 20_000]);
    expect(inTimeOrderedPieces(rows, 1_000)).toHaveLength(1);
    const empty = { ...rowsOver([]), seriesBuckets: [], edges: [], exemplars: [] };
    const pieces = inTimeOrderedPieces(empty, 10);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]?.services).toBe(empty.services);
  });
});
