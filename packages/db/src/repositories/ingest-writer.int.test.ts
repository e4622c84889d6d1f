import { expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import {
  ensureSeriesIds,
  type IngestRows,
  maxRowsPerUpsert,
  type SeriesBucketRow,
  type SeriesIdentityRow,
  upsertIngestRows,
} from "./ingest-writer.ts";
import { readSeriesRange } from "./series-reader.ts";

const sendSeries: SeriesIdentityRow = {
  environment: "production",
  service: "dm-api",
  operation: "POST /v1/dm/messages",
  spanKind: "server",
  destination: null,
  version: "3.42.0",
};
const publishSeries: SeriesIdentityRow = {
  ...sendSeries,
  operation: "send dm.messages",
  spanKind: "producer",
  destination: "dm.messages",
  version: null,
};

const onlyBuckets = (seriesBuckets: SeriesBucketRow[]): IngestRows => ({
  seriesBuckets,
  exemplars: [],
  edges: [],
  instanceVersions: [],
  services: [],
});

describeEachDatabase("ingest writer", ({ handle }) => {
  it("gives one id per series identity, treating missing destination and version as equal", async () => {
    const [sendId, publishId] = await handle().transaction((query) =>
      ensureSeriesIds(query, [sendSeries, publishSeries]),
    );
    const [publishAgain, sendAgain] = await handle().transaction((query) =>
      ensureSeriesIds(query, [publishSeries, sendSeries]),
    );
    expect(sendId).toBeTypeOf("number");
    expect(publishId).not.toBe(sendId);
    expect(publishAgain).toBe(publishId);
    expect(sendAgain).toBe(sendId);
  });

  it("adds partial aggregates to a bucket in any order with the same result", async () => {
    const inbox = { ...sendSeries, operation: "GET /v1/dm/inbox" };
    const [seriesId] = await handle().transaction((query) => ensureSeriesIds(query, [inbox]));
    if (seriesId === undefined) throw new Error("no series id");
    const bucketStartMs = Date.parse("2026-11-27T10:00:00Z");
    const base = { seriesId, stepSeconds: 10, bucketStartMs };
    const writerA = {
      ...base,
      spans: 100,
      errors: 3,
      durationSumMs: 250.5,
      latencyBins: { b10: 60, b12: 40 },
      userRegisters: { r3: 2, r9: 1 },
    };
    const writerB = {
      ...base,
      spans: 50,
      errors: 7,
      durationSumMs: 100,
      latencyBins: { b12: 10, b40: 40 },
      userRegisters: { r3: 5, r11: 1 },
    };
    await handle().transaction((query) => upsertIngestRows(query, onlyBuckets([writerB])));
    await handle().transaction((query) => upsertIngestRows(query, onlyBuckets([writerA])));

    const [stored] = await readSeriesRange(handle(), {
      environment: "production",
      service: "dm-api",
      operation: "GET /v1/dm/inbox",
      stepSeconds: 10,
      fromMs: bucketStartMs,
      toMs: bucketStartMs + 10_000,
    });
    expect(stored?.points).toEqual([
      {
        bucketStartMs,
        spans: 150,
        errors: 10,
        durationSumMs: 350.5,
        latencyBins: { b10: 60, b12: 50, b40: 40 },
        userRegisters: { r3: 5, r9: 1, r11: 1 },
      },
    ]);
  });

  it("writes a commit larger than one upsert statement takes, every row once", async () => {
    const outbox = { ...sendSeries, operation: "GET /v1/dm/outbox" };
    const [seriesId] = await handle().transaction((query) => ensureSeriesIds(query, [outbox]));
    if (seriesId === undefined) throw new Error("no series id");
    const firstBucketMs = Date.parse("2026-11-20T00:00:00Z");
    const rowCount = 2 * maxRowsPerUpsert + 1;
    const rows = Array.from({ length: rowCount }, (_, index) => ({
      seriesId,
      stepSeconds: 10,
      bucketStartMs: firstBucketMs + index * 10_000,
      spans: index + 1,
      errors: 0,
      durationSumMs: 1,
      latencyBins: { b10: index + 1 },
      userRegisters: { r1: 1 },
    }));
    await handle().transaction((query) => upsertIngestRows(query, onlyBuckets(rows)));

    const [stored] = await handle().query<{ rows: string | number; spans: string | number }>(
      "SELECT count(*) AS rows, sum(spans) AS spans FROM series_buckets WHERE series_id = $1 AND step_seconds = 10",
      [seriesId],
    );
    expect({ rows: Number(stored?.rows), spans: Number(stored?.spans) }).toEqual({
      rows: rowCount,
      spans: (rowCount * (rowCount + 1)) / 2,
    });
  });
});
