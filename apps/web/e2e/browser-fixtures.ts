import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";

// What every end-to-end file needs around its own story: Debian's Chromium, a production build of the
// UI, and a place for screenshots.

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where the e2e tests save the screenshots people look at. */
export const screenshotsDir = fileURLToPath(new URL("../test-results/screenshots", import.meta.url));

const webRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * Whether Chromium is missing, so `describe.skipIf` can skip `what` with a visible warning; with
 * FAULTLINE_REQUIRE_BROWSER=1 (CI) a missing Chromium fails instead of skipping.
 */
export function chromiumMissing(what: string): boolean {
  if (existsSync(chromiumPath)) return false;
  if (process.env.FAULTLINE_REQUIRE_BROWSER === "1") {
    throw new Error(`Chromium is required (FAULTLINE_REQUIRE_BROWSER=1) but ${chromiumPath} is missing`);
  }
  console.warn(`[faultline] SKIPPING ${what}: no Chromium at ${chromiumPath} (apt-get install chromium)`);
  return true;
}

/**
 * Builds the UI into `outDir` as `npm start` serves it, and makes the screenshots directory. Under
 * vitest NODE_ENV is "test", which makes Vite build in development flavour (import.meta.env.DEV true:
 * the UI's Faro would then report to the dev server's /collect proxy, which `faultline serve` lacks).
 */
export async function buildProductionUi(outDir: string): Promise<void> {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({
      root: webRoot,
      mode: "production",
      logLevel: "warn",
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  await mkdir(screenshotsDir, { recursive: true });
}

/** Headless Chromium with the flags that keep it quiet and offline on a CI box. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}
