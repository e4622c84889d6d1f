import { initTRPC } from "@trpc/server";
import type { ApiContext } from "./create-context.ts";

/**
 * The one tRPC instance every router is built from. Routers import `router` and `publicProcedure` from
 * here (never call `initTRPC` again), so the context type and error shape stay the same everywhere.
 */
const t = initTRPC.context<ApiContext>().create();

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
