import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { createAmqpBroker } from "./amqp-broker.ts";
import { MessagingPlatform } from "./messaging-platform.ts";
import { ServiceTelemetry } from "./service-telemetry.ts";
import { brokerUnderTest } from "./testing/broker-under-test.ts";

// The dm-api → dm.messages → delivery-worker hop over the real RabbitMQ on this machine, traced by
// @opentelemetry/instrumentation-amqplib into each instance's own SDK. Skipped when no broker listens,
// unless FAULTLINE_REQUIRE_BROKERS=1 (CI), where an unreachable broker fails the test.

const rabbitUrl = process.env.FAULTLINE_TEST_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";

const available = await brokerUnderTest(rabbitUrl, 5672, "RabbitMQ");
const resource = (span: ReadableSpan, key: string) => span.resource.attributes[key];

describe.skipIf(!available)("the delivery hop over RabbitMQ", () => {
  it("links each consumer span to its producer span across the broker, each on its own service's SDK", async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = new ServiceTelemetry({
      otlpHttpUrl: "http://unused",
      environment: "test",
      idSeed: "amqp",
      exporterFactory: () => exporter,
    });
    let platform: MessagingPlatform | undefined;
    const broker = await createAmqpBroker(
      { url: rabbitUrl, prefix: `faultline-test-${process.pid}.` },
      (kind) => {
        if (!platform) throw new Error("platform not built yet");
        return platform.messagingTracer(kind);
      },
    );
    platform = new MessagingPlatform({ telemetry, broker, seed: "amqp", rootRate: 40 });
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
    for (const producer of producers) {
      expect(resource(producer, "service.name")).toBe("dm-api");
      expect(producer.name).toBe("send dm.messages");
      expect(producer.attributes["messaging.destination.name"]).toBe("dm.messages");
      expect(producer.attributes["messaging.operation.type"]).toBe("send");
      // The producer span is a child of dm-api's server span: the context crossed into the instrumentation.
      expect(producer.parentSpanContext?.spanId).toEqual(expect.any(String));
    }
    for (const consumer of consumers) {
      expect(resource(consumer, "service.name")).toBe("delivery-worker");
      expect(consumer.name).toBe("process dm.messages");
      expect(consumer.attributes["messaging.operation.type"]).toBe("process");
      const linked = consumer.links[0]?.context.spanId;
      expect(linked !== undefined && producerIds.has(linked)).toBe(true);
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
