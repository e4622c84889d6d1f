import { publicProcedure, router } from "../trpc.ts";

/** What the UI needs to know about this server before it draws anything. */
export const configRouter = router({
  get: publicProcedure.query(({ ctx }) => ({
    defaultEnvironment: ctx.config.defaultEnvironment,
    traceUrlTemplate: ctx.config.traceUrlTemplate,
    faroCollectorUrl: ctx.config.faroCollectorUrl,
    serverTimeMs: ctx.clock(),
  })),
});
