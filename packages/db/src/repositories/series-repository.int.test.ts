import { describe, expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import { addSeriesBuckets, ensureSeries, readSeriesBuckets, type SeriesKey } from "./series-repository.ts";

const sendKey: SeriesKey = {
  environment: "production",
  service: "dm-api",
  operation: "POST /v1/dm/messages",
  spanKind: "server",
  destination: null,
  version: "3.42.0",
};
const publishKey: SeriesKey = {
  ...sendKey,
  operation: "send dm.messages",
  spanKind: "producer",
  destination: "dm.messages",
  version: null,
};

describeEachDatabase("series repository", ({ db }) => {
  it("gives one id per series key, treating missing destination and version as equal", async () => {
    const [sendId, publishId] = await ensureSeries(db(), [sendKey, publishKey]);
    const [publishAgain, sendAgain] = await ensureSeries(db(), [publishKey, sendKey]);
    expect(sendId).toBeTypeOf("number");
    expect(publishId).not.toBe(sendId);
    expect(publishAgain).toBe(publishId);
    expect(sendAgain).toBe(sendId);
  });

  it("adds partial aggregates to a bucket in any order with the same result", async () => {
    const [seriesId] = await ensureSeries(db(), [{ ...sendKey, operation: "GET /v1/dm/inbox" }]);
    if (seriesId === undefined) throw new Error("no series id");
    const bucketStart = new Date("2026-11-27T10:00:00Z");
    const base = { seriesId, stepSeconds: 10, bucketStart };
    const writerA = {
      ...base,
      spans: 100,
      errors: 3,
      durationSumMs: 250.5,
      latencyBins: { "10": 60, "12": 40 },
      userRegisters: { "3": 2, "9": 1 },
    };
    const writerB = {
      ...base,
      spans: 50,
      errors: 7,
      durationSumMs: 100,
      latencyBins: { "12": 10, "40": 40 },
      userRegisters: { "3": 5, "11": 1 },
    };
    await addSeriesBuckets(db(), [writerB]);
    await addSeriesBuckets(db(), [writerA]);

    const [bucket] = await readSeriesBuckets(db(), {
      seriesId,
      stepSeconds: 10,
      from: bucketStart,
      to: new Date(bucketStart.getTime() + 10_000),
    });
    expect(bucket).toMatchObject({
      spans: 150,
      errors: 10,
      durationSumMs: 350.5,
      latencyBins: { "10": 60, "12": 50, "40": 40 },
      userRegisters: { "3": 5, "9": 1, "11": 1 },
    });
  });
});

describe("series key identity", () => {
  it("distinguishes a missing destination from an empty one", async () => {
    const { seriesKeyString } = await import("./series-repository.ts");
    expect(seriesKeyString({ ...sendKey, destination: null })).not.toBe(
      seriesKeyString({ ...sendKey, destination: "" }),
    );
  });
});
