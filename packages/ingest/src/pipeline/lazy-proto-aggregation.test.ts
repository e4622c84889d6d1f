import { aggregateSpans, IngestAccumulator, SpanJoinIndex } from "@faultline/core";
import { decodeTraceRequestProto, decodeTraceRequestProtoLazily, defaultDecodeLimits } from "@faultline/otlp";
import { describe, expect, it } from "vitest";
import {
  createRandom,
  RandomRequestBuilder,
  renderProto,
} from "../../../otlp/test-support/random-trace-request.ts";
import { generateWorkload } from "../../bench/messaging-workload.ts";

const nowMs = Date.UTC(2026, 0, 15, 12);

/**
 * The pipeline aggregates protobuf requests from the lazy decoder's reused span view; everything stored
 * and handed to detection must be what aggregating fully decoded spans gives. Both sides run the same
 * requests in the same order through their own join index and accumulator.
 */
function aggregateBothWays(bodies: readonly Uint8Array[]) {
  const eagerIndex = new SpanJoinIndex();
  const lazyIndex = new SpanJoinIndex();
  const eagerTotal = new IngestAccumulator();
  const lazyTotal = new IngestAccumulator();
  const context = { defaultEnvironment: "production", nowMs, maxAgeMs: 365 * 24 * 3_600_000 };
  for (const body of bodies) {
    const eager = decodeTraceRequestProto(body, defaultDecodeLimits);
    const lazy = decodeTraceRequestProtoLazily(body, defaultDecodeLimits);
    expect(lazy.rejected).toEqual(eager.rejected);
    const fromEager = aggregateSpans(eager.spans, { ...context, joinIndex: eagerIndex });
    const fromLazy = aggregateSpans(lazy.spans, { ...context, joinIndex: lazyIndex });
    expect(fromLazy).toEqual(fromEager);
    eagerTotal.add(fromEager);
    lazyTotal.add(fromLazy);
  }
  expect(lazyTotal.toBatch(5)).toEqual(eagerTotal.toBatch(5));
  return eagerTotal.toBatch(5);
}

describe("aggregating lazily decoded protobuf", () => {
  it("gives the same aggregates as fully decoded spans on the benchmark's messaging workload", () => {
    const workload = generateWorkload({ count: 12, nowMs, withJson: false, spreadMs: 60_000 });
    const batch = aggregateBothWays(workload.map((request) => request.proto));
    // The workload must exercise what aggregation reads: edges, exemplars, users.
    expect(batch.accepted).toBe(12 * 512);
    expect(batch.edges.some((edge) => edge.kind === "consume" && edge.delayCount > 0)).toBe(true);
    expect(batch.exemplars.length).toBeGreaterThan(0);
    expect(batch.seriesBuckets.some((delta) => Object.keys(delta.userRegisters).length > 0)).toBe(true);
  });

  it("gives the same aggregates as fully decoded spans on seeded random requests", () => {
    const bodies: Uint8Array[] = [];
    for (let seed = 1; seed <= 200; seed += 1) {
      const builder = new RandomRequestBuilder(createRandom(seed));
      bodies.push(renderProto(builder.request(), builder));
    }
    const batch = aggregateBothWays(bodies);
    expect(batch.accepted).toBeGreaterThan(300);
  });
});
