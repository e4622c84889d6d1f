/**
 * The logging surface the receivers need. A pino `Logger` satisfies it structurally, so the app can
 * pass its own pino instance; packages never create a global logger.
 */
export interface IngestLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const ignore = (): void => {};

/** A logger that drops everything: the default, so library code is quiet unless wired to the app's. */
export const silentLogger: IngestLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
