import { expect, it } from "vitest";
import type { DbHandle } from "../create-db.ts";
import { describeEachDatabase } from "../testing/index.ts";
import { ensureSeriesIds, type IngestRows, type SeriesBucketRow, upsertIngestRows } from "./ingest-writer.ts";
import { foldRollups } from "./rollup-fold.ts";
import { readSeriesRange } from "./series-reader.ts";

const hour = Date.parse("2026-11-27T10:00:00Z");
const identity = {
  environment: "fold-test",
  service: "dm-api",
  operation: "POST /v1/dm/messages",
  spanKind: "server",
  destination: null,
  version: "1.0.0",
};

const rows = (seriesBuckets: SeriesBucketRow[]): IngestRows => ({
  seriesBuckets,
  exemplars: [],
  edges: seriesBuckets.map((row) => ({
    environment: "fold-test",
    kind: "call",
    source: "a",
    target: "b",
    stepSeconds: 10,
    bucketStartMs: row.bucketStartMs,
    count: row.spans,
    errors: row.errors,
    delaySumMs: 0,
    delayMaxMs: 0,
    delayCount: 0,
  })),
  instanceVersions: [],
  services: [],
});

async function totals(handle: DbHandle, stepSeconds: number) {
  const series = await readSeriesRange(handle, {
    environment: "fold-test",
    stepSeconds,
    fromMs: hour - 3_600_000,
    toMs: hour + 2 * 3_600_000,
  });
  const points = series.flatMap((one) => one.points);
  const bins: Record<string, number> = {};
  for (const point of points)
    for (const [key, value] of Object.entries(point.latencyBins)) bins[key] = (bins[key] ?? 0) + value;
  return {
    spans: points.reduce((sum, point) => sum + point.spans, 0),
    errors: points.reduce((sum, point) => sum + point.errors, 0),
    bins,
    times: points.map((point) => point.bucketStartMs),
  };
}

async function edgeTotal(handle: DbHandle, stepSeconds: number): Promise<number> {
  const [row] = await handle.query<{ n: string | number | null }>(
    "SELECT sum(count) AS n FROM graph_edges WHERE environment = 'fold-test' AND step_seconds = $1",
    [stepSeconds],
  );
  return Number(row?.n ?? 0);
}

describeEachDatabase("rollup fold", ({ handle: db }) => {
  it("counts every span once at every step before, during and after folds, with late data", async () => {
    const handle = db();
    const [seriesId] = await handle.transaction((query) => ensureSeriesIds(query, [identity]));
    if (seriesId === undefined) throw new Error("no series id");
    const bucket = (offsetMs: number, spans: number, bins: Record<string, number>): SeriesBucketRow => ({
      seriesId,
      stepSeconds: 10,
      bucketStartMs: hour + offsetMs,
      spans,
      errors: 1,
      durationSumMs: spans * 2,
      latencyBins: bins,
      userRegisters: { "3": spans },
    });
    const write = (list: SeriesBucketRow[]) =>
      handle.transaction((query) => upsertIngestRows(query, rows(list)));
    // Edges have no reader yet: their rollups are complete once folded.
    let foldedEdges = 0;
    const expectTotals = async (spans: number, errors: number, bins: Record<string, number>) => {
      for (const step of [10, 60, 3600]) {
        const got = await totals(handle, step);
        expect({ step, spans: got.spans, errors: got.errors, bins: got.bins }).toEqual({
          step,
          spans,
          errors,
          bins,
        });
        expect(await edgeTotal(handle, step)).toBe(step === 10 ? spans : foldedEdges);
      }
    };

    await write([bucket(0, 5, { "10": 5 }), bucket(70_000, 3, { "12": 3 })]);
    await expectTotals(8, 2, { "10": 5, "12": 3 });
    expect((await totals(handle, 60)).times).toEqual([hour, hour + 60_000]);

    expect((await foldRollups(handle)).bucketTimes).toBe(2);
    foldedEdges = 8;
    await expectTotals(8, 2, { "10": 5, "12": 3 });
    expect((await foldRollups(handle)).bucketTimes).toBe(0);

    // Late data into a folded raw row and a new bucket of the same hour, then fold again.
    await write([bucket(0, 2, { "10": 1, "11": 1 }), bucket(3_590_000, 4, { "13": 4 })]);
    await expectTotals(14, 4, { "10": 6, "11": 1, "12": 3, "13": 4 });
    await foldRollups(handle);
    foldedEdges = 14;
    await expectTotals(14, 4, { "10": 6, "11": 1, "12": 3, "13": 4 });
    const hourly = await readSeriesRange(handle, {
      environment: "fold-test",
      stepSeconds: 3600,
      fromMs: hour,
      toMs: hour + 3_600_000,
    });
    expect(hourly[0]?.points).toEqual([
      {
        bucketStartMs: hour,
        spans: 14,
        errors: 4,
        durationSumMs: 28,
        latencyBins: { "10": 6, "11": 1, "12": 3, "13": 4 },
        userRegisters: { "3": 5 },
      },
    ]);
    // A window that starts inside the hour holds no hourly bucket.
    expect(
      await readSeriesRange(handle, {
        environment: "fold-test",
        stepSeconds: 3600,
        fromMs: hour + 1,
        toMs: hour + 3_600_000,
      }),
    ).toEqual([]);
  });

  it("folds series a few at a time into the same rollups as all at once", async () => {
    const handle = db();
    const identities = Array.from({ length: 7 }, (_, index) => ({
      ...identity,
      service: `pieces-${index % 3}`,
      operation: `op-${index}`,
      spanKind: index % 2 === 0 ? "server" : "client",
    }));
    const ids = await handle.transaction((query) => ensureSeriesIds(query, identities));
    const offsetsMs = [0, 10_000, 70_000, 3_590_000];
    const list: SeriesBucketRow[] = [];
    ids.forEach((seriesId, index) => {
      for (const offsetMs of offsetsMs) {
        list.push({
          seriesId,
          stepSeconds: 10,
          bucketStartMs: hour + offsetMs,
          spans: index + 1,
          errors: index % 2,
          durationSumMs: 3 * (index + 1),
          latencyBins: { [String(10 + index)]: index + 1 },
          userRegisters: { [String(index)]: 1 + (offsetMs % 7), "4095": index + 1 },
        });
      }
    });
    // Edges are folded in one statement whatever the pieces: none here.
    await handle.transaction((query) => upsertIngestRows(query, { ...rows(list), edges: [] }));
    const result = await foldRollups(handle, 30, 2);
    expect(result).toEqual({ bucketTimes: 4, seriesRows: 28, rollupRows: 7 * 3 + 7 });

    const hourly = await readSeriesRange(handle, {
      environment: "fold-test",
      stepSeconds: 3600,
      fromMs: hour,
      toMs: hour + 3_600_000,
    });
    const byOperation = new Map(hourly.map((series) => [series.operation, series.points]));
    ids.forEach((_, index) => {
      expect(byOperation.get(`op-${index}`)).toEqual([
        {
          bucketStartMs: hour,
          spans: 4 * (index + 1),
          errors: 4 * (index % 2),
          durationSumMs: 12 * (index + 1),
          latencyBins: { [String(10 + index)]: 4 * (index + 1) },
          userRegisters: {
            [String(index)]: Math.max(...offsetsMs.map((offsetMs) => 1 + (offsetMs % 7))),
            "4095": index + 1,
          },
        },
      ]);
    });
    const services = await handle.query<{
      service: string;
      requests: string | number;
      spans: string | number;
    }>(
      `SELECT service, requests, spans FROM service_buckets
       WHERE environment = 'fold-test' AND step_seconds = 3600 AND service LIKE 'pieces-%' ORDER BY service`,
    );
    const expected = [0, 1, 2].map((service) => {
      const members = [0, 1, 2, 3, 4, 5, 6].filter((index) => index % 3 === service);
      return {
        service: `pieces-${service}`,
        requests: members.filter((index) => index % 2 === 0).reduce((sum, index) => sum + 4 * (index + 1), 0),
        spans: members.reduce((sum, index) => sum + 4 * (index + 1), 0),
      };
    });
    expect(
      services.map((row) => ({
        service: row.service,
        requests: Number(row.requests),
        spans: Number(row.spans),
      })),
    ).toEqual(expected);
    expect((await foldRollups(handle, 30, 2)).bucketTimes).toBe(0);
  });
});
