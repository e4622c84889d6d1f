import { changesRouter } from "./routers/changes-router.ts";
import { configRouter } from "./routers/config-router.ts";
import { incidentsRouter } from "./routers/incidents-router.ts";
import { notificationsRouter } from "./routers/notifications-router.ts";
import { postmortemsRouter } from "./routers/postmortems-router.ts";
import { reportsRouter } from "./routers/reports-router.ts";
import { servicesRouter } from "./routers/services-router.ts";
import { router } from "./trpc.ts";

/**
 * Every router the UI calls, one key per `src/routers/<name>-router.ts`. Add a router by importing it
 * here under its name; keep keys short nouns (`incidents`, `services`, `changes`).
 */
export const appRouter = router({
  changes: changesRouter,
  config: configRouter,
  incidents: incidentsRouter,
  notifications: notificationsRouter,
  services: servicesRouter,
  postmortems: postmortemsRouter,
  reports: reportsRouter,
});

export type AppRouter = typeof appRouter;
