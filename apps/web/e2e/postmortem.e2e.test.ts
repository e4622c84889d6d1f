import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProductionUi, chromiumMissing, launchChromium, screenshotsDir } from "./browser-fixtures.ts";
import { type ServedStory, serveWithStory } from "./serve-with-story.ts";

// After the fire, end to end: from the dm-canary incident write a postmortem, edit it (hostile Markdown
// included), meet a concurrent save, add an action item, reload and find it, publish, export, and see
// the incident counted against its deploy on the reports page. Console errors and dialogs fail it.

const browserMissing = chromiumMissing("the postmortem end-to-end test");

// Its own build directory: the other end-to-end file builds in parallel.
const outDir = fileURLToPath(new URL("../test-results/e2e-dist-postmortem", import.meta.url));
const screenshots = screenshotsDir;

const hostileMarkdown = [
  "",
  "## Notes from the review",
  "",
  'Payload <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> stay text.',
  "",
  "[a link](javascript:window.__xss=3) and ![pixel](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
  "",
].join("\n");

const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe.skipIf(browserMissing)("postmortems and reports in headless Chromium", () => {
  let served: ServedStory;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    // A production build, as `npm start` serves: under vitest NODE_ENV is "test", which makes Vite build
    // in development flavour (import.meta.env.DEV true: the UI's Faro would then report to the dev
    await buildProductionUi(outDir);
    served = await serveWithStory({ story: "dm-canary", webDist: outDir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`${message.text()} @ ${message.location().url}`);
    });
    page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
    page.on("dialog", (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  }, 60_000);

  let postmortemUrl = "";
  let incidentTitle = "";

  it("writes a postmortem from the incident, prefilled with its numbers, cause and a chart", async () => {
    await page.goto(served.apiUrl);
    await page.getByLabel("Your name").first().fill("e2e-author");
    await page.getByRole("button", { name: "Save" }).first().click();
    await page.getByText("Acting as").first().waitFor();
    const card = page.locator("article.incident-card").first();
    await card.waitFor({ timeout: 15_000 });
    await card.locator("h3 a").click();
    incidentTitle = ((await page.locator("#incident-title").textContent()) ?? "").trim();
    await page.getByRole("button", { name: "Write postmortem" }).click();
    await page.waitForURL(/\/postmortems\/pm_/);
    postmortemUrl = page.url();
    const preview = page.getByRole("region", { name: "Preview" });
    await preview.getByRole("heading", { name: "Impact" }).waitFor();
    const text = await preview.textContent();
    expect(text).toMatch(/Requests failing: \d+\.\d% \([\d,]+ of [\d,]+ requests/);
    expect(text).toContain("Trigger: deploy of dm-api 3.42.0");
    expect(text).toMatch(/Detection delay: /);
    await preview.locator(".chart-snapshot .recharts-line").first().waitFor({ timeout: 15_000 });
    await page.getByText("Saved · revision 1").waitFor();
    await page.screenshot({ path: `${screenshots}/postmortem-draft.png`, fullPage: true });
  }, 240_000);

  it("autosaves edits as revisions and renders hostile Markdown harmless", async () => {
    const editor = page.getByLabel("Markdown");
    await editor.focus();
    await page.keyboard.press("Control+End");
    await editor.pressSequentially(hostileMarkdown.slice(0, 40));
    await editor.evaluate((element, rest) => {
      // The rest at once, the way a paste arrives.
      const area = element as HTMLTextAreaElement;
      const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")?.set;
      setter?.call(area, area.value + rest);
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }, hostileMarkdown.slice(40));
    await page.getByText("Saved · revision 2").waitFor({ timeout: 10_000 });
    const preview = page.getByRole("region", { name: "Preview" });
    await preview.getByText("stay text").waitFor();
    expect(await preview.locator("script, iframe, [onerror], [onload]").count()).toBe(0);
    // The image keeps its alt text but loses its data: source.
    expect(await preview.locator("img[src]").count()).toBe(0);
    expect(await preview.locator('a[href^="javascript"], a[href^="data"]').count()).toBe(0);
    // Raw HTML is shown as the characters the author typed, never as elements.
    expect(await preview.textContent()).toContain(
      'Payload <img src=x onerror="window.__xss=1"> and <script>',
    );
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
  }, 60_000);

  it("shows a conflict with both versions when someone else saved meanwhile, and keeps nothing hidden", async () => {
    const id = decodeURIComponent(postmortemUrl.split("/postmortems/")[1]?.split("?")[0] ?? "");
    const current = (await (
      await fetch(`${served.apiUrl}/trpc/postmortems.get?input=${encodeURIComponent(JSON.stringify({ id }))}`)
    ).json()) as { result: { data: { postmortem: { revision: number; title: string; body: string } } } };
    const theirs = current.result.data.postmortem;
    const response = await fetch(`${served.apiUrl}/trpc/postmortems.save`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-faultline-user": "colleague" },
      body: JSON.stringify({
        id,
        baseRevision: theirs.revision,
        title: theirs.title,
        body: `${theirs.body}\nTheir line.\n`,
      }),
    });
    expect(response.status).toBe(200);
    await page.getByLabel("Markdown").press("End");
    await page.getByLabel("Markdown").pressSequentially("\nMy line.");
    const dialog = page.getByRole("dialog", { name: /Someone else saved/ });
    await dialog.waitFor({ timeout: 10_000 });
    expect(await dialog.getByLabel("Their version").inputValue()).toContain("Their line.");
    expect(await dialog.getByLabel("Your version").inputValue()).toContain("My line.");
    expect(await dialog.textContent()).toContain("colleague");
    await page.screenshot({ path: `${screenshots}/postmortem-conflict.png`, fullPage: false });
    await dialog.getByRole("button", { name: /Keep mine/ }).click();
    await page.getByText("Saved · revision 4").waitFor({ timeout: 10_000 });
    await page.getByRole("tab", { name: "History" }).click();
    await page.getByRole("button", { name: /Revision 3\s*colleague/ }).waitFor();
    await page.getByRole("button", { name: /Revision 4/ }).click();
    await page.locator(".revision-diff .diff-added", { hasText: "My line." }).waitFor();
    await page.locator(".revision-diff .diff-removed", { hasText: "Their line." }).waitFor();
    await page.screenshot({ path: `${screenshots}/postmortem-history.png`, fullPage: true });
  }, 60_000);

  it("adds an action item that survives a reload and is flagged overdue across postmortems", async () => {
    await page.getByLabel("Action", { exact: true }).fill("Alert on dm-api canary errors <b>now</b>");
    await page.getByLabel("Owner", { exact: true }).fill("e2e-owner");
    await page.getByLabel("Due date", { exact: true }).fill("2026-01-15");
    await page.getByLabel("Priority", { exact: true }).selectOption("high");
    await page.getByLabel("Link", { exact: true }).fill("https://tracker.example/OPS-42");
    await page.getByRole("button", { name: "Add action item" }).click();
    const row = page.locator("table.action-items tr", { hasText: "Alert on dm-api canary errors" });
    await row.waitFor();
    await page.reload();
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain("<b>now</b>");
    expect(await row.locator(".badge-overdue").count()).toBe(1);
    expect(await row.getByRole("link", { name: "tracker.example" }).getAttribute("href")).toBe(
      "https://tracker.example/OPS-42",
    );
    await page.goto(`${served.apiUrl}/action-items?show=overdue`);
    const listed = page.locator("table.action-items tr.overdue", {
      hasText: "Alert on dm-api canary errors",
    });
    await listed.waitFor();
    expect(await listed.textContent()).toContain("Postmortem:");
    await page.screenshot({ path: `${screenshots}/action-items.png`, fullPage: true });
  }, 60_000);

  it("publishes the postmortem and exports it as harmless Markdown", async () => {
    await page.goto(postmortemUrl);
    await page.getByRole("button", { name: "Send for review" }).click();
    await page.locator(".badge.status-in_review").waitFor();
    await page.getByRole("button", { name: "Publish" }).click();
    await page.locator(".badge.status-published").waitFor();
    await page.goto(postmortemUrl.split("?")[0] ?? postmortemUrl);
    // Published: the document view by default.
    const document = page.getByRole("region", { name: "Postmortem" });
    await document.getByRole("heading", { name: "Root cause and trigger" }).waitFor();
    await page.screenshot({ path: `${screenshots}/postmortem-published.png`, fullPage: true });
    await page.emulateMedia({ media: "print" });
    await page.screenshot({ path: `${screenshots}/postmortem-print.png`, fullPage: true });
    await page.emulateMedia({ media: "screen" });

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export Markdown" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^postmortem-.*\.md$/);
    const markdown = await readFile((await download.path()) ?? "", "utf8");
    expect(markdown).toContain("status published");
    expect(markdown).toContain("## Action items (tracked)");
    expect(markdown).toContain("Alert on dm-api canary errors");
    expect(markdown).toContain("| Time (UTC) | Requests | Errors | Error rate | p95 ms |");
    expect(markdown).not.toMatch(/(?<!\\)<(img|script)/);
    expect(markdown).not.toContain("](javascript");
    expect(markdown).not.toContain("](data:");
  }, 60_000);

  it("lets a team edit a template, warning about placeholders no data fills", async () => {
    await page.goto(`${served.apiUrl}/postmortems/templates?edit=lightweight`);
    const form = page.getByRole("form", { name: "Template" });
    await form.getByLabel("Team").fill("dm");
    const body = form.getByLabel("Markdown");
    await body.fill(`${await body.inputValue()}\n## Customers told\n\n{{customer_note}}\n`);
    await form.getByRole("button", { name: "Save template" }).click();
    await form.getByText("Saved.").waitFor();
    await form.getByText("Not filled from any data (left as written): {{customer_note}}").waitFor();
    await page.locator(".template-list button.active", { hasText: "team dm" }).waitFor();
    await page.screenshot({ path: `${screenshots}/postmortem-templates.png`, fullPage: true });
  }, 60_000);

  it("counts the incident against its deploy on the reports page, with the REST report's numbers", async () => {
    const from = utcDate(served.replay.fromMs);
    const to = utcDate(Date.now());
    await page.goto(`${served.apiUrl}/reports?from=${from}&to=${to}&env=production`);
    const failing = page.locator(".failing-changes > li", { hasText: "deploy dm-api 3.42.0" });
    await failing.waitFor({ timeout: 15_000 });
    expect(await failing.textContent()).toContain(incidentTitle);
    const rest = (await (
      await fetch(
        `${served.apiUrl}/api/v1/reports/correlation?from=${from}T00:00:00Z&to=${utcDate(Date.parse(`${to}T00:00:00Z`) + 86_400_000)}T00:00:00Z&environment=production`,
      )
    ).json()) as { summary: { deploys: number; failedDeploys: number; incidents: number } };
    const stat = (label: string) =>
      page.locator(".stat", { has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) }).locator("dd");
    expect(rest.summary.failedDeploys).toBeGreaterThan(0);
    expect(await stat("Failed changes").textContent()).toBe(String(rest.summary.failedDeploys));
    expect(await stat("Incidents").textContent()).toBe(String(rest.summary.incidents));
    expect(((await stat("Changes").textContent()) ?? "").startsWith(String(rest.summary.deploys))).toBe(true);
    await page.locator(".recharts-bar-rectangle").first().waitFor();
    await page.screenshot({ path: `${screenshots}/reports.png`, fullPage: true });
    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    expect(problems.join("\n")).toBe("");
  }, 60_000);
});
