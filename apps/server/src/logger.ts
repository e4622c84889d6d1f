import { type Logger, pino } from "pino";

export type { Logger };

/** Structured JSON logs on stdout; the token and database password never reach them. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { app: "faultline" },
    redact: { paths: ["token", "config.token", "req.headers.authorization"], censor: "[redacted]" },
  });
}
