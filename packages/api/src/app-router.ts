import { configRouter } from "./routers/config-router.ts";
import { router } from "./trpc.ts";

/**
 * Every router the UI calls, one key per `src/routers/<name>-router.ts`. Add a router by importing it
 * here under its name; keep keys short nouns (`incidents`, `services`, `changes`).
 */
export const appRouter = router({
  config: configRouter,
});

export type AppRouter = typeof appRouter;
