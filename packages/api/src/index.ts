export { type AppRouter, appRouter } from "./app-router.ts";
export {
  type ApiConfig,
  type ApiContext,
  actorHeader,
  type CreateContextOptions,
  createContext,
  type NotificationTester,
  type WriteTokenVerifier,
} from "./create-context.ts";
export { loadCorrelationReport } from "./load-correlation-report.ts";
export { createCallerFactory, writeTokenRequiredMessage } from "./trpc.ts";
