import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlatform } from "@faultline/demo";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseServeConfig, serveSettings } from "./config.ts";
import { runDemoCommand } from "./demo-command.ts";
import { createLogger } from "./logger.ts";
import { type RunningServer, startServer } from "./start-server.ts";

// `faultline demo` replays a story on past event time. Against a server that already has newer data
// (the live `npm start` demo, or a replay that just ran) detection would ignore the replay, so the
// command must refuse with an explanation instead of reporting nothing.

const defaults = Object.fromEntries(serveSettings.map((setting) => [setting.key, setting.default]));

describe("faultline demo against a server with live traffic", () => {
  let server: RunningServer;
  let otlpHttpUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "faultline-demo-command-"));
    const config = parseServeConfig({ ...defaults, dataDir, port: "0", otlpPort: "0", otlpGrpcPort: "0" });
    server = await startServer(config, createLogger("silent"));
    ({ otlpHttpUrl } = await server.ready);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("refuses to replay behind the newest data and says how to replay instead", async () => {
    const live = createPlatform({ apiUrl: server.apiUrl, otlpHttpUrl, seed: "live", rootRate: 12 });
    const nowMs = Date.now();
    await live.platform.simulate(nowMs - 30_000, nowMs);
    await live.close();

    const replay = runDemoCommand({
      story: "dm-canary",
      speed: "max",
      api: server.apiUrl,
      otlp: otlpHttpUrl,
      warmupSeconds: "300",
      settleSeconds: "0",
    });
    await expect(replay).rejects.toBeInstanceOf(ConfigError);
    await expect(replay).rejects.toThrow(/already has \d+ spans after .* faultline serve --data-dir/);
  }, 120_000);
});
