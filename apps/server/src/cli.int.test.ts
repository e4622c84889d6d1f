import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { serveSettings } from "./config.ts";

const bin = fileURLToPath(new URL("../bin/faultline.mjs", import.meta.url));

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Resolves with the first JSON log line that matches, so tests wait on events, not on time. */
function waitForLog(child: ChildProcess, matches: (line: Record<string, unknown>) => boolean) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    if (!child.stdout) throw new Error("no stdout");
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (matches(line)) resolve(line);
      } catch {
        // not a log line
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code} before the expected log line`)));
  });
}

describe("faultline CLI", () => {
  let child: ChildProcess | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    child?.kill("SIGKILL");
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("documents every serve flag with its default and environment variable", () => {
    const help = runCli(["serve", "--help"]);
    expect(help.status).toBe(0);
    const text = help.stdout.replace(/\s+/g, " ");
    for (const setting of serveSettings) {
      expect(text).toContain(setting.flag);
      expect(text).toContain(`env: ${setting.env}`);
      if (typeof setting.default === "string") expect(text).toContain(`default: "${setting.default}"`);
    }
    expect(runCli(["--help"]).stdout).toMatch(/serve[\s\S]*migrate/);
  });

  it("exits with status 2 and a clear message for bad configuration", () => {
    const result = runCli(["serve", "--host", "0.0.0.0"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Refusing to listen on 0.0.0.0 without authentication");
    const fromEnv = runCli(["serve"], { FAULTLINE_PORT: "seventy" });
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toContain("--port (FAULTLINE_PORT): must be a number");
  });

  it("serves /healthz at once, /readyz after migrations, and stops cleanly on SIGTERM", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "faultline-cli-"));
    child = spawn(
      process.execPath,
      [bin, "serve", "--port", "0", "--otlp-port", "0", "--otlp-grpc-port", "0", "--data-dir", dataDir],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const listening = await waitForLog(child, (line) => line.msg === "API and UI listening");
    const url = String(listening.url);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    // Ready once the receivers listen (after migrations and the ingest log's replay); notifications
    // start right after that line, so /readyz is asked until it turns, within a deadline.
    await waitForLog(child, (line) => line.msg === "OTLP receivers listening");
    let ready = await fetch(`${url}/readyz`);
    for (const deadline = Date.now() + 20_000; ready.status !== 200 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ready = await fetch(`${url}/readyz`);
    }
    expect(ready.status).toBe(200);

    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 90_000);

  it("applies migrations with `faultline migrate`", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "faultline-migrate-"));
    const result = runCli(["migrate", "--data-dir", dataDir]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("migrations applied (pglite");
    expect(result.status).toBe(0);
  }, 90_000);
});
