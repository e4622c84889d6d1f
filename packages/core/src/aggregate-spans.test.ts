import type { NormalizedSpan } from "@faultline/otlp";
import { describe, expect, it } from "vitest";
import { aggregateSpans, defaultMaxAgeMs, spanRejectionReasons } from "./aggregate-spans.ts";
import { estimateDistinctUsers } from "./estimate-distinct-users.ts";
import type { GraphEdgeDelta, IngestAggregate } from "./ingest-aggregate.ts";
import { latencyBinKeyOf } from "./latency-bin-key-of.ts";
import { rollUpBuckets } from "./roll-up-buckets.ts";
import { seriesKeyOf } from "./series-key-of.ts";
import { SpanJoinIndex } from "./span-join-index.ts";
import { makeResource, makeSpan } from "./test-support/make-span.ts";
import { seededRandom } from "./test-support/seeded-random.ts";
import { upsertBucketsLikeDb, upsertEdgesLikeDb } from "./test-support/upsert-like-db.ts";

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const context = { defaultEnvironment: "production", nowMs: t0 + 60_000 };

const gateway = makeResource({
  serviceName: "web-gateway",
  serviceInstanceId: "gw-1",
  serviceVersion: "2.0.0",
});
const dmApi = makeResource({ serviceName: "dm-api", serviceInstanceId: "dm-1", serviceVersion: "3.41.2" });
const worker = makeResource({
  serviceName: "delivery-worker",
  serviceInstanceId: "dw-1",
  serviceVersion: "1.4.0",
});

function edgesOf(result: IngestAggregate, kind: GraphEdgeDelta["kind"]): GraphEdgeDelta[] {
  return result.edges.filter((e) => e.kind === kind);
}

describe("aggregateSpans: series buckets", () => {
  it("groups spans by series and 10 s event-time bucket with counts, durations, sketches and users", () => {
    const spans = [
      makeSpan({ resource: dmApi, startTimeMs: t0 + 1000, durationMs: 10, attributes: { userId: "u1" } }),
      makeSpan({ resource: dmApi, startTimeMs: t0 + 9999, durationMs: 30, attributes: { userId: "u2" } }),
      makeSpan({ resource: dmApi, startTimeMs: t0 + 10_000, durationMs: 0, attributes: { userId: "u1" } }),
      makeSpan({ resource: dmApi, startTimeMs: t0 + 2000, name: "GET /v1/dm/inbox", statusCode: "error" }),
    ];
    const result = aggregateSpans(spans, context);
    expect(result.accepted).toBe(4);
    expect(result.rejected.count).toBe(0);
    expect(result.seriesBuckets).toHaveLength(3);
    const [first, second, third] = result.seriesBuckets;
    expect(first).toMatchObject({
      series: {
        environment: "production",
        service: "dm-api",
        operation: "POST /v1/dm/messages",
        spanKind: "server",
        destination: null,
        version: "3.41.2",
      },
      stepMs: 10_000,
      bucketStartMs: t0,
      spans: 2,
      errors: 0,
      durationSumMs: 40,
      latencyBins: { [latencyBinKeyOf(10)]: 1, [latencyBinKeyOf(30)]: 1 },
    });
    expect(Math.round(estimateDistinctUsers(first?.userRegisters ?? {}))).toBe(2);
    expect(first?.seriesKey).toBe(seriesKeyOf(first?.series ?? dummySeries));
    expect(second).toMatchObject({ bucketStartMs: t0 + 10_000, spans: 1, latencyBins: { z: 1 } });
    expect(third).toMatchObject({ spans: 1, errors: 1, userRegisters: {} });
    expect(third?.series.operation).toBe("GET /v1/dm/inbox");
  });

  it("splits series by kind, destination and version, and treats empty names as absent", () => {
    const v2 = { ...dmApi, serviceVersion: "3.42.0" };
    const noVersion = { ...dmApi, serviceVersion: "" };
    const result = aggregateSpans(
      [
        makeSpan({ resource: dmApi, name: "send dm.messages", kind: "producer", startTimeMs: t0 }),
        makeSpan({
          resource: dmApi,
          name: "send dm.messages",
          kind: "producer",
          startTimeMs: t0,
          attributes: { messagingDestination: "dm.messages" },
        }),
        makeSpan({
          resource: dmApi,
          name: "send dm.messages",
          kind: "producer",
          startTimeMs: t0,
          attributes: { messagingDestination: "" },
        }),
        makeSpan({ resource: v2, name: "send dm.messages", kind: "producer", startTimeMs: t0 }),
        makeSpan({ resource: noVersion, name: "send dm.messages", kind: "internal", startTimeMs: t0 }),
      ],
      context,
    );
    expect(
      result.seriesBuckets.map((d) => [d.series.spanKind, d.series.destination, d.series.version, d.spans]),
    ).toEqual([
      ["producer", null, "3.41.2", 2],
      ["producer", "dm.messages", "3.41.2", 1],
      ["producer", null, "3.42.0", 1],
      ["internal", null, null, 1],
    ]);
  });

  it("defaults the environment when the resource names none", () => {
    const result = aggregateSpans(
      [
        makeSpan({ resource: makeResource({ environment: null }), startTimeMs: t0 }),
        makeSpan({ resource: makeResource({ environment: "" }), startTimeMs: t0 }),
        makeSpan({ resource: makeResource({ environment: "staging" }), startTimeMs: t0 }),
      ],
      { ...context, defaultEnvironment: "prod-eu" },
    );
    expect(result.seriesBuckets.map((d) => [d.series.environment, d.spans])).toEqual([
      ["prod-eu", 2],
      ["staging", 1],
    ]);
    expect(result.services.map((s) => s.environment)).toEqual(["prod-eu", "staging"]);
  });

  it("rejects too old, future and broken spans with short reasons and keeps the rest", () => {
    const now = context.nowMs;
    const result = aggregateSpans(
      [
        makeSpan({ startTimeMs: now - defaultMaxAgeMs }),
        makeSpan({ startTimeMs: now - defaultMaxAgeMs - 1 }),
        makeSpan({ startTimeMs: now + 5 * 60_000 }),
        makeSpan({ startTimeMs: now + 5 * 60_000 + 1 }),
        makeSpan({ startTimeMs: now - 1000, durationMs: Number.NaN }),
        makeSpan({ startTimeMs: Number.NaN }),
        makeSpan({ startTimeMs: now - 2000, durationMs: -1 }),
        makeSpan({ startTimeMs: now - 2 * defaultMaxAgeMs }),
      ],
      context,
    );
    expect(result.accepted).toBe(2);
    expect(result.rejected).toEqual({
      count: 6,
      reasons: [spanRejectionReasons.tooOld, spanRejectionReasons.tooNew, spanRejectionReasons.invalid],
      byReason: {
        [spanRejectionReasons.tooOld]: 2,
        [spanRejectionReasons.tooNew]: 1,
        [spanRejectionReasons.invalid]: 3,
      },
    });
    expect(result.seriesBuckets.reduce((n, d) => n + d.spans, 0)).toBe(2);
  });

  it("honours configured bounds", () => {
    const result = aggregateSpans(
      [makeSpan({ startTimeMs: t0 - 3_600_001 }), makeSpan({ startTimeMs: t0 + 1001 })],
      {
        defaultEnvironment: "production",
        nowMs: t0,
        maxAgeMs: 3_600_000,
        maxFutureSkewMs: 1000,
      },
    );
    expect(result.accepted).toBe(0);
    expect(result.rejected.count).toBe(2);
    expect(() => aggregateSpans([], { ...context, nowMs: Number.NaN })).toThrow(RangeError);
    expect(() => aggregateSpans([], { ...context, maxAgeMs: -1 })).toThrow(RangeError);
  });

  it("merges a late span into its original event-time bucket", () => {
    const sixDaysAgo = context.nowMs - 6 * 24 * 3_600_000 + 12_345;
    const result = aggregateSpans([makeSpan({ startTimeMs: sixDaysAgo })], context);
    expect(result.seriesBuckets[0]?.bucketStartMs).toBe(Math.floor(sixDaysAgo / 10_000) * 10_000);
  });

  it("keeps every accepted span in exactly one bucket, however the input is split (seeded property test)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(seed);
      const spans = randomSpans(random, 600);
      const whole = aggregateSpans(spans, context);
      expect(whole.seriesBuckets.reduce((n, d) => n + d.spans, 0)).toBe(whole.accepted);
      expect(whole.accepted + whole.rejected.count).toBe(spans.length);

      // The same spans in random batches, upserted like the database does, give the same rows.
      const batches: IngestAggregate[] = [];
      for (let i = 0; i < spans.length; ) {
        const size = 1 + random.int(120);
        batches.push(aggregateSpans(spans.slice(i, i + size), context));
        i += size;
      }
      const deltas = batches.flatMap((b) => b.seriesBuckets);
      expect(batches.reduce((n, b) => n + b.accepted, 0)).toBe(whole.accepted);
      expect(deltas.reduce((n, d) => n + d.spans, 0)).toBe(whole.accepted);
      expect(normalizeRows(upsertBucketsLikeDb(deltas))).toEqual(
        normalizeRows(upsertBucketsLikeDb(whole.seriesBuckets)),
      );
      // Rolling each batch up and upserting equals rolling everything up at once.
      expect(
        normalizeRows(upsertBucketsLikeDb(batches.flatMap((b) => rollUpBuckets(b.seriesBuckets, 60_000)))),
      ).toEqual(normalizeRows(upsertBucketsLikeDb(rollUpBuckets(whole.seriesBuckets, 60_000))));
    }
  });

  it("is deterministic", () => {
    const spans = randomSpans(seededRandom(42), 400);
    expect(aggregateSpans(spans, context)).toEqual(aggregateSpans(spans, context));
  });
});

describe("aggregateSpans: error exemplars", () => {
  const error = (
    message: string | null,
    type: string | null = "java.lang.NullPointerException",
    extra = {},
  ) =>
    makeSpan({
      startTimeMs: t0,
      statusCode: "error",
      exception: { type, message, stack: "at Foo.bar(Foo.java:42)" },
      ...extra,
    });

  it("groups errors by type and normalized message with a count and the first span as example", () => {
    const spans = [
      error("user 17 not found"),
      error("user 99 not found"),
      error("user 99 not found", "NotFound"),
      makeSpan({
        startTimeMs: t0,
        statusCode: "error",
        statusMessage: "upstream 503",
        attributes: { errorType: "503" },
      }),
    ];
    const result = aggregateSpans(spans, context);
    expect(result.exemplars).toHaveLength(3);
    expect(result.exemplars[0]).toMatchObject({
      exceptionType: "java.lang.NullPointerException",
      message: "user 17 not found",
      stack: "at Foo.bar(Foo.java:42)",
      traceId: spans[0]?.traceId,
      spanId: spans[0]?.spanId,
      count: 2,
      bucketStartMs: t0,
      seriesKey: result.seriesBuckets[0]?.seriesKey,
    });
    expect(result.exemplars[1]).toMatchObject({ exceptionType: "NotFound", count: 1 });
    expect(result.exemplars[2]).toMatchObject({ exceptionType: "503", message: "upstream 503", stack: null });
    expect(result.exemplars[0]?.fingerprint).not.toBe(result.exemplars[1]?.fingerprint);
  });

  it("keeps the N most frequent fingerprints per series and bucket, ties in first-seen order", () => {
    const spans = [
      error("a"),
      error("b"),
      error("c"),
      error("c"),
      error("d"),
      error("e"),
      error("b"),
      error("f"),
      error("a", null, { startTimeMs: t0 + 10_000 }),
    ];
    const result = aggregateSpans(spans, { ...context, maxExemplarsPerBucket: 3 });
    expect(result.exemplars.map((e) => [e.bucketStartMs - t0, e.message, e.count])).toEqual([
      [0, "b", 2],
      [0, "c", 2],
      [0, "a", 1],
      [10_000, "a", 1],
    ]);
    expect(result.seriesBuckets[0]?.errors).toBe(8);
    expect(aggregateSpans(spans, { ...context, maxExemplarsPerBucket: 0 }).exemplars).toEqual([]);
    // Default cap 5: six fingerprints in the first bucket, one in the second.
    expect(aggregateSpans(spans, context).exemplars).toHaveLength(6);
  });
});

describe("aggregateSpans: graph edges", () => {
  const clientSpan = makeSpan({
    resource: gateway,
    kind: "client",
    name: "POST /v1/dm/messages",
    spanId: "c000000000000001",
    startTimeMs: t0 + 9_990,
    durationMs: 50,
  });
  const serverSpan = makeSpan({
    resource: dmApi,
    kind: "server",
    spanId: "s000000000000001",
    parentSpanId: "c000000000000001",
    startTimeMs: t0 + 10_005,
    durationMs: 30,
  });

  it("emits a call edge once when the caller's CLIENT span comes first", () => {
    const index = new SpanJoinIndex();
    const first = aggregateSpans([clientSpan], { ...context, joinIndex: index });
    const second = aggregateSpans([serverSpan], { ...context, joinIndex: index });
    expect(edgesOf(first, "call")).toEqual([]);
    expect(edgesOf(second, "call")).toEqual([
      {
        environment: "production",
        kind: "call",
        source: "web-gateway",
        target: "dm-api",
        stepMs: 10_000,
        bucketStartMs: t0 + 10_000,
        count: 1,
        errors: 0,
        delaySumMs: 0,
        delayMaxMs: 0,
        delayCount: 0,
      },
    ]);
  });

  it("emits the same call edge once when the callee's SERVER span comes first", () => {
    const index = new SpanJoinIndex();
    const first = aggregateSpans([serverSpan], { ...context, joinIndex: index });
    expect(index.waitingCount).toBe(1);
    const second = aggregateSpans([clientSpan], { ...context, joinIndex: index });
    expect(edgesOf(first, "call")).toEqual([]);
    // The edge lands in the callee's bucket even though the caller span is in the previous one.
    expect(edgesOf(second, "call")).toMatchObject([
      { source: "web-gateway", target: "dm-api", bucketStartMs: t0 + 10_000 },
    ]);
    expect(index.waitingCount).toBe(0);
    // A replay of the client alone adds nothing more.
    expect(edgesOf(aggregateSpans([{ ...clientSpan }], { ...context, joinIndex: index }), "call")).toEqual(
      [],
    );
  });

  it("joins within one batch in either order without a shared index, not across batches", () => {
    for (const batch of [
      [clientSpan, serverSpan],
      [serverSpan, clientSpan],
    ]) {
      expect(edgesOf(aggregateSpans(batch, context), "call")).toMatchObject([{ count: 1 }]);
    }
    aggregateSpans([serverSpan], context);
    expect(edgesOf(aggregateSpans([clientSpan], context), "call")).toEqual([]);
  });

  it("counts an error on either side of a call, and no edge inside one service", () => {
    const failingClient = { ...clientSpan, statusCode: "error" as const };
    expect(edgesOf(aggregateSpans([failingClient, serverSpan], context), "call")[0]?.errors).toBe(1);
    const failingServer = { ...serverSpan, statusCode: "error" as const };
    expect(edgesOf(aggregateSpans([clientSpan, failingServer], context), "call")[0]?.errors).toBe(1);
    const local = { ...serverSpan, resource: gateway };
    expect(edgesOf(aggregateSpans([clientSpan, local], context), "call")).toEqual([]);
  });

  const producer = makeSpan({
    resource: dmApi,
    kind: "producer",
    name: "send dm.messages",
    spanId: "p000000000000001",
    startTimeMs: t0 + 1000,
    durationMs: 4,
    attributes: { messagingDestination: "dm.messages", messagingSystem: "kafka" },
  });
  const viaParent = makeSpan({
    resource: worker,
    kind: "consumer",
    name: "process dm.messages",
    parentSpanId: "p000000000000001",
    startTimeMs: t0 + 1254,
    attributes: { messagingDestination: "dm.messages" },
  });
  const viaLink = makeSpan({
    resource: worker,
    kind: "consumer",
    name: "process dm.messages",
    traceId: "1111111111111111aaaaaaaaaaaaaaaa",
    links: [{ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "p000000000000001" }],
    startTimeMs: t0 + 1504,
    attributes: { messagingDestination: "dm.messages" },
  });

  it("emits publish and consume edges with the publish-to-process delay, through the parent or a link, in both orders", () => {
    for (const consumer of [viaParent, viaLink]) {
      const expectedDelay = consumer.startTimeMs - (producer.startTimeMs + producer.durationMs);
      for (const order of [
        [[producer], [consumer]],
        [[consumer], [producer]],
        [[producer, consumer]],
        [[consumer, producer]],
      ]) {
        const index = new SpanJoinIndex();
        const results = order.map((batch) => aggregateSpans(batch, { ...context, joinIndex: index }));
        const edges = [...upsertEdgesLikeDb(results.flatMap((r) => r.edges)).values()];
        expect(edges.filter((e) => e.kind === "publish")).toMatchObject([
          { source: "dm-api", target: "dm.messages", count: 1, errors: 0, bucketStartMs: t0 },
        ]);
        expect(edges.filter((e) => e.kind === "consume")).toEqual([
          {
            environment: "production",
            kind: "consume",
            source: "dm.messages",
            target: "delivery-worker",
            stepMs: 10_000,
            bucketStartMs: t0,
            count: 1,
            errors: 0,
            delaySumMs: expectedDelay,
            delayMaxMs: expectedDelay,
            delayCount: 1,
          },
        ]);
      }
    }
  });

  it("counts a consumer whose producer is never seen, without a delay", () => {
    const lonely = { ...viaParent, parentSpanId: "ffffffffffffffff", statusCode: "error" as const };
    expect(edgesOf(aggregateSpans([lonely], context), "consume")).toMatchObject([
      { count: 1, errors: 1, delayCount: 0, delaySumMs: 0 },
    ]);
  });

  it("takes the destination from the producer when the consumer has none, and counts it once", () => {
    const bare = { ...viaParent, attributes: { ...viaParent.attributes, messagingDestination: null } };
    const withLinkToo = {
      ...bare,
      links: [
        { traceId: producer.traceId, spanId: "p000000000000001" },
        { traceId: producer.traceId, spanId: "p000000000000002" },
      ],
    };
    const producer2 = { ...producer, spanId: "p000000000000002", startTimeMs: t0 + 1100 };
    for (const batches of [
      [[producer, producer2], [withLinkToo]],
      [[withLinkToo], [producer2, producer]],
      [[producer], [withLinkToo], [producer2]],
    ]) {
      const index = new SpanJoinIndex();
      const edges = [
        ...upsertEdgesLikeDb(
          batches.flatMap((b) => aggregateSpans(b, { ...context, joinIndex: index }).edges),
        ).values(),
      ].filter((e) => e.kind === "consume");
      // Two producers (the parent repeated as a link counts once): one consumer span, two delays.
      expect(edges).toMatchObject([
        { source: "dm.messages", target: "delivery-worker", count: 1, delayCount: 2 },
      ]);
      expect(edges[0]?.delaySumMs).toBe(250 + 150);
      expect(edges[0]?.delayMaxMs).toBe(250);
    }
  });

  it("clamps a negative delay (clock skew) to zero", () => {
    const early = { ...viaParent, startTimeMs: producer.startTimeMs };
    expect(edgesOf(aggregateSpans([producer, early], context), "consume")).toMatchObject([
      { delaySumMs: 0, delayMaxMs: 0, delayCount: 1 },
    ]);
  });

  it("loses only the edge, never a series count, when the index evicts a waiting child", () => {
    const index = new SpanJoinIndex({ maxWaiting: 1 });
    const other = { ...serverSpan, spanId: "s000000000000002", parentSpanId: "c0000000000000ff" };
    const first = aggregateSpans([serverSpan, other], { ...context, joinIndex: index });
    expect(index.evictedWaiting).toBe(1);
    expect(edgesOf(aggregateSpans([clientSpan], { ...context, joinIndex: index }), "call")).toEqual([]);
    expect(first.accepted).toBe(2);
  });
});

describe("aggregateSpans: versions and services seen", () => {
  it("reports each (environment, service, instance, version) and service with first/last event time", () => {
    const bare = makeResource({
      serviceName: "media",
      serviceInstanceId: null,
      serviceVersion: null,
      sdkLanguage: null,
    });
    const result = aggregateSpans(
      [
        makeSpan({ resource: dmApi, startTimeMs: t0 + 5000 }),
        makeSpan({ resource: dmApi, startTimeMs: t0 + 1000 }),
        makeSpan({ resource: { ...dmApi, serviceVersion: "3.42.0" }, startTimeMs: t0 + 3000 }),
        makeSpan({ resource: bare, startTimeMs: t0 }),
        makeSpan({ resource: { ...bare, sdkLanguage: "webjs", region: "eu-west-1" }, startTimeMs: t0 + 1 }),
      ],
      context,
    );
    expect(result.instanceVersions).toEqual([
      {
        environment: "production",
        service: "dm-api",
        instanceId: "dm-1",
        version: "3.41.2",
        region: null,
        firstSeenMs: t0 + 1000,
        lastSeenMs: t0 + 5000,
      },
      {
        environment: "production",
        service: "dm-api",
        instanceId: "dm-1",
        version: "3.42.0",
        region: null,
        firstSeenMs: t0 + 3000,
        lastSeenMs: t0 + 3000,
      },
      {
        environment: "production",
        service: "media",
        instanceId: "",
        version: "",
        region: "eu-west-1",
        firstSeenMs: t0,
        lastSeenMs: t0 + 1,
      },
    ]);
    expect(result.services).toEqual([
      {
        environment: "production",
        service: "dm-api",
        sdkLanguage: "go",
        firstSeenMs: t0 + 1000,
        lastSeenMs: t0 + 5000,
      },
      {
        environment: "production",
        service: "media",
        sdkLanguage: "webjs",
        firstSeenMs: t0,
        lastSeenMs: t0 + 1,
      },
    ]);
  });
});

const dummySeries = {
  environment: "",
  service: "",
  operation: "",
  spanKind: "server" as const,
  destination: null,
  version: null,
};

function normalizeRows(rows: Map<string, { latencyBins: object; userRegisters: object }>): unknown {
  // Key order inside sketch objects differs between merge orders; compare as sorted entries.
  return [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, row]) => ({
      key,
      ...row,
      latencyBins: Object.entries(row.latencyBins).sort(),
      userRegisters: Object.entries(row.userRegisters).sort(),
    }));
}

function randomSpans(random: ReturnType<typeof seededRandom>, n: number): NormalizedSpan[] {
  const resources = [
    gateway,
    dmApi,
    worker,
    { ...dmApi, serviceVersion: "3.42.0", serviceInstanceId: "dm-2" },
  ];
  const names = ["GET /a", "POST /b", "process q"];
  const kinds = ["server", "client", "consumer", "producer", "internal"] as const;
  const spans: NormalizedSpan[] = [];
  for (let i = 0; i < n; i++) {
    const age = random.next() < 0.05 ? defaultMaxAgeMs + 1000 : random.int(3_600_000);
    spans.push(
      makeSpan({
        resource: resources[random.int(resources.length)] ?? gateway,
        name: names[random.int(names.length)] ?? "x",
        kind: kinds[random.int(kinds.length)] ?? "server",
        spanId: random.hex16(),
        parentSpanId: random.next() < 0.5 ? random.hex16() : null,
        startTimeMs: context.nowMs - age + (random.next() < 0.02 ? 10 * 60_000 + age : 0),
        durationMs: random.next() < 0.05 ? 0 : random.lognormal(20, 1),
        statusCode: random.next() < 0.1 ? "error" : "unset",
        attributes: {
          userId: random.next() < 0.7 ? `user-${random.int(50)}` : null,
          messagingDestination: random.next() < 0.2 ? "q" : null,
        },
      }),
    );
  }
  return spans;
}
