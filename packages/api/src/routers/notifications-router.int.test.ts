import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadNotificationConfig, replaceFileNotificationConfig, saveIncident } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { DeliveryWorker } from "@faultline/notify";
import { expect, it } from "vitest";
import { appRouter } from "../app-router.ts";
import { createContext } from "../create-context.ts";
import { createCallerFactory } from "../trpc.ts";

const now = Date.parse("2026-12-06T10:00:00Z");

describeEachDatabase("notifications router", ({ handle }) => {
  const caller = () =>
    createCallerFactory(appRouter)(
      createContext({ db: handle(), clock: () => now, headers: { "x-faultline-user": "ana" } }),
    );

  it("creates, lists (Slack URL redacted), and deletes destinations, rules and mutes", async () => {
    await caller().notifications.upsertDestination({
      id: "team-slack",
      kind: "slack",
      url: "https://hooks.slack.example/services/T000/B000/secret-token",
    });
    await caller().notifications.upsertRule({ id: "sev1", destination: "team-slack", minSeverity: "sev1" });
    await caller().notifications.upsertMute({
      id: "maint",
      service: "media",
      from: "2026-12-06T10:00:00Z",
      until: "2026-12-06T11:00:00Z",
    });
    const config = await caller().notifications.config();
    expect(config.destinations).toMatchObject([
      { id: "team-slack", kind: "slack", settings: { url: "https://hooks.slack.example/…" }, source: "api" },
    ]);
    expect(JSON.stringify(config)).not.toContain("secret-token");
    expect(config.rules).toMatchObject([{ id: "sev1", destinationId: "team-slack", minSeverity: "sev1" }]);
    expect(config.mutes).toMatchObject([
      { id: "maint", service: "media", createdBy: "ana", startsAtMs: now },
    ]);
    await caller().notifications.deleteMute({ id: "maint" });
    await caller().notifications.deleteDestination({ id: "team-slack" });
    expect(await caller().notifications.config()).toEqual({ destinations: [], rules: [], mutes: [] });
  });

  it("hides a webhook's credentials and query values, and keeps them when the shown URL is saved back", async () => {
    const secretUrl = "https://bot:pa55word@hooks.example/incidents?token=s3cret&team=core#frag";
    await caller().notifications.upsertDestination({ id: "hook", kind: "webhook", url: secretUrl });
    const shown = (await caller().notifications.config()).destinations[0];
    expect(shown?.settings.url).toBe("https://…@hooks.example/incidents?token=…&team=…");
    expect(JSON.stringify(shown)).not.toMatch(/pa55word|s3cret|bot:/);
    // Saved back as shown (the UI's edit form), with another name: the stored URL stays whole.
    await caller().notifications.upsertDestination({
      id: "hook",
      name: "Incident bot",
      kind: "webhook",
      url: shown?.settings.url as string,
    });
    const stored = (await loadNotificationConfig(handle())).destinations[0];
    expect(stored).toMatchObject({ name: "Incident bot", settings: { url: secretUrl } });
    // A placeholder that is not the stored URL's would be stored as is: refused.
    await expect(
      caller().notifications.upsertDestination({
        id: "hook",
        kind: "webhook",
        url: "https://…@other.example/incidents?token=…",
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("whole URL") });
    await caller().notifications.deleteDestination({ id: "hook" });
  });

  it("rejects bad input, unknown ids and edits to what the config file manages", async () => {
    await expect(
      caller().notifications.upsertDestination({ id: "x", kind: "webhook", url: "ftp://nope" } as never),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller().notifications.upsertRule({ id: "r", destination: "missing" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(caller().notifications.deleteRule({ id: "missing" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await replaceFileNotificationConfig(handle(), {
      destinations: [
        {
          id: "from-file",
          kind: "webhook",
          name: "f",
          settings: { url: "http://x" },
          enabled: true,
          rateLimitPerMinute: 30,
        },
      ],
      rules: [],
      mutes: [],
    });
    await expect(
      caller().notifications.upsertDestination({ id: "from-file", kind: "webhook", url: "http://y" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("config file") });
  });

  it("lists an incident's deliveries with status and last error", async () => {
    await saveIncident(handle(), {
      id: "inc-n",
      environment: "production",
      title: "t",
      status: "open",
      severity: "sev2",
      signal: "error_rate",
      rootService: "identity",
      startedAtMs: now,
      detectedAtMs: now,
      endedAtMs: null,
      services: ["identity"],
      surfaces: [],
      affectedUsers: 1,
      causeChangeId: null,
      suspects: [],
      events: [],
    });
    const [event] = await handle().query<{ id: string }>(
      "SELECT id FROM notification_events WHERE incident_id = 'inc-n'",
    );
    await handle().query(
      `INSERT INTO notification_deliveries (event_id, incident_id, destination_id, status, attempts, next_attempt_at, last_error)
       VALUES ($1, 'inc-n', 'from-file', 'pending', 2, now(), 'HTTP 503')`,
      [event?.id],
    );
    expect(await caller().notifications.deliveries({ incidentId: "inc-n" })).toMatchObject([
      {
        eventKind: "opened",
        destinationId: "from-file",
        status: "pending",
        attempts: 2,
        lastError: "HTTP 503",
      },
    ]);
  });

  it("sends a test through the delivery worker and returns the receiver's answer", async () => {
    const bodies: string[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        bodies.push(body);
        res.writeHead(bodies.length === 1 ? 204 : 500).end("receiver down");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const worker = new DeliveryWorker({ db: handle(), publicUrl: "http://faultline.test", clock: () => now });
    const withWorker = () =>
      createCallerFactory(appRouter)(
        createContext({
          db: handle(),
          clock: () => now,
          headers: { "x-faultline-user": "ana" },
          notifier: worker,
        }),
      );
    try {
      await withWorker().notifications.upsertDestination({ id: "test-hook", kind: "webhook", url });
      expect(await withWorker().notifications.sendTest({ id: "test-hook" })).toMatchObject({
        ok: true,
        statusCode: 204,
        destinationId: "test-hook",
      });
      expect(JSON.parse(bodies[0] ?? "{}")).toMatchObject({ test: true, actor: "ana" });
      expect(await withWorker().notifications.sendTest({ id: "test-hook" })).toMatchObject({
        ok: false,
        statusCode: 500,
        error: "HTTP 500: receiver down",
      });
      await expect(withWorker().notifications.sendTest({ id: "missing" })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
      // A server without a delivery worker says so instead of pretending.
      await expect(caller().notifications.sendTest({ id: "test-hook" })).rejects.toMatchObject({
        code: "PRECONDITION_FAILED",
      });
    } finally {
      await worker.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
