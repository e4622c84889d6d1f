import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { MessagingPlatform } from "./messaging-platform.ts";
import { createNatsBroker } from "./nats-broker.ts";
import { ServiceTelemetry } from "./service-telemetry.ts";
import { brokerUnderTest } from "./testing/broker-under-test.ts";

// The dm-api → dm.messages → delivery-worker hop over the real NATS JetStream on this machine, traced
// by the broker into each instance's own SDK. Skipped when no server listens, unless
// FAULTLINE_REQUIRE_BROKERS=1 (CI), where an unreachable server fails the test.

const natsUrl = process.env.FAULTLINE_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

const available = await brokerUnderTest(natsUrl, 4222, "NATS JetStream");
const resource = (span: ReadableSpan, key: string) => span.resource.attributes[key];

describe.skipIf(!available)("the delivery hop over NATS JetStream", () => {
  it("links each consumer span to its producer span across the broker, each on its own service's SDK", async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = new ServiceTelemetry({
      otlpHttpUrl: "http://unused",
      environment: "test",
      idSeed: "nats",
      exporterFactory: () => exporter,
    });
    let platform: MessagingPlatform | undefined;
    const broker = await createNatsBroker(
      { url: natsUrl, prefix: `faultline-test-${process.pid}.`, deleteStreamOnClose: true },
      (kind) => {
        if (!platform) throw new Error("platform not built yet");
        return platform.messagingTracer(kind);
      },
    );
    platform = new MessagingPlatform({ telemetry, broker, seed: "nats", rootRate: 40 });
    try {
      const now = Date.now();
      await platform.simulate(now - 3_000, now);
    } finally {
      await broker.close();
    }
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const producers = spans.filter((span) => span.kind === SpanKind.PRODUCER);
    const consumers = spans.filter((span) => span.kind === SpanKind.CONSUMER);
    expect(producers.length).toBeGreaterThan(5);
    expect(consumers).toHaveLength(producers.length);
    const producerIds = new Set(producers.map((span) => span.spanContext().spanId));
    const messageIdOf = new Map(
      producers.map((span) => [span.spanContext().spanId, span.attributes["messaging.message.id"]]),
    );
    for (const producer of producers) {
      expect(resource(producer, "service.name")).toBe("dm-api");
      expect(producer.name).toBe("send dm.messages");
      expect(producer.attributes["messaging.destination.name"]).toBe("dm.messages");
      expect(producer.attributes["messaging.operation.type"]).toBe("send");
      expect(producer.attributes["messaging.system"]).toBe("nats");
      expect(producer.attributes["messaging.message.id"]).toEqual(expect.any(String));
      // The producer span is a child of dm-api's server span: the caller's context reached the broker.
      expect(producer.parentSpanContext?.spanId).toEqual(expect.any(String));
    }
    for (const consumer of consumers) {
      expect(resource(consumer, "service.name")).toBe("delivery-worker");
      expect(consumer.name).toBe("process dm.messages");
      expect(consumer.attributes["messaging.operation.type"]).toBe("process");
      expect(consumer.attributes["messaging.system"]).toBe("nats");
      expect(consumer.attributes["messaging.destination.name"]).toBe("dm.messages");
      expect(consumer.attributes["messaging.consumer.group.name"]).toBe("delivery-worker");
      // A new trace linked to its producer, not a child of it (as with instrumentation-amqplib).
      expect(consumer.parentSpanContext).toBeUndefined();
      const linked = consumer.links[0]?.context.spanId;
      expect(linked !== undefined && producerIds.has(linked)).toBe(true);
      // The same JetStream message (stream sequence) on both sides of the hop.
      expect(consumer.attributes["messaging.message.id"]).toBe(messageIdOf.get(linked ?? ""));
    }
    const work = spans.filter((span) => span.name === "deliver dm");
    expect(work).toHaveLength(consumers.length);
    const consumerIds = new Set(consumers.map((span) => span.spanContext().spanId));
    for (const span of work) {
      expect(resource(span, "service.name")).toBe("delivery-worker");
      expect(consumerIds.has(span.parentSpanContext?.spanId ?? "")).toBe(true);
    }
  });
});
