import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { buildStory } from "./demo-stories.ts";
import { InMemoryBroker } from "./message-broker.ts";
import { MessagingPlatform } from "./messaging-platform.ts";
import { runTimeline, scheduleStory } from "./run-timeline.ts";
import { ServiceTelemetry } from "./service-telemetry.ts";

const t0 = Date.parse("2026-11-27T10:00:00Z");

function setup(seed = "unit") {
  const exporter = new InMemorySpanExporter();
  const telemetry = new ServiceTelemetry({
    otlpHttpUrl: "http://unused",
    environment: "test",
    idSeed: seed,
    exporterFactory: () => exporter,
  });
  const platform = new MessagingPlatform({ telemetry, broker: new InMemoryBroker(), seed, rootRate: 20 });
  return { exporter, platform, telemetry };
}

const attribute = (span: ReadableSpan, key: string) => span.attributes[key];
const resource = (span: ReadableSpan, key: string) => span.resource.attributes[key];

describe("MessagingPlatform", () => {
  it("sends a slice of history as one request holding every instance's spans, in collector mode", async () => {
    // Detection closes a bucket 20 s behind the newest event time it has seen; a slice split over
    // per-instance requests could reach it in several commits, and its first commit would close buckets
    // that the rest still belongs to.
    const requests: ReadableSpan[][] = [];
    const exporter: SpanExporter = {
      export: (spans, done) => {
        requests.push([...spans]);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
    };
    const telemetry = new ServiceTelemetry({
      otlpHttpUrl: "http://unused",
      environment: "test",
      idSeed: "collector",
      exporterFactory: () => exporter,
      collector: true,
    });
    const platform = new MessagingPlatform({
      telemetry,
      broker: new InMemoryBroker(),
      seed: "collector",
      rootRate: 20,
    });
    for (const sliceStart of [t0, t0 + 60_000]) {
      const before = requests.length;
      await platform.simulate(sliceStart, sliceStart + 60_000);
      expect(requests.length).toBe(before + 1);
      const slice = requests[before] ?? [];
      expect(slice.length).toBeGreaterThan(5_000);
      const instances = new Set(slice.map((span) => resource(span, "service.instance.id")));
      expect(instances.size).toBeGreaterThan(20);
    }
  });

  it("exports through one SDK per instance, each with its service's resource", async () => {
    const { exporter, platform } = setup();
    await platform.simulate(t0, t0 + 30_000);
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(1_000);
    for (const span of spans) {
      expect(resource(span, "service.name")).toEqual(expect.any(String));
      expect(resource(span, "service.version")).toEqual(expect.any(String));
      expect(resource(span, "service.instance.id")).toEqual(expect.any(String));
      expect(resource(span, "deployment.environment.name")).toBe("test");
      // Simulated event time, not the wall clock.
      const startMs = span.startTime[0] * 1000 + span.startTime[1] / 1e6;
      expect(startMs).toBeGreaterThanOrEqual(t0);
      expect(startMs).toBeLessThan(t0 + 32_000);
    }
    const services = new Set(spans.map((span) => resource(span, "service.name")));
    expect([...services].sort()).toEqual([
      "delivery-worker",
      "dm-api",
      "identity",
      "inbox",
      "media",
      "mobile-gateway",
      "notification",
      "profile",
      "web-gateway",
    ]);
    const instances = new Set(spans.map((span) => resource(span, "service.instance.id")));
    expect(instances.size).toBe(29);
  });

  it("puts users on server spans and the client platform on roots", async () => {
    const { exporter, platform } = setup();
    await platform.simulate(t0, t0 + 10_000);
    const spans = exporter.getFinishedSpans();
    const roots = spans.filter(
      (span) => span.parentSpanContext === undefined && span.kind === SpanKind.SERVER,
    );
    expect(roots.length).toBeGreaterThan(100);
    expect(new Set(roots.map((span) => attribute(span, "app.platform")))).toEqual(
      new Set(["web", "ios", "android"]),
    );
    for (const span of spans.filter((one) => one.kind === SpanKind.SERVER)) {
      expect(attribute(span, "enduser.id")).toMatch(/^(web|ios|android)-u\d{6}$/);
    }
  });

  it("sends DMs over the broker: a producer span, and a consumer span linked to it", async () => {
    const { exporter, platform } = setup();
    await platform.simulate(t0, t0 + 10_000);
    const spans = exporter.getFinishedSpans();
    const producers = spans.filter((span) => span.kind === SpanKind.PRODUCER);
    const consumers = spans.filter((span) => span.kind === SpanKind.CONSUMER);
    expect(producers.length).toBeGreaterThan(10);
    expect(consumers).toHaveLength(producers.length);
    const producerIds = new Set(producers.map((span) => span.spanContext().spanId));
    for (const producer of producers) {
      expect(producer.name).toBe("send dm.messages");
      expect(resource(producer, "service.name")).toBe("dm-api");
      expect(attribute(producer, "messaging.destination.name")).toBe("dm.messages");
      expect(attribute(producer, "messaging.operation.type")).toBe("send");
    }
    for (const consumer of consumers) {
      expect(consumer.name).toBe("process dm.messages");
      expect(resource(consumer, "service.name")).toBe("delivery-worker");
      expect(attribute(consumer, "messaging.operation.type")).toBe("process");
      expect(attribute(consumer, "messaging.consumer.group.name")).toBe("delivery-worker");
      const linked = consumer.links[0]?.context.spanId;
      expect(linked && producerIds.has(linked)).toBe(true);
      expect(consumer.parentSpanContext?.spanId).toBe(linked);
    }
  });

  it("is deterministic for a seed", async () => {
    const summary = async () => {
      const { exporter, platform } = setup("same");
      await platform.simulate(t0, t0 + 5_000);
      return exporter
        .getFinishedSpans()
        .map(
          (span) =>
            `${span.spanContext().traceId}/${span.spanContext().spanId}/${span.name}/${span.endTime.join(".")}`,
        )
        .sort();
    };
    expect(await summary()).toEqual(await summary());
  });

  it("fails a canary's requests only on the canary's instances", async () => {
    const { exporter, platform } = setup();
    platform.setVersion("dm-api", "9.9.9", 1);
    platform.addFault("canary", {
      service: "dm-api",
      version: "9.9.9",
      errorRate: 1,
      errorType: "500",
      message: "broken",
    });
    await platform.simulate(t0, t0 + 20_000);
    const dmServer = exporter
      .getFinishedSpans()
      .filter((span) => resource(span, "service.name") === "dm-api" && span.kind === SpanKind.SERVER);
    const failedVersions = new Set(
      dmServer
        .filter((span) => span.status.message === "broken")
        .map((span) => resource(span, "service.version")),
    );
    expect(failedVersions).toEqual(new Set(["9.9.9"]));
    const canary = dmServer.filter((span) => resource(span, "service.version") === "9.9.9");
    expect(canary.length).toBeGreaterThan(10);
    expect(canary.every((span) => span.status.code === SpanStatusCode.ERROR)).toBe(true);
  });
});

describe("runTimeline", () => {
  it("reports each change after the traffic before it was exported, then applies it", async () => {
    const { exporter, platform } = setup();
    const story = buildStory("identity-outage");
    const first = t0 + 30_000;
    const seen: { service: string; kind: string; spansBefore: number; latestEndMs: number }[] = [];
    await runTimeline({
      platform,
      fromMs: t0,
      toMs: first + 100_000,
      steps: scheduleStory(story, first),
      reportChange: async (change, atMs) => {
        const spans = exporter.getFinishedSpans();
        const latestEndMs = Math.max(...spans.map((span) => span.endTime[0] * 1000 + span.endTime[1] / 1e6));
        expect(latestEndMs).toBeLessThan(atMs + 3_000);
        seen.push({ service: change.service, kind: change.kind, spansBefore: spans.length, latestEndMs });
      },
    });
    expect(seen.map((change) => `${change.service}:${change.kind}`)).toEqual([
      "media:deploy",
      "identity:config",
    ]);
    expect(platform.versionsOf("media")).toEqual(["2.9.0"]);
    const identityErrors = exporter
      .getFinishedSpans()
      .filter(
        (span) =>
          resource(span, "service.name") === "identity" &&
          span.status.code === SpanStatusCode.ERROR &&
          span.startTime[0] * 1000 >= first + 45_000,
      );
    expect(identityErrors.length).toBeGreaterThan(20);
  });
});
