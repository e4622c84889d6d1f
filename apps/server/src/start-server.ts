import type { AddressInfo } from "node:net";
import { createDb, type DbHandle } from "@faultline/db";
import Fastify, { type FastifyBaseLogger } from "fastify";
import type { ServeConfig } from "./config.ts";
import { type Readiness, registerHealthRoutes } from "./http/health-routes.ts";
import type { Logger } from "./logger.ts";

export interface RunningServer {
  /** Where the UI and API listen (the real port when 0 was asked for). */
  apiUrl: string;
  /** Settles when the database is open and migrated; rejects if that fails. */
  ready: Promise<void>;
  /** Stops accepting, lets in-flight work finish, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts everything `faultline serve` runs in one process. The listeners come up first so `/healthz`
 * answers at once; `/readyz` turns ready after the database migrations.
 */
export async function startServer(config: ServeConfig, logger: Logger): Promise<RunningServer> {
  const readiness: Readiness = { notReadyReason: "opening the database and applying migrations" };
  // Fastify logs each request at info; at our default level that drowns the useful lines, so its
  // logger only speaks from warn up.
  const api = Fastify({
    loggerInstance: logger.child({ component: "api" }, { level: "warn" }) as FastifyBaseLogger,
  });
  registerHealthRoutes(api, readiness);
  await api.listen({ host: config.host, port: config.port });
  const address = api.server.address() as AddressInfo;
  const apiUrl = `http://${formatHost(address.address)}:${address.port}`;
  logger.info({ url: apiUrl }, "API and UI listening");

  let db: DbHandle | undefined;
  const ready = (async () => {
    db = await createDb(
      config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: config.dataDir },
    );
    readiness.notReadyReason = null;
    logger.info({ engine: db.engine, location: db.location }, "database ready");
  })();
  // Observed here so a failed start-up is logged even if nobody awaits `ready`.
  ready.catch((error: unknown) => logger.error({ err: error }, "database start-up failed"));

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await api.close();
      await ready.catch(() => {});
      await db?.close();
    })();
    return closing;
  };
  return { apiUrl, ready, close };
}

function formatHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
