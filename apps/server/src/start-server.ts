import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { createDb, type DbHandle } from "@faultline/db";
import {
  createFaroHandler,
  createOtlpGrpcServer,
  createOtlpHttpServer,
  DetectionRunner,
  IngestPipeline,
  isFaroCollectPath,
  type OtlpGrpcServer,
  type OtlpHttpServer,
} from "@faultline/ingest";
import {
  type DeliveryWorker,
  loadNotifyConfigFile,
  NotifyConfigError,
  startNotifications,
} from "@faultline/notify";
import Fastify, { type FastifyBaseLogger, type FastifyRequest } from "fastify";
import { ConfigError, isLoopbackHost, type ServeConfig } from "./config.ts";
import { registerChangeRoutes } from "./http/change-routes.ts";
import { type Readiness, registerHealthRoutes } from "./http/health-routes.ts";
import { registerReportRoutes } from "./http/report-routes.ts";
import { registerSeriesRoutes } from "./http/series-routes.ts";
import { registerTrpcRoutes } from "./http/trpc-routes.ts";
import { registerUiRoutes } from "./http/ui-routes.ts";
import { registerWebhookRoutes } from "./http/webhook-routes.ts";
import type { Logger } from "./logger.ts";
import { runDemo } from "./run-demo.ts";

export interface RunningServer {
  /** Where the UI and API listen (the real port when 0 was asked for). */
  apiUrl: string;
  /** Settles when the database is open and the receivers listen; rejects if start-up fails. */
  ready: Promise<{ otlpHttpUrl: string; otlpGrpcPort: number }>;
  /** Stops accepting, commits what was acknowledged, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts everything `faultline serve` runs in one process. The API listener comes up first so
 * `/healthz` answers at once; the database opens and migrates, then the receivers start, and only then
 * does `/readyz` turn ready.
 */
export async function startServer(config: ServeConfig, logger: Logger): Promise<RunningServer> {
  // A bad paging config stops start-up with the file's problems listed, like a bad flag.
  const notifyConfig = config.notifyConfig
    ? await loadNotifyConfigFile(config.notifyConfig).catch((error: unknown) => {
        throw error instanceof NotifyConfigError ? new ConfigError(error.message) : error;
      })
    : null;
  const readiness: Readiness = { notReadyReason: "opening the database and applying migrations" };
  // Fastify logs each request at info; at our default level that drowns the useful lines, so its
  // logger only speaks from warn up.
  const api = Fastify({
    loggerInstance: logger.child({ component: "api" }, { level: "warn" }) as FastifyBaseLogger,
  });
  let db: DbHandle | undefined;
  const openDb = (): DbHandle => {
    if (!db) throw new Error("database not open yet");
    return db;
  };
  registerHealthRoutes(api, readiness);
  // Ingest acknowledges once a request is in its write-ahead log and writes the aggregates to the
  // database in checkpoints; API reads first wait for a checkpoint holding every acknowledged span, so
  // the series API (and every page) sees each 2xx. Immediate when nothing is waiting.
  api.addHook("preHandler", async (request) => {
    if (pipeline && (request.url.startsWith("/api/") || request.url.startsWith("/trpc"))) {
      await pipeline.flushAcknowledged();
    }
  });
  let detection: DetectionRunner | undefined;
  // Writes to the API (deploys, webhooks, incident actions) in flight: a replay reporting a deploy is
  // not idle while it waits for the answer (see DetectionRunner.noteSenderActivity).
  const apiWritesInFlight = new Set<string>();
  const isApiWrite = (request: FastifyRequest): boolean =>
    request.method !== "GET" && request.method !== "HEAD" && request.url.startsWith("/api/");
  api.addHook("onRequest", async (request) => {
    if (!isApiWrite(request)) return;
    apiWritesInFlight.add(request.id);
    detection?.noteSenderActivity();
  });
  api.addHook("onResponse", async (request) => {
    if (!apiWritesInFlight.delete(request.id)) return;
    detection?.noteSenderActivity();
  });
  api.addHook("onRequestAbort", async (request) => {
    apiWritesInFlight.delete(request.id);
  });
  registerSeriesRoutes(api, { db: openDb });
  registerReportRoutes(api, { db: openDb });
  registerChangeRoutes(api, { db: openDb, token: config.token, clock: Date.now });
  registerWebhookRoutes(api, {
    db: openDb,
    githubSecret: config.githubWebhookSecret,
    gitlabToken: config.gitlabWebhookToken,
    argocdToken: config.argocdWebhookToken,
    token: config.token,
    clock: Date.now,
  });
  // The UI's Faro SDK reports to our own receiver on the OTLP port, at the host the browser used.
  let otlpHttpPortForUi: number | undefined;
  let notifications: DeliveryWorker | undefined;
  await registerTrpcRoutes(api, {
    db: openDb,
    clock: Date.now,
    token: config.token,
    notifier: () => notifications ?? null,
    config: (request) => ({
      traceUrlTemplate: config.traceUrlTemplate ?? null,
      faroCollectorUrl:
        // With --faro-api-key the receiver wants a key the UI does not have: it stays quiet instead.
        otlpHttpPortForUi === undefined || config.faroApiKey
          ? null
          : `http://${hostWithoutPort(request.hostname)}:${otlpHttpPortForUi}/collect`,
    }),
  });
  await registerUiRoutes(api, { webDist: config.webDist });
  await api.listen({ host: config.host, port: config.port });
  const apiUrl = urlOf(api.server.address() as AddressInfo);
  const uiOrigins = uiOriginsOf(config.host, (api.server.address() as AddressInfo).port);
  logger.info({ url: apiUrl }, "API and UI listening");

  let pipeline: IngestPipeline | undefined;
  let otlpHttp: OtlpHttpServer | undefined;
  let otlpGrpc: OtlpGrpcServer | undefined;
  let demo: { close(): Promise<void> } | undefined;
  const ingestLogger = logger.child({ component: "ingest" });
  const ready = (async () => {
    // PGlite creates its own directory but not missing parents (./.faultline on a fresh clone).
    if (!config.databaseUrl) await mkdir(dirname(resolve(config.dataDir)), { recursive: true });
    db = await createDb(
      config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: config.dataDir },
    );
    logger.info({ engine: db.engine, location: db.location }, "database ready");
    const runner = new DetectionRunner({
      db,
      logger: logger.child({ component: "detection" }),
      ingestBusy: () => ingest.hasPendingWork() || apiWritesInFlight.size > 0,
    });
    detection = runner;
    const ingest = new IngestPipeline({
      db,
      logger: ingestLogger,
      onCommitted: (batch) => runner.observe(batch),
      writeAheadLogDir: ingestWalDirOf(config),
    });
    // Replays what the log holds beyond the last checkpoint before any receiver takes traffic.
    await ingest.start();
    pipeline = ingest;
    const cors = config.corsOrigins.length > 0 ? { allowedOrigins: config.corsOrigins } : null;
    otlpHttp = createOtlpHttpServer({
      sink: pipeline,
      bearerToken: config.token ?? null,
      cors,
      logger: ingestLogger,
    });
    // Browser signals (Faro) share the OTLP port and feed the same pipeline as backend spans.
    const browserSink = pipeline;
    otlpHttp.handler.route(
      isFaroCollectPath,
      createFaroHandler({
        sink: {
          exportSpans: async (spans) => {
            const outcome = await browserSink.exportSpans(spans);
            return { rejected: outcome.status === "accepted" ? outcome.rejectedSpans : spans.length };
          },
          isOverloaded: () => browserSink.isOverloaded(),
        },
        apiKey: config.faroApiKey ?? null,
        // The UI's own origins are always allowed, so it can report about itself without --cors-origins.
        allowedOrigins: [...config.corsOrigins, ...uiOrigins],
        logger: ingestLogger,
      }),
    );
    const otlpHttpPort = await otlpHttp.listen(config.otlpPort, config.host);
    otlpHttpPortForUi = otlpHttpPort;
    otlpGrpc = createOtlpGrpcServer({
      sink: pipeline,
      bearerToken: config.token ?? null,
      logger: ingestLogger,
    });
    const otlpGrpcPort = await otlpGrpc.start(config.host, config.otlpGrpcPort);
    const otlpHttpUrl = `http://${formatHost(config.host)}:${otlpHttpPort}`;
    logger.info({ otlpHttp: `${otlpHttpUrl}/v1/traces`, otlpGrpcPort }, "OTLP receivers listening");
    notifications = await startNotifications({
      db,
      config: notifyConfig,
      publicUrl: config.publicUrl ?? apiUrl,
      logger: logger.child({ component: "notify" }),
    });
    readiness.notReadyReason = null;
    if (config.demo) demo = runDemo(config, { apiUrl, otlpHttpUrl }, logger);
    return { otlpHttpUrl, otlpGrpcPort };
  })();
  // Observed here so a failed start-up is logged even if nobody awaits `ready`.
  ready.catch((error: unknown) => logger.error({ err: error }, "start-up failed"));

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      readiness.notReadyReason = "shutting down";
      await ready.catch(() => {});
      // The demo first, so it stops sending before the receivers go away.
      await demo?.close();
      // Receivers first (no new data), then commit what was acknowledged, then the rest.
      await Promise.all([otlpHttp?.close(5_000), otlpGrpc?.shutdown(5_000)]);
      await pipeline?.close();
      await detection?.close();
      await notifications?.close();
      await api.close();
      await db?.close();
    })();
    return closing;
  };
  return { apiUrl, ready, close };
}

/** The configured log directory, else one owned by the PGlite data, or a local one beside PostgreSQL. */
function ingestWalDirOf(config: ServeConfig): string {
  if (config.ingestWalDir) return resolve(config.ingestWalDir);
  return config.databaseUrl
    ? resolve(".faultline", "ingest-wal")
    : join(resolve(config.dataDir), "ingest-wal");
}

function urlOf(address: AddressInfo): string {
  return `http://${formatHost(address.address)}:${address.port}`;
}

/** Origins a browser may load the UI from: the bound host, plus the loopback names when bound to loopback. */
function uiOriginsOf(host: string, port: number): string[] {
  const loopback = ["127.0.0.1", "localhost", "[::1]"];
  const hosts = new Set([formatHost(host), ...(isLoopbackHost(host) ? loopback : [])]);
  return [...hosts].map((name) => `http://${name}:${port}`);
}

/** Fastify's `hostname` may carry the port (`localhost:3000`, `[::1]:3000`). */
function hostWithoutPort(hostname: string): string {
  if (hostname.startsWith("[")) return hostname.slice(0, hostname.indexOf("]") + 1);
  return hostname.split(":")[0] || "127.0.0.1";
}

function formatHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
