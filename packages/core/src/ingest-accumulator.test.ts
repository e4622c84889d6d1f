import type { NormalizedSpan } from "@faultline/otlp";
import { describe, expect, it } from "vitest";
import { aggregateSpans } from "./aggregate-spans.ts";
import { IngestAccumulator } from "./ingest-accumulator.ts";
import type { IngestAggregate } from "./ingest-aggregate.ts";
import { mergeIngestAggregates } from "./merge-ingest-aggregates.ts";
import { makeResource, makeSpan } from "./test-support/make-span.ts";
import { seededRandom } from "./test-support/seeded-random.ts";

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const services = ["dm-api", "web-gateway", "delivery-worker"].map((serviceName, at) =>
  makeResource({ serviceName, serviceInstanceId: `${serviceName}-1`, serviceVersion: `1.${at}.0` }),
);
const kinds = ["server", "client", "producer", "consumer"] as const;

/** A random request's spans: a few services, operations, kinds, buckets, users and errors. */
function randomRequest(seed: number): NormalizedSpan[] {
  const random = seededRandom(seed);
  return Array.from({ length: 40 + random.int(40) }, () => {
    const kind = kinds[random.int(kinds.length)] ?? "server";
    const error = random.next() < 0.2;
    return makeSpan({
      resource: services[random.int(services.length)],
      name: `op-${random.int(4)}`,
      kind,
      startTimeMs: t0 + random.int(40_000),
      durationMs: random.lognormal(20, 1),
      statusCode: error ? "error" : "unset",
      statusMessage: error ? `failure ${random.int(8)}` : null,
      attributes: {
        userId: `u${random.int(50)}`,
        messagingDestination: kind === "producer" || kind === "consumer" ? `topic-${random.int(2)}` : null,
      },
    });
  });
}

const aggregate = (spans: NormalizedSpan[]): IngestAggregate =>
  aggregateSpans(spans, { defaultEnvironment: "production", nowMs: t0 + 60_000 });

/** Rows in a stable order, sketches as plain objects, for comparing batches built differently. */
function canonical(batch: ReturnType<typeof mergeIngestAggregates>) {
  const byKey = <T>(rows: T[], key: (row: T) => string) =>
    [...rows].sort((a, b) => key(a).localeCompare(key(b)));
  return {
    accepted: batch.accepted,
    seriesBuckets: byKey(batch.seriesBuckets, (row) => `${row.seriesKey}@${row.bucketStartMs}`).map(
      ({ latencyIndexBins, ...row }) => ({
        ...row,
        latencyBins: { ...row.latencyBins },
        userRegisters: { ...row.userRegisters },
        indexTotal: latencyIndexBins?.total,
      }),
    ),
    edges: byKey(batch.edges, (row) => `${row.kind}${row.source}${row.target}${row.bucketStartMs}`),
    exemplars: byKey(batch.exemplars, (row) => `${row.seriesKey}${row.bucketStartMs}${row.fingerprint}`),
    instanceVersions: byKey(batch.instanceVersions, (row) => `${row.service}${row.instanceId}`),
    services: byKey(batch.services, (row) => row.service),
  };
}

describe("IngestAccumulator", () => {
  it("holds exactly what merging the same aggregates in one batch gives", () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const requests = Array.from({ length: 2 + (seed % 5) }, (_, at) => randomRequest(seed * 100 + at));
      const expected = mergeIngestAggregates(requests.map(aggregate), 3);
      const accumulator = new IngestAccumulator();
      for (const request of requests) accumulator.add(aggregate(request));
      expect(canonical(accumulator.toBatch(3))).toEqual(canonical(expected));
      expect(accumulator.accepted).toBe(requests.reduce((sum, request) => sum + request.length, 0));
    }
  });

  it("takes another accumulator in without losing exemplar counts to the cap", () => {
    const first = new IngestAccumulator();
    const second = new IngestAccumulator();
    const requests = [randomRequest(7), randomRequest(8), randomRequest(9)];
    first.add(aggregate(requests[0] ?? []));
    second.add(aggregate(requests[1] ?? []));
    second.add(aggregate(requests[2] ?? []));
    first.add(second.toPart());
    const expected = mergeIngestAggregates(requests.map(aggregate), 2);
    expect(canonical(first.toBatch(2))).toEqual(canonical(expected));
  });

  it("holds thousands of users per bucket, and deltas without numeric bins, exactly", () => {
    const manyUsers = (seed: number): NormalizedSpan[] =>
      randomRequest(seed).map((span, at) => ({
        ...span,
        // Half the spans crowd into one series and bucket.
        ...(at % 2 === 0 ? { name: "op-0", kind: "server" as const, startTimeMs: t0 + 1_000 } : {}),
        attributes: { ...span.attributes, userId: `user-${seed}-${at}` },
      }));
    const requests = Array.from({ length: 80 }, (_, at) => [...manyUsers(at), ...manyUsers(at + 1000)]);
    // Some deltas come without numeric bins (as from a reader of stored rows): the maps take over.
    const parts = (): IngestAggregate[] =>
      requests.map((request, at) => {
        const part = aggregate(request);
        if (at % 7 === 3) for (const delta of part.seriesBuckets) delete delta.latencyIndexBins;
        return part;
      });
    const expected = mergeIngestAggregates(parts(), 3);
    const accumulator = new IngestAccumulator();
    for (const part of parts()) accumulator.add(part);
    const batch = accumulator.toBatch(3);
    expect(canonical(batch)).toEqual(canonical(expected));
    // Some bucket had more distinct registers than the sparse form holds.
    expect(
      Math.max(...batch.seriesBuckets.map((row) => Object.keys(row.userRegisters).length)),
    ).toBeGreaterThan(512);
  });

  it("starts empty and counts the rows a checkpoint would write", () => {
    const accumulator = new IngestAccumulator();
    expect(accumulator.isEmpty).toBe(true);
    expect(accumulator.rowCount).toBe(0);
    const result = aggregate(randomRequest(3));
    const rows = result.seriesBuckets.length + result.edges.length + result.exemplars.length;
    accumulator.add(result);
    expect(accumulator.isEmpty).toBe(false);
    expect(accumulator.rowCount).toBe(rows);
  });
});
