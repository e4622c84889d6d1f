import { type ApiConfig, appRouter, createContext, type NotificationTester } from "@faultline/api";
import type { DbHandle } from "@faultline/db";
import { createBearerTokenVerifier } from "@faultline/ingest";
import { fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import type { ApiApp } from "./health-routes.ts";

export interface TrpcRouteDeps {
  db: () => DbHandle;
  clock: () => number;
  /** Settings for the UI, per request (the Faro collector URL is built from the host the browser used). */
  config: (request: { hostname: string }) => Partial<ApiConfig>;
  /** The delivery worker once it runs (the notifications page's "send test" goes through it). */
  notifier?: () => NotificationTester | null;
  /**
   * The API token (`--token`): when set, every mutation needs `Authorization: Bearer <token>`, checked
   * by the same constant-time verifier as the REST writes and the receivers. Queries stay open.
   */
  token?: string | undefined;
}

/** Mounts the UI's tRPC API (`@faultline/api`) under `/trpc`. */
export async function registerTrpcRoutes(app: ApiApp, deps: TrpcRouteDeps): Promise<void> {
  const verifyWriteToken = createBearerTokenVerifier(deps.token);
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext: ({
        req,
      }: {
        req: { headers: Record<string, string | string[] | undefined>; hostname: string };
      }) =>
        createContext({
          db: deps.db(),
          clock: deps.clock,
          config: deps.config(req),
          headers: req.headers,
          notifier: deps.notifier?.() ?? null,
          verifyWriteToken,
        }),
      onError: ({
        error,
        path,
      }: {
        error: { code: string; message: string; cause?: unknown };
        path?: string;
      }) => {
        if (error.code === "INTERNAL_SERVER_ERROR")
          app.log.error({ err: error.cause ?? error, path }, "tRPC call failed");
      },
    },
  });
}
