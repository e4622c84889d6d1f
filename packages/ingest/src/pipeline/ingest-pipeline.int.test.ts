import { readSeriesRange } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { expect, it } from "vitest";
import { IngestPipeline } from "./ingest-pipeline.ts";

const nowMs = Date.parse("2026-11-27T12:00:00Z");
const encoder = new TextEncoder();
let idCounter = 0;
const hexId = (length: number) => (++idCounter).toString(16).padStart(length, "0");

interface SpanSpec {
  service: string;
  name: string;
  kind?: number;
  startMs: number;
  durationMs?: number;
  error?: boolean;
  user?: string;
}

/** An OTLP/JSON request with one resource per service, as an SDK exporter would send it. */
function otlpJson(spans: SpanSpec[], version = "1.0.0"): Uint8Array {
  const byService = new Map<string, SpanSpec[]>();
  for (const span of spans) byService.set(span.service, [...(byService.get(span.service) ?? []), span]);
  return encoder.encode(
    JSON.stringify({
      resourceSpans: [...byService].map(([service, serviceSpans]) => ({
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: service } },
            { key: "service.version", value: { stringValue: version } },
            { key: "service.instance.id", value: { stringValue: `${service}-1` } },
            { key: "deployment.environment.name", value: { stringValue: "production" } },
          ],
        },
        scopeSpans: [
          {
            spans: serviceSpans.map((span) => ({
              traceId: hexId(32),
              spanId: hexId(16),
              name: span.name,
              kind: span.kind ?? 2,
              startTimeUnixNano: String(BigInt(span.startMs) * 1_000_000n),
              endTimeUnixNano: String(BigInt(span.startMs + (span.durationMs ?? 12)) * 1_000_000n),
              status: span.error ? { code: 2, message: "boom" } : {},
              attributes: span.user ? [{ key: "enduser.id", value: { stringValue: span.user } }] : [],
            })),
          },
        ],
      })),
    }),
  );
}

function manySpans(count: number, startMs: number, service = "dm-api"): SpanSpec[] {
  return Array.from({ length: count }, (_, index) => ({
    service,
    name: "POST /v1/dm/messages",
    startMs: startMs + (index % 50) * 100,
    error: index % 10 === 0,
    user: `web-u${index % 7}`,
  }));
}

async function totalSpans(pipelineDb: Parameters<typeof readSeriesRange>[0], stepSeconds = 10) {
  const series = await readSeriesRange(pipelineDb, {
    environment: "production",
    stepSeconds,
    fromMs: nowMs - 86_400_000,
    toMs: nowMs + 86_400_000,
  });
  return series.flatMap((one) => one.points).reduce((sum, point) => sum + point.spans, 0);
}

describeEachDatabase("IngestPipeline", ({ handle }) => {
  it("commits a request's aggregates before acknowledging, with rollups that add up", async () => {
    const pipeline = new IngestPipeline({ db: handle(), clock: () => nowMs });
    const outcome = await pipeline.exportTraces({
      body: otlpJson(manySpans(200, nowMs - 600_000)),
      encoding: "json",
    });
    expect(outcome).toEqual({ status: "accepted", rejectedSpans: 0, errorMessage: null });
    expect(await totalSpans(handle(), 10)).toBe(200);
    expect(await totalSpans(handle(), 60)).toBe(200);
    expect(await totalSpans(handle(), 3600)).toBe(200);
    const [series] = await readSeriesRange(handle(), {
      environment: "production",
      service: "dm-api",
      stepSeconds: 60,
      fromMs: nowMs - 3_600_000,
      toMs: nowMs,
    });
    expect(series?.points.reduce((sum, point) => sum + point.errors, 0)).toBe(20);
    expect(Object.keys(series?.points[0]?.userRegisters ?? {}).length).toBeGreaterThan(0);
    await pipeline.close();
  });

  it("counts a retried request once, also after a restart of the pipeline", async () => {
    const body = otlpJson(manySpans(30, nowMs - 900_000, "identity"));
    const before = await totalSpans(handle());
    const first = new IngestPipeline({ db: handle(), clock: () => nowMs });
    await first.exportTraces({ body, encoding: "json" });
    await first.exportTraces({ body, encoding: "json" });
    await first.close();
    const restarted = new IngestPipeline({ db: handle(), clock: () => nowMs });
    const retry = await restarted.exportTraces({ body, encoding: "json" });
    expect(retry.status).toBe("accepted");
    expect(await totalSpans(handle())).toBe(before + 30);
    expect(restarted.stats.duplicates).toBe(1);
    await restarted.close();
  });

  it("groups concurrent requests into few commits and loses none", async () => {
    const before = await totalSpans(handle());
    const pipeline = new IngestPipeline({ db: handle(), clock: () => nowMs });
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        pipeline.exportTraces({
          body: otlpJson(manySpans(25, nowMs - 1_200_000 + index * 1000, "inbox")),
          encoding: "json",
        }),
      ),
    );
    expect(outcomes.every((outcome) => outcome.status === "accepted")).toBe(true);
    expect(await totalSpans(handle())).toBe(before + 1000);
    expect(pipeline.stats.commits).toBeLessThan(40);
    await pipeline.close();
  });

  it("rejects spans outside the accepted time range through partial success and keeps the rest", async () => {
    const before = await totalSpans(handle());
    const pipeline = new IngestPipeline({ db: handle(), clock: () => nowMs });
    const body = otlpJson([
      { service: "profile", name: "GET /v1/profile", startMs: nowMs - 60_000 },
      { service: "profile", name: "GET /v1/profile", startMs: nowMs - 30 * 86_400_000 },
      { service: "profile", name: "GET /v1/profile", startMs: nowMs + 3_600_000 },
    ]);
    const outcome = await pipeline.exportTraces({ body, encoding: "json" });
    expect(outcome).toMatchObject({ status: "accepted", rejectedSpans: 2 });
    expect(outcome.status === "accepted" && outcome.errorMessage).toMatch(/2 spans rejected/);
    expect(await totalSpans(handle())).toBe(before + 1);
    await pipeline.close();
  });

  it("answers undecodable data as invalid and counts nothing", async () => {
    const before = await totalSpans(handle());
    const pipeline = new IngestPipeline({ db: handle(), clock: () => nowMs });
    const outcome = await pipeline.exportTraces({
      body: encoder.encode('{"resourceSpans": 7}'),
      encoding: "json",
    });
    expect(outcome.status).toBe("invalid");
    const garbage = await pipeline.exportTraces({
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
      encoding: "proto",
    });
    expect(garbage.status).toBe("invalid");
    expect(await totalSpans(handle())).toBe(before);
    await pipeline.close();
  });

  it("reports overload once too many spans wait for a commit, and recovers after it", async () => {
    const pipeline = new IngestPipeline({ db: handle(), clock: () => nowMs, maxPendingSpans: 50 });
    expect(pipeline.isOverloaded()).toBe(false);
    const pending = pipeline.exportTraces({
      body: otlpJson(manySpans(60, nowMs - 300_000, "media")),
      encoding: "json",
    });
    expect(pipeline.isOverloaded()).toBe(true);
    await pending;
    expect(pipeline.isOverloaded()).toBe(false);
    await pipeline.close();
    expect(pipeline.isOverloaded()).toBe(true);
  });
});
