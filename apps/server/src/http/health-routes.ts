import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from "fastify";

/** What readiness depends on; flipped by the server as start-up progresses. */
export interface Readiness {
  /** Null once ready; otherwise why not, e.g. "applying database migrations". */
  notReadyReason: string | null;
}

/**
 * `/healthz`: the process is up and answering (liveness). `/readyz`: it can take traffic, which is
 * only after the database is open and migrated (readiness), so an orchestrator holds traffic until then.
 */
export function registerHealthRoutes(app: ApiApp, readiness: Readiness): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    if (readiness.notReadyReason !== null) {
      return reply.code(503).send({ status: "starting", reason: readiness.notReadyReason });
    }
    return { status: "ready" };
  });
}

/** The API's Fastify instance, whatever logger type it was built with. */
export type ApiApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>;
