import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlatform, replayStory, runTimeline } from "@faultline/demo";
import { verifyWebhookSignature } from "@faultline/notify";
import { afterEach, describe, expect, it } from "vitest";
import { parseServeConfig, serveSettings } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./start-server.ts";

// Done-when of paging: the identity outage, replayed at full speed through a real `faultline serve`
// with a signed generic webhook configured, reaches a local receiver as exactly one opening message
// naming the identity config push and exactly one resolution.

const defaults = Object.fromEntries(serveSettings.map((setting) => [setting.key, setting.default]));
const secretEnv = "FAULTLINE_TEST_DEMO_PAGING_SECRET";

interface Page {
  verified: boolean;
  body: {
    event: string;
    incident: { id: string; rootService: string | null; url: string; status: string };
    cause: { service: string; kind: string } | null;
  };
}

async function startReceiver(secret: string) {
  const pages: Page[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const verdict = verifyWebhookSignature({
        secret,
        header: req.headers["x-faultline-signature"] as string | undefined,
        body,
        nowMs: Date.now(),
      });
      pages.push({ verified: verdict.valid, body: JSON.parse(body) as Page["body"] });
      res.writeHead(verdict.valid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    pages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("paging through a real faultline serve", () => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(async () => cleanup(), 60_000);

  it("pages once when the identity outage opens (naming the config push) and once when it resolves", async () => {
    const secret = "demo-paging-secret-value";
    process.env[secretEnv] = secret;
    const receiver = await startReceiver(secret);
    const dir = await mkdtemp(join(tmpdir(), "faultline-paging-"));
    const notifyConfig = join(dir, "notify.yaml");
    await writeFile(
      notifyConfig,
      [
        // The replay ends five minutes ago and its outage is older than the default window: widen it.
        "recentWindow: 60m",
        "openHold: 5s",
        "resolveHold: 5s",
        "destinations:",
        "  - id: local",
        "    kind: webhook",
        `    url: ${receiver.url}`,
        `    secretEnv: ${secretEnv}`,
      ].join("\n"),
    );
    const config = parseServeConfig({
      ...defaults,
      dataDir: join(dir, "data"),
      port: "0",
      otlpPort: "0",
      otlpGrpcPort: "0",
      notifyConfig,
      publicUrl: "https://faultline.example.com",
    });
    const server = await startServer(config, createLogger(process.env.E2E_LOG ?? "silent"));
    cleanup = async () => {
      await server.close();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
      delete process.env[secretEnv];
    };
    const { otlpHttpUrl } = await server.ready;
    const replay = await replayStory({
      story: "identity-outage",
      apiUrl: server.apiUrl,
      otlpHttpUrl,
      seed: "test:paging",
      endMs: Date.now() - 10 * 60_000,
    });
    // The story ends 150 s after its rollback; detection declares a recovery after a few quiet minutes,
    // so healthy traffic continues a while as it would live.
    const tail = createPlatform({
      apiUrl: server.apiUrl,
      otlpHttpUrl,
      seed: "test:paging-tail",
      rootRate: 12,
    });
    try {
      await runTimeline({
        platform: tail.platform,
        fromMs: replay.toMs,
        toMs: replay.toMs + 5 * 60_000,
        steps: [],
        reportChange: async () => {},
      });
    } finally {
      await tail.close();
    }
    const deadline = Date.now() + 120_000;
    const resolvedOutage = () =>
      receiver.pages.some(
        (page) => page.body.event === "resolved" && page.body.incident.rootService === "identity",
      );
    while (!resolvedOutage() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // A little longer, so a duplicate or a late extra page would be seen.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // Only the outage's incident counts: the tail comes from a second simulated platform, whose fresh
    // broker can look like a brief consumer hiccup to detection and page for that, as it should.
    const outage = receiver.pages.find((page) => page.body.incident.rootService === "identity")?.body.incident
      .id;
    const summary = receiver.pages
      .filter((page) => page.body.incident.id === outage)
      .map((page) => ({
        verified: page.verified,
        event: page.body.event,
        root: page.body.incident.rootService,
        cause: page.body.cause && `${page.body.cause.kind} ${page.body.cause.service}`,
      }));
    expect(summary, JSON.stringify(receiver.pages.map((page) => page.body.event))).toEqual([
      { verified: true, event: "opened", root: "identity", cause: "config identity" },
      { verified: true, event: "resolved", root: "identity", cause: "config identity" },
    ]);
    const [opened] = receiver.pages;
    expect(opened?.body.incident.url).toBe(
      `https://faultline.example.com/incidents/${opened?.body.incident.id}`,
    );
  }, 240_000);
});
