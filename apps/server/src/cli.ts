import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createDb, type DbHandle } from "@faultline/db";
import { Command, Option } from "commander";
import { ConfigError, parseServeConfig, serveConfigSchema, serveSettings } from "./config.ts";
import { type DemoCommandOptions, runDemoCommand } from "./demo-command.ts";
import { correlationQuery, formatCorrelationReport, loadCorrelationReport } from "./http/report-routes.ts";
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
    .command("demo")
    .description("replay a demo story against a running `faultline serve`, faster than real time")
    .option("--story <name>", "identity-outage or dm-canary", "identity-outage")
    .option("--speed <n>", "event-time speed-up, or max", "60")
    .option("--api <url>", "Faultline API base URL", "http://127.0.0.1:3000")
    .option("--otlp <url>", "Faultline OTLP/HTTP base URL", "http://127.0.0.1:4318")
    .option("--warmup-seconds <s>", "steady traffic before the story (detection needs ~3 minutes)", "300")
    .option("--settle-seconds <s>", "longest wait for the report to settle", "60")
    .addOption(new Option("--token <token>", "bearer token of the server").env("FAULTLINE_TOKEN"))
    .action(async (options: DemoCommandOptions) => {
      await runDemoCommand(options);
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

  program
    .command("report")
    .description("print the correlation report (changes against incidents) of a period and exit")
    .option("--from <iso>", "start of the period, ISO-8601 (e.g. 2026-11-27T00:00:00Z)")
    .option("--to <iso>", "end of the period (exclusive), ISO-8601")
    .option("--format <format>", "md, csv or json", "json")
    .option("--environment <name>", "environment to report on", "production")
    .addOption(optionFor("dataDir"))
    .addOption(optionFor("databaseUrl"))
    .addHelpText(
      "after",
      "\nEmbedded PGlite serves one process at a time: while `faultline serve` runs on the data directory,\n" +
        "ask it instead: GET /api/v1/reports/correlation?from=…&to=…&format=md|csv|json",
    )
    // Usage mistakes exit with 2 like every other bad argument, not commander's 1.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .action(async (options: ReportOptions) => {
      await printReport(options);
    });
  return program;
}

interface ReportOptions {
  from?: string;
  to?: string;
  format: string;
  environment: string;
  dataDir: string;
  databaseUrl?: string;
}

/**
 * `faultline report`: validates the arguments with the API's own query schema (so both accept and
 * refuse the same input), opens the database, prints the report to stdout and closes it again.
 */
async function printReport(options: ReportOptions): Promise<void> {
  const query = correlationQuery.safeParse({
    from: options.from,
    to: options.to,
    environment: options.environment,
    format: options.format,
  });
  const databaseUrl = serveConfigSchema.shape.databaseUrl.safeParse(options.databaseUrl);
  const problems = [
    ...(query.success
      ? []
      : query.error.issues.map((issue) => `  --${String(issue.path[0] ?? "from")}: ${issue.message}`)),
    ...(databaseUrl.success
      ? []
      : databaseUrl.error.issues.map((issue) => `  --database-url (DATABASE_URL): ${issue.message}`)),
  ];
  if (!query.success || !databaseUrl.success) {
    throw new ConfigError(
      `Invalid report arguments:\n${problems.join("\n")}\n` +
        "Usage: faultline report --from ISO --to ISO [--format md|csv|json] [--environment E]",
    );
  }
  if (databaseUrl.data === undefined) assertEmbeddedDataUsable(options.dataDir, query.data);
  let db: DbHandle;
  try {
    db = await createDb(databaseUrl.data ? { databaseUrl: databaseUrl.data } : { dataDir: options.dataDir });
  } catch (error) {
    console.error(`Cannot open the database: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  try {
    const report = await loadCorrelationReport(db, {
      environment: query.data.environment,
      fromMs: Date.parse(query.data.from),
      toMs: Date.parse(query.data.to),
    });
    process.stdout.write(formatCorrelationReport(report, query.data.format));
  } finally {
    await db.close();
  }
}

/**
 * Refuses an embedded data directory that does not exist (opening it would create an empty database
 * and print an empty report, which reads as "no incidents") or that another process has open: PGlite
 * has no locking of its own, and two processes on one directory can corrupt it. An open PGlite keeps
 * `postmaster.pid` in the directory and removes it on a clean close.
 */
function assertEmbeddedDataUsable(dataDir: string, query: { from: string; to: string; environment: string }) {
  const directory = resolve(dataDir);
  if (!existsSync(join(directory, "PG_VERSION"))) {
    throw new ConfigError(
      `No Faultline database in ${directory}. Pass --data-dir (FAULTLINE_DATA_DIR) with the directory ` +
        "`faultline serve` uses, or --database-url (DATABASE_URL) for PostgreSQL.",
    );
  }
  const lockFile = join(directory, "postmaster.pid");
  if (existsSync(lockFile)) {
    const search = new URLSearchParams({ ...query, format: "md" });
    throw new ConfigError(
      `The embedded database in ${directory} is open in another process, probably a running ` +
        "`faultline serve`. Embedded PGlite serves one process at a time, so ask the running server " +
        `instead:\n  curl 'http://127.0.0.1:3000/api/v1/reports/correlation?${search}'\n` +
        `(use its --port). If no Faultline process is running (it may have crashed), remove ${lockFile} ` +
        "and try again.",
    );
  }
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
