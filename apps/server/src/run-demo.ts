import { resolve } from "node:path";
import { type RunningDemo, startDemo } from "@faultline/demo";
import type { ServeConfig } from "./config.ts";
import type { Logger } from "./logger.ts";

/**
 * Starts the demo platform against this process's own receivers (`--demo`) and prints, for the person
 * who just ran `npm start`, where to look and what is about to happen. The demo remembers how far it
 * got in a file beside the data directory, so a restart resumes instead of duplicating history.
 */
export function runDemo(
  config: ServeConfig,
  urls: { apiUrl: string; otlpHttpUrl: string },
  logger: Logger,
  print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): RunningDemo {
  const demoLogger = logger.child({ component: "demo" });
  const report = `${urls.apiUrl}/api/v1/reports/correlation?format=md&from=${encodeURIComponent(
    new Date(Date.now() - 4 * 3_600_000).toISOString().slice(0, 13),
  )}:00:00Z&to=${encodeURIComponent(new Date(Date.now() + 24 * 3_600_000).toISOString().slice(0, 13))}:00:00Z`;
  print(
    [
      "",
      "  Faultline demo — a simulated messaging platform (web and mobile gateways, dm-api, identity,",
      "  profile, inbox, notification, media, the dm.messages topic) reporting to this server.",
      `  API:                ${urls.apiUrl}   (the web UI is not built yet; the API and reports are)`,
      `  OTLP/HTTP + Faro:   ${urls.otlpHttpUrl}`,
      `  Correlation report: ${report}`,
      `  Time series:        ${urls.apiUrl}/api/v1/series?environment=production&service=identity&from=…&to=…`,
      "  Within about three minutes an identity config push breaks DMs and profile views; watch the report",
      "  open ONE incident rooted at identity with the config push as its cause. Ctrl-C stops cleanly.",
      "",
    ].join("\n"),
  );
  const demo = startDemo({
    apiUrl: urls.apiUrl,
    otlpHttpUrl: urls.otlpHttpUrl,
    token: config.token,
    faroApiKey: config.faroApiKey,
    brokerUrl: config.demoBroker === "memory" ? undefined : config.demoBroker,
    stateFile: `${resolve(config.dataDir)}-demo-state.json`,
    log: (message, fields) => demoLogger.info(fields ?? {}, message),
    announce: (line) => print(`  demo: ${line}`),
  });
  demo.backfilled.then(
    () => print("  demo: history is in; live traffic is flowing."),
    (error: unknown) => demoLogger.error({ err: error }, "demo backfill failed"),
  );
  return demo;
}
