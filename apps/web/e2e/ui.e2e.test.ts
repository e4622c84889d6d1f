import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProductionUi, chromiumMissing, launchChromium, screenshotsDir } from "./browser-fixtures.ts";
import { type ServedStory, serveWithStory } from "./serve-with-story.ts";

// The on-call path end to end: a real `faultline serve` with the dm-canary story replayed into it,
// the built UI in headless Chromium. Any console error or uncaught page error fails the test.

const browserMissing = chromiumMissing("the UI end-to-end test");

const outDir = fileURLToPath(new URL("../test-results/e2e-dist", import.meta.url));
const screenshots = screenshotsDir;

describe.skipIf(browserMissing)("the UI in headless Chromium against faultline serve", () => {
  let served: ServedStory;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // Always the current sources, built the way `npm start` builds them.
    await buildProductionUi(outDir);
    served = await serveWithStory({ story: "dm-canary", webDist: outDir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${message.text()} @ ${message.location().url}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  }, 60_000);

  it("shows the incident with its cause on triage, opens it, acknowledges it and adds a note", async () => {
    await page.goto(served.apiUrl);
    const card = page.locator("article.incident-card").first();
    await card.waitFor({ timeout: 15_000 });
    await expect.poll(() => card.locator(".cause").textContent()).toMatch(/Cause\s*deploy dm-api 3\.42\.0/);
    expect(await card.locator("svg.sparkline line.sparkline-marker").count()).toBeGreaterThan(0);
    await page.locator("table.board tbody tr").first().waitFor();
    expect(await page.locator("table.board tbody tr").count()).toBeGreaterThan(3);
    await page.screenshot({ path: `${screenshots}/triage.png`, fullPage: true });

    // Who acts: asked once, kept in localStorage.
    await page.getByLabel("Your name").first().fill("e2e-oncall");
    await page.getByRole("button", { name: "Save" }).first().click();
    await page.getByText("Acting as").first().waitFor();

    await card.locator("h3 a").click();
    await page.getByRole("heading", { name: "Suspects" }).waitFor();
    const cause = page.locator(".suspects li.suspect-cause");
    await expect.poll(() => cause.textContent()).toContain("deploy dm-api 3.42.0");
    expect(await cause.locator(".evidence-list li").count()).toBeGreaterThan(0);
    // The change as a labelled marker on the timeline chart, and in the list under it.
    await page.locator(".recharts-reference-line").first().waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator(".timeline-charts").textContent()).toContain("deploy dm-api 3.42.0");
    await page.locator(".recharts-reference-area").first().waitFor();
    await page.getByRole("heading", { name: /error rate by version/ }).waitFor();
    await page.locator("svg.service-graph .node-root").waitFor();
    await page.screenshot({ path: `${screenshots}/incident.png`, fullPage: true });

    // The replayed story is over, so detection has usually resolved the incident: reopen it, then acknowledge.
    if (await page.getByRole("button", { name: "Reopen" }).isVisible()) {
      await page.getByRole("button", { name: "Reopen" }).click();
      await page.getByText("Reopened by e2e-oncall").waitFor();
    }
    await page.getByRole("button", { name: "Acknowledge" }).click();
    await page.locator(".incident-header .status-acknowledged").waitFor();
    await page.getByText("Acknowledged by e2e-oncall").waitFor();

    await page.getByLabel("Add a note").fill("Rolled dm-api back to 3.41.2 <script>alert(1)</script>");
    await page.getByRole("button", { name: "Add note" }).click();
    const note = page.locator(".event-timeline li.event-person", { hasText: "Rolled dm-api back" });
    await note.waitFor();
    expect(await note.textContent()).toContain("<script>alert(1)</script>");
    expect(await note.textContent()).toContain("e2e-oncall");
    await page.screenshot({ path: `${screenshots}/incident-acknowledged.png`, fullPage: true });
  }, 120_000);

  it("shows a service over a range and the changes page with error rates around each change", async () => {
    await page.goto(`${served.apiUrl}/services/dm-api?range=6h`);
    await page.getByRole("heading", { name: "Signals" }).waitFor();
    await page.locator(".recharts-line").first().waitFor();
    expect(await page.getByRole("button", { name: "6 h" }).getAttribute("aria-pressed")).toBe("true");
    await page.screenshot({ path: `${screenshots}/service.png`, fullPage: true });

    await page.goto(`${served.apiUrl}/changes?service=dm-api&range=24h`);
    const row = page.locator("table.changes-table tbody tr", { hasText: "3.42.0" });
    await row.waitFor();
    await page.screenshot({ path: `${screenshots}/changes.png`, fullPage: true });
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  }, 60_000);
});
