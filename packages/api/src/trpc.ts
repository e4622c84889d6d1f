import { initTRPC, TRPCError } from "@trpc/server";
import type { ApiContext } from "./create-context.ts";

/**
 * The one tRPC instance every router is built from. Routers import `router` and `publicProcedure` from
 * here (never call `initTRPC` again), so the context type and error shape stay the same everywhere.
 */
const t = initTRPC.context<ApiContext>().create();

/**
 * Said to every write refused for a missing or wrong token. Fixed text: the presented value is never
 * echoed (the web UI shows this message next to the token field).
 */
export const writeTokenRequiredMessage =
  "this server requires its API token for changes: send Authorization: Bearer <token> (the server's --token / FAULTLINE_TOKEN)";

/**
 * Writes need the server's token when one is configured (DESIGN: `--token` guards ingest and API
 * writes); reads stay open. The check sits in the base every procedure is built from and keys on the
 * call's type, so a new mutation is guarded without anyone remembering to: app-router's test walks
 * every procedure to prove it. It runs before input parsing, so a refused call learns nothing else.
 */
const writesNeedToken = t.middleware(({ ctx, type, next }) => {
  if (type !== "query" && !ctx.mayWrite()) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: writeTokenRequiredMessage });
  }
  return next();
});

export const router = t.router;
/** Queries are open to whoever reaches the API; mutations require the token when one is set. */
export const publicProcedure = t.procedure.use(writesNeedToken);
export const createCallerFactory = t.createCallerFactory;
