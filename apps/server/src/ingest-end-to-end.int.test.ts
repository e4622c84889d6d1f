import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScratchDatabase, testPostgresUrl } from "@faultline/db/testing";
import { OTLPTraceExporter as GrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseServeConfig, serveSettings } from "./config.ts";
import { createLogger } from "./logger.ts";
import { type RunningServer, startServer } from "./start-server.ts";

// The whole wire, as a user runs it: the real OpenTelemetry SDK and exporters (protobuf, JSON, gRPC)
// send to `faultline serve`'s receivers, and the series API must account for exactly the spans sent.

const defaults = Object.fromEntries(serveSettings.map((setting) => [setting.key, setting.default]));

interface Emitted {
  spans: number;
  errors: number;
}

/** Emits `requests` server spans of one service (every 5th failing) through `exporter`, then flushes. */
async function emit(exporter: SpanExporter, service: string, requests: number): Promise<Emitted> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": service,
      "service.version": "2.0.1",
      "service.instance.id": `${service}-a`,
      "deployment.environment.name": "e2e",
    }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 64, scheduledDelayMillis: 20 })],
  });
  const tracer = provider.getTracer("e2e");
  let errors = 0;
  for (let index = 0; index < requests; index += 1) {
    const span = tracer.startSpan("POST /v1/dm/messages", {
      kind: 1,
      attributes: { "enduser.id": `u${index % 9}` },
    });
    if (index % 5 === 0) {
      span.setStatus({ code: 2, message: "session invalid" });
      errors += 1;
    }
    span.end();
  }
  await provider.forceFlush();
  await provider.shutdown();
  return { spans: requests, errors };
}

async function seriesTotals(apiUrl: string, service: string) {
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const response = await fetch(
    `${apiUrl}/api/v1/series?environment=e2e&service=${service}&from=${from}&to=${to}&step=10s`,
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    series: {
      service: string;
      kind: string;
      version: string | null;
      points: { spans: number; errors: number; users: number }[];
    }[];
  };
  const points = body.series.flatMap((one) => one.points);
  return {
    body,
    spans: points.reduce((sum, point) => sum + point.spans, 0),
    errors: points.reduce((sum, point) => sum + point.errors, 0),
  };
}

for (const engine of ["pglite", "postgres"] as const) {
  describe(`faultline serve ingest, end to end [${engine}]`, () => {
    let server: RunningServer;
    let otlpHttpUrl = "";
    let otlpGrpcPort = 0;
    let cleanup: () => Promise<void> = async () => {};

    beforeAll(async () => {
      let storage: Record<string, string>;
      if (engine === "postgres") {
        const scratch = await createScratchDatabase(testPostgresUrl);
        storage = { databaseUrl: scratch.url };
        cleanup = scratch.drop;
      } else {
        const dataDir = await mkdtemp(join(tmpdir(), "faultline-e2e-"));
        storage = { dataDir };
        cleanup = () => rm(dataDir, { recursive: true, force: true });
      }
      const config = parseServeConfig({
        ...defaults,
        ...storage,
        port: "0",
        otlpPort: "0",
        otlpGrpcPort: "0",
        logLevel: "silent",
      });
      server = await startServer(config, createLogger(process.env.E2E_LOG ?? "silent"));
      ({ otlpHttpUrl, otlpGrpcPort } = await server.ready);
    }, 120_000);

    afterAll(async () => {
      await server?.close();
      await cleanup();
    }, 60_000);

    it("counts exactly what the protobuf, JSON and gRPC exporters sent", async () => {
      const sent = {
        "via-proto": await emit(
          new ProtoExporter({ url: `${otlpHttpUrl}/v1/traces`, compression: "gzip" as never }),
          "via-proto",
          300,
        ),
        "via-json": await emit(new JsonExporter({ url: `${otlpHttpUrl}/v1/traces` }), "via-json", 200),
        "via-grpc": await emit(
          new GrpcExporter({ url: `http://127.0.0.1:${otlpGrpcPort}` }),
          "via-grpc",
          150,
        ),
      };
      for (const [service, emitted] of Object.entries(sent)) {
        const totals = await seriesTotals(server.apiUrl, service);
        expect({ service, spans: totals.spans, errors: totals.errors }).toEqual({ service, ...emitted });
        expect(totals.body.series[0]).toMatchObject({ service, kind: "server", version: "2.0.1" });
        expect(
          Math.max(...totals.body.series.flatMap((one) => one.points.map((point) => point.users))),
        ).toBeGreaterThan(0);
      }
    }, 120_000);

    it("rejects a malformed request with 400 and keeps serving valid ones", async () => {
      const bad = await fetch(`${otlpHttpUrl}/v1/traces`, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf" },
        body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      });
      expect(bad.status).toBe(400);
      const sent = await emit(new ProtoExporter({ url: `${otlpHttpUrl}/v1/traces` }), "after-bad", 10);
      expect((await seriesTotals(server.apiUrl, "after-bad")).spans).toBe(sent.spans);
    }, 60_000);

    it("answers a bad series query with 400 naming the field", async () => {
      const response = await fetch(`${server.apiUrl}/api/v1/series?from=yesterday&to=2026-11-27T00:00:00Z`);
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toContain("from: must be an ISO-8601 date-time");
    });
  });
}
