import { readFile } from "node:fs/promises";
import { type DbHandle, replaceFileNotificationConfig } from "@faultline/db";
import { DeliveryWorker, type DeliveryWorkerOptions, type NotifyLogger } from "./delivery-worker.ts";
import {
  type NotifyConfig,
  NotifyConfigError,
  notifyConfigRows,
  parseNotifyConfig,
} from "./notify-config.ts";

/** Reads and validates a notification config file (YAML or JSON). */
export async function loadNotifyConfigFile(path: string): Promise<NotifyConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new NotifyConfigError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parseNotifyConfig(text, path);
}

/**
 * What `faultline serve` runs for paging: the config file's destinations, rules and mutes replace the
 * file-managed rows (API-managed ones stay), then the delivery worker polls the outbox. Without a
 * file, the worker still delivers what was configured through the API.
 */
export async function startNotifications(options: {
  db: DbHandle;
  config: NotifyConfig | null;
  publicUrl: string;
  logger: NotifyLogger;
  env?: Readonly<Record<string, string | undefined>>;
  worker?: Partial<DeliveryWorkerOptions>;
}): Promise<DeliveryWorker> {
  if (options.config) await replaceFileNotificationConfig(options.db, notifyConfigRows(options.config));
  const config = options.config;
  const worker = new DeliveryWorker({
    db: options.db,
    publicUrl: config?.publicUrl ?? options.publicUrl,
    logger: options.logger,
    env: options.env ?? process.env,
    ...(config
      ? {
          timeoutMs: config.timeout,
          routing: {
            recentWindowMs: config.recentWindow,
            openHoldMs: config.openHold,
            resolveHoldMs: config.resolveHold,
          },
          backoff: { maxAttempts: config.maxAttempts },
          smtp: config.smtp,
        }
      : {}),
    ...options.worker,
  });
  worker.start();
  if (config) {
    options.logger.info(
      { destinations: config.destinations.map((destination) => `${destination.id} (${destination.kind})`) },
      "notifications configured",
    );
  }
  return worker;
}
