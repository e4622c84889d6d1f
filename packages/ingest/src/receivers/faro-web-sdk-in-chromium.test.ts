// End to end: the real @grafana/faro-web-sdk in headless Chromium posts to the Faro receiver on the
// OTLP port from another origin (so CORS preflights are real), and the receiver's sink counts both a
// browser exception and a span of a trace pushed through the Faro API.
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFaroHandler, isFaroCollectPath } from "./faro-handler.ts";
import { createOtlpHttpServer, type OtlpHttpServer } from "./otlp-http-server.ts";
import { RecordingBrowserSignalSink } from "./recording-browser-signal-sink.ts";
import { createRecordingSink } from "./recording-trace-sink.ts";

const chromiumPath = process.env.FAULTLINE_CHROMIUM ?? "/usr/bin/chromium";
const browserMissing = !existsSync(chromiumPath);
if (browserMissing) {
  if (process.env.FAULTLINE_REQUIRE_BROWSER === "1")
    throw new Error(`Chromium is required but ${chromiumPath} is missing`);
  console.warn(
    `[faultline] SKIPPING the Faro browser test: no Chromium at ${chromiumPath} (apt-get install chromium)`,
  );
}

const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const screenshotPath = fileURLToPath(new URL("../../test-results/faro-test-page.png", import.meta.url));
const apiKey = "browser-app-key";
const pushedTraceId = "0af7651916cd43dd8448eb211c80319c";

// The page script: initialise Faro with its default web instrumentations (errors, sessions,
// performance…), push an OTLP trace through the Faro API, then throw an uncaught error.
const pageScript = `
import { getWebInstrumentations, initializeFaro } from "@grafana/faro-web-sdk";
const config = window.__faultlineTest;
const faro = initializeFaro({
  url: config.collectUrl,
  apiKey: config.apiKey,
  app: { name: "dm-web", version: "4.2.0", environment: "production" },
  instrumentations: getWebInstrumentations({ captureConsole: false }),
  batching: { sendTimeout: 100 },
});
faro.api.setUser({ id: "user-e2e" });
const nowNs = String(Date.now()) + "000000";
faro.api.pushTraces({
  resourceSpans: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: "dm-web" } }] },
    scopeSpans: [{ scope: { name: "faultline-test" }, spans: [{
      traceId: config.traceId, spanId: "b7ad6b7169203331", name: "HTTP POST /api/messages", kind: 3,
      startTimeUnixNano: nowNs, endTimeUnixNano: nowNs, status: { code: 0 },
    }] }],
  }],
});
document.getElementById("status").textContent = "Faro initialised: trace pushed, throwing an error";
setTimeout(() => { throw new Error("boom from the Faultline test page"); }, 50);
`;

describe.skipIf(browserMissing)("Faro web SDK in headless Chromium", () => {
  const sink = new RecordingBrowserSignalSink();
  let otlp: OtlpHttpServer;
  let pages: Server;
  let browser: Browser;
  let pageUrl = "";
  let collectUrl = "";

  beforeAll(async () => {
    const bundle = await build({
      stdin: { contents: pageScript, resolveDir: packageDir, loader: "js" },
      bundle: true,
      format: "iife",
      platform: "browser",
      target: "es2020",
      write: false,
      logLevel: "silent",
    });
    const script = bundle.outputFiles[0]?.text ?? "";
    pages = createServer((req, res) => {
      if (req.url === "/page.js") {
        res.writeHead(200, { "content-type": "text/javascript" }).end(script);
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html>
<html><head><title>Faultline Faro test page</title></head>
<body style="font-family: sans-serif; padding: 2rem">
<h1>Faultline Faro test page</h1><p id="status">loading…</p>
<script>window.__faultlineTest = ${JSON.stringify({ collectUrl, apiKey, traceId: pushedTraceId })};</script>
<script src="/page.js"></script></body></html>`);
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/conversations/42`;

    otlp = createOtlpHttpServer({ sink: createRecordingSink() });
    otlp.handler.route(
      isFaroCollectPath,
      createFaroHandler({ sink, apiKey, allowedOrigins: [new URL(pageUrl).origin] }),
    );
    collectUrl = `http://127.0.0.1:${await otlp.listen(0)}/collect/e2e`;

    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await otlp?.close(1000);
    await new Promise((resolve) => pages?.close(resolve));
  });

  it("delivers the page's exception and its pushed trace span to the receiver's sink", async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(pageUrl);
    // Event-driven: resolves when the sink has seen both; the test timeout is the only bound.
    await sink.until(
      (spans) =>
        spans.some(
          (s) => s.kind === "browser" && s.exception?.message?.includes("boom from the Faultline test page"),
        ) && spans.some((s) => s.traceId === pushedTraceId),
    );
    mkdirSync(fileURLToPath(new URL("../../test-results/", import.meta.url)), { recursive: true });
    await page.screenshot({ path: screenshotPath });
    await page.close();

    expect(pageErrors).toContain("boom from the Faultline test page");
    const error = sink.spans.find((s) => s.kind === "browser" && s.statusCode === "error");
    expect(error).toMatchObject({
      name: "/conversations/:id",
      resource: {
        serviceName: "dm-web",
        serviceVersion: "4.2.0",
        environment: "production",
        sdkLanguage: "webjs",
      },
      attributes: { userId: "user-e2e", platform: "web", errorType: "Error" },
    });
    expect(error?.attributes.sessionId).toMatch(/.+/);
    const traced = sink.spans.find((s) => s.traceId === pushedTraceId);
    expect(traced).toMatchObject({
      name: "HTTP POST /api/messages",
      kind: "client",
      spanId: "b7ad6b7169203331",
    });
  }, 60_000);
});
