import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProductionUi, chromiumMissing, launchChromium, screenshotsDir } from "./browser-fixtures.ts";
import { type ServedStory, serveWithStory } from "./serve-with-story.ts";

// Paging set up from the UI, end to end: a real `faultline serve` with a --notify-config file and the
// dm-canary story, a signed generic webhook pointing at a receiver this test runs, a routing rule, a
// maintenance window, "Send test", and the pages an acknowledgement sends shown on the incident's
// timeline. Console errors, page errors and dialogs fail it.

const browserMissing = chromiumMissing("the notifications end-to-end test");

const outDir = fileURLToPath(new URL("../test-results/e2e-dist-notifications", import.meta.url));
const screenshots = screenshotsDir;

const secretEnv = "FAULTLINE_NOTIFY_E2E_HOOK_SECRET";
const signingSecret = "e2e-signing-secret-never-shown";
const pagerDutyKeyEnv = "FAULTLINE_NOTIFY_E2E_PD_KEY";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { test?: boolean; event?: string; actor?: string | null; incident?: { id?: string } };
}

/** A generic-webhook receiver: records each request and answers 200. */
async function startWebhookReceiver() {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/faultline`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a receiver does (packages/notify/README.md): HMAC-SHA256 over "<t>.<raw body>", constant time. */
function hasValidSignature(request: Received): boolean {
  const header = String(request.headers["x-faultline-signature"] ?? "");
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac("sha256", signingSecret).update(`${match[1]}.${request.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2] ?? "", "hex"));
}

describe.skipIf(browserMissing)("notifications in headless Chromium", () => {
  let served: ServedStory;
  let browser: Browser;
  let page: Page;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let configDir = "";
  const problems: string[] = [];

  beforeAll(async () => {
    await buildProductionUi(outDir);
    receiver = await startWebhookReceiver();
    // The server's delivery worker reads secrets from its environment, as in production.
    process.env[secretEnv] = signingSecret;
    delete process.env[pagerDutyKeyEnv];
    configDir = await mkdtemp(join(tmpdir(), "faultline-notify-e2e-"));
    const notifyConfig = join(configDir, "faultline-notify.yaml");
    await writeFile(
      notifyConfig,
      [
        // Pages wait for an opening or a detected resolution to settle (30 s / 60 s by default, unit
        // tested in packages/notify); later pages of the incident queue behind them. How fast this test
        // reaches the acknowledgement must not decide whether its page is out yet.
        "openHold: 1s",
        "resolveHold: 1s",
        "destinations:",
        `  - { id: pagerduty-primary, name: PagerDuty primary, kind: pagerduty, routingKeyEnv: ${pagerDutyKeyEnv} }`,
        "",
      ].join("\n"),
    );
    // Paging needs an incident, not its cause (the ui and postmortem e2e tests check the cause).
    served = await serveWithStory({ story: "dm-canary", webDist: outDir, notifyConfig, untilCause: false });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
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
    await receiver?.close();
    delete process.env[secretEnv];
    if (configDir) await rm(configDir, { recursive: true, force: true });
  }, 60_000);

  it("adds a signed webhook, a rule and a maintenance window, and a test message arrives", async () => {
    await page.goto(`${served.apiUrl}/notifications`);
    await page.getByLabel("Your name").first().fill("e2e-oncall");
    await page.getByRole("button", { name: "Save" }).first().click();
    await page.getByText("Acting as").first().waitFor();

    // The destination from the config file: shown, marked, its secret only named.
    const destinations = page.getByRole("region", { name: /^Destinations/ });
    const fileRow = destinations.locator("tbody tr", { hasText: "PagerDuty primary" });
    await fileRow.waitFor();
    expect(await fileRow.locator(".badge-file").textContent()).toBe("config file");
    expect(await fileRow.textContent()).toContain(`routing key set via ${pagerDutyKeyEnv}`);
    expect(await fileRow.getByRole("button", { name: /^Edit/ }).count()).toBe(0);

    await page.getByRole("button", { name: "Add destination" }).click();
    expect(new URL(page.url()).searchParams.get("edit")).toBe("destination:new");
    const destinationForm = page.getByRole("form", { name: "New destination" });
    await destinationForm.getByLabel("Id", { exact: true }).fill("e2e-hook");
    await destinationForm.getByLabel("Name", { exact: true }).fill("E2E hook");
    await destinationForm.getByLabel("URL", { exact: true }).fill(receiver.url);
    await destinationForm.getByLabel(/Signing secret variable/).fill(secretEnv);
    await destinationForm.screenshot({ path: `${screenshots}/notifications-destination-form.png` });
    await destinationForm.getByRole("button", { name: "Save destination" }).click();
    const hookRow = destinations.locator("tbody tr", { hasText: "E2E hook" });
    await hookRow.waitFor();
    expect(await hookRow.textContent()).toContain(`signing secret set via ${secretEnv}`);
    expect(await hookRow.locator(".badge-api").count()).toBe(1);

    await page.getByRole("button", { name: "Add rule" }).click();
    const ruleForm = page.getByRole("form", { name: "New rule" });
    await ruleForm.getByLabel("Id", { exact: true }).fill("dm-to-hook");
    await ruleForm.getByLabel(/^Destination/).selectOption("e2e-hook");
    await ruleForm.getByLabel("Services", { exact: true }).fill("dm-*");
    await ruleForm.getByRole("button", { name: "Save rule" }).click();
    const ruleRow = page.getByRole("region", { name: /^Routing rules/ }).locator("tbody tr", {
      hasText: "dm-to-hook",
    });
    await ruleRow.waitFor();
    expect(await ruleRow.textContent()).toContain("E2E hook");
    expect(await ruleRow.textContent()).toContain("dm-*");

    await page.getByRole("button", { name: "Add maintenance window" }).click();
    const muteForm = page.getByRole("form", { name: "New maintenance window" });
    await muteForm.getByLabel("Id", { exact: true }).fill("media-upgrade");
    await muteForm.getByLabel("Service", { exact: true }).fill("media");
    await muteForm.getByLabel("Reason", { exact: true }).fill("media store upgrade");
    await muteForm.getByRole("button", { name: "Save window" }).click();
    const muteRow = page.locator("tr", { hasText: "media-upgrade" });
    await muteRow.waitFor();
    expect(await muteRow.locator(".badge").first().textContent()).toBe("active");
    expect(await muteRow.textContent()).toContain("by e2e-oncall");

    // Keyboard: an opened form has the focus, and Escape closes it.
    await page.getByRole("button", { name: "Add maintenance window" }).click();
    // The form mounts after the click's navigation renders (a transition), then takes the focus.
    await page.getByRole("form", { name: "New maintenance window" }).waitFor();
    const focused = await page
      .waitForFunction(() => document.activeElement?.closest("form")?.getAttribute("aria-label"), null, {
        timeout: 5_000,
      })
      .then((handle) => handle.jsonValue());
    expect(focused).toBe("New maintenance window");
    await page.keyboard.press("Escape");
    await page.getByRole("form", { name: "New maintenance window" }).waitFor({ state: "detached" });
    expect(new URL(page.url()).searchParams.get("edit")).toBeNull();

    await page.getByRole("button", { name: "Send a test message to E2E hook" }).click();
    await hookRow.getByText(/Delivered \(HTTP 200\) in/).waitFor({ timeout: 15_000 });
    expect(receiver.requests).toHaveLength(1);
    const test = receiver.requests[0] as Received;
    expect(test.json).toMatchObject({ test: true, event: "opened", actor: "e2e-oncall" });
    expect(hasValidSignature(test)).toBe(true);

    // Through the same path, a missing secret is reported, not hidden.
    await page.getByRole("button", { name: "Send a test message to PagerDuty primary" }).click();
    await fileRow
      .getByText(`Failed: environment variable ${pagerDutyKeyEnv} is not set`)
      .waitFor({ timeout: 15_000 });

    // Editing keeps the URL shareable and saves the change.
    await hookRow.getByRole("button", { name: "Edit E2E hook" }).click();
    expect(new URL(page.url()).searchParams.get("edit")).toBe("destination:e2e-hook");
    const editForm = page.getByRole("form", { name: "Edit destination E2E hook" });
    await editForm.getByLabel("Messages per minute").fill("20");
    await editForm.getByRole("button", { name: "Save destination" }).click();
    await expect.poll(() => hookRow.locator("td.num").textContent()).toBe("20");
    expect(new URL(page.url()).searchParams.get("edit")).toBeNull();

    expect(await page.content()).not.toContain(signingSecret);
    await page.screenshot({ path: `${screenshots}/notifications.png`, fullPage: true });
  }, 240_000);

  it("shows the pages an acknowledgement sent on the incident's timeline", async () => {
    await page.goto(served.apiUrl);
    const card = page.locator("article.incident-card").first();
    await card.waitFor({ timeout: 15_000 });
    await card.locator("h3 a").click();
    await page.getByRole("heading", { name: "Suspects" }).waitFor();
    // The replayed story is over and detection has usually resolved it: reopen, then acknowledge.
    if (await page.getByRole("button", { name: "Reopen" }).isVisible()) {
      await page.getByRole("button", { name: "Reopen" }).click();
      await page.getByText("Reopened by e2e-oncall").waitFor();
    }
    await page.getByRole("button", { name: "Acknowledge" }).click();
    await page.locator(".incident-header .status-acknowledged").waitFor();

    const delivered = page.locator('.event-page[data-delivery-status="delivered"]', {
      hasText: "Acknowledged → E2E hook",
    });
    await delivered.waitFor({ timeout: 20_000 });
    expect(await delivered.textContent()).toMatch(/1 attempt · last HTTP 200/);
    // The config file's PagerDuty destination has no key in this environment: failed, with the reason.
    const failed = page.locator('.event-page[data-delivery-status="failed"]', {
      hasText: "Acknowledged → PagerDuty primary",
    });
    await failed.waitFor({ timeout: 20_000 });
    expect(await failed.textContent()).toContain(
      `Last error: environment variable ${pagerDutyKeyEnv} is not set`,
    );

    const acknowledgement = receiver.requests.find((request) => request.json.event === "acknowledged");
    expect(acknowledgement?.json).toMatchObject({ actor: "e2e-oncall" });
    expect(acknowledgement?.json.test).toBeUndefined();
    expect(hasValidSignature(acknowledgement as Received)).toBe(true);

    await page
      .getByRole("region", { name: "Events, notes and pages" })
      .screenshot({ path: `${screenshots}/incident-pages.png` });
    expect(problems, problems.join("\n")).toEqual([]);
  }, 120_000);
});
