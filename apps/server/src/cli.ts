import { createDb } from "@faultline/db";
import { Command, Option } from "commander";
import { ConfigError, parseServeConfig, serveSettings } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./start-server.ts";

/** Builds the `faultline` command line. Exported for tests; `main` runs it. */
export function buildProgram(): Command {
  const program = new Command("faultline")
    .description(
      "Faultline: incident detection, deploy attribution and postmortems for messaging systems on OpenTelemetry.",
    )
    .showHelpAfterError();

  const serve = program.command("serve").description("run the receivers, the API and the UI in one process");
  for (const setting of serveSettings) serve.addOption(optionFor(setting.key));
  serve.action(async (options: Record<string, unknown>) => {
    const config = parseServeConfig(options);
    const logger = createLogger(config.logLevel);
    const server = await startServer(config, logger);
    installShutdown(logger, config.shutdownTimeoutMs, () => server.close());
    await server.ready;
  });

  program
    .command("migrate")
    .description("apply database migrations and exit")
    .addOption(optionFor("dataDir"))
    .addOption(optionFor("databaseUrl"))
    .action(async (options: { dataDir: string; databaseUrl?: string }) => {
      const db = await createDb(
        options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: options.dataDir },
      );
      console.log(`migrations applied (${db.engine}: ${db.location})`);
      await db.close();
    });
  return program;
}

/** A commander option built from the one settings table, so flags, env and defaults never drift. */
function optionFor(key: (typeof serveSettings)[number]["key"]): Option {
  const setting = serveSettings.find((candidate) => candidate.key === key);
  if (!setting) throw new Error(`unknown setting ${key}`);
  const option = new Option(setting.flag, setting.description).env(setting.env);
  if (setting.default !== undefined) option.default(setting.default);
  return option;
}

/**
 * SIGTERM/SIGINT stop the server gracefully; if that takes longer than `timeoutMs` the process exits
 * anyway with status 1, so an orchestrator's kill timeout is never the thing that ends it.
 */
function installShutdown(
  logger: ReturnType<typeof createLogger>,
  timeoutMs: number,
  close: () => Promise<void>,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, "graceful shutdown timed out; exiting");
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}
