import { describe, expect, it } from "vitest";
import { ConfigError, isLoopbackHost, parseServeConfig, serveSettings } from "./config.ts";

const defaults = Object.fromEntries(serveSettings.map((setting) => [setting.key, setting.default]));

describe("parseServeConfig", () => {
  it("turns the documented defaults into a loopback, embedded-database configuration", () => {
    expect(parseServeConfig(defaults)).toEqual({
      dataDir: "./.faultline/data",
      databaseUrl: undefined,
      host: "127.0.0.1",
      port: 3000,
      otlpPort: 4318,
      otlpGrpcPort: 4317,
      token: undefined,
      githubWebhookSecret: undefined,
      gitlabWebhookToken: undefined,
      argocdWebhookToken: undefined,
      faroApiKey: undefined,
      corsOrigins: [],
      demo: false,
      demoBroker: "memory",
      logLevel: "info",
      shutdownTimeoutMs: 10000,
    });
  });

  it("names the flag and environment variable of every bad value at once", () => {
    const attempt = () =>
      parseServeConfig({
        ...defaults,
        port: "99999",
        otlpPort: "http",
        logLevel: "loud",
        databaseUrl: "mysql://x",
      });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain("--port (FAULTLINE_PORT): must be between 0 and 65535");
    expect(message).toContain("--otlp-port (FAULTLINE_OTLP_PORT): must be a number");
    expect(message).toContain("--log-level (FAULTLINE_LOG_LEVEL)");
    expect(message).toContain("--database-url (DATABASE_URL): must be a postgres:// or postgresql:// URL");
  });

  it("refuses a non-loopback host without a token, and accepts it with one", () => {
    expect(() => parseServeConfig({ ...defaults, host: "0.0.0.0" })).toThrow(
      /Refusing to listen on 0\.0\.0\.0/,
    );
    expect(parseServeConfig({ ...defaults, host: "0.0.0.0", token: "a-long-secret" }).host).toBe("0.0.0.0");
  });

  it("never echoes a rejected token", () => {
    try {
      parseServeConfig({ ...defaults, token: "short" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain("--token (FAULTLINE_TOKEN): must be at least 8 characters");
      expect((error as Error).message).not.toContain("short");
    }
  });

  it("splits CORS origins and rejects paths or garbage", () => {
    expect(
      parseServeConfig({ ...defaults, corsOrigins: "https://a.example, http://localhost:5173" }).corsOrigins,
    ).toEqual(["https://a.example", "http://localhost:5173"]);
    expect(() => parseServeConfig({ ...defaults, corsOrigins: "https://a.example/path" })).toThrow(
      /--cors-origins \(FAULTLINE_CORS_ORIGINS\)/,
    );
  });

  it("reads boolean environment values", () => {
    expect(parseServeConfig({ ...defaults, demo: "true" }).demo).toBe(true);
    expect(parseServeConfig({ ...defaults, demo: "0" }).demo).toBe(false);
    expect(() => parseServeConfig({ ...defaults, demo: "maybe" })).toThrow(/--demo \(FAULTLINE_DEMO\)/);
    expect(
      parseServeConfig({ ...defaults, demoBroker: "amqp://guest:guest@127.0.0.1:5672" }).demoBroker,
    ).toBe("amqp://guest:guest@127.0.0.1:5672");
    expect(() => parseServeConfig({ ...defaults, demoBroker: "kafka" })).toThrow(
      /--demo-broker \(FAULTLINE_DEMO_BROKER\)/,
    );
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.5", false],
    ["example.com", false],
  ])("%s → %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
