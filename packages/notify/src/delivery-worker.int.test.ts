import type { AddressInfo } from "node:net";
import {
  claimDelivery,
  completeDelivery,
  type IncidentRecord,
  listIncidentDeliveries,
  listUnroutedNotificationEvents,
  type NotificationDestination,
  type NotificationRule,
  recordChangeEvent,
  saveIncident,
  upsertNotificationDestination,
  upsertNotificationMute,
  upsertNotificationRule,
} from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { SMTPServer } from "smtp-server";
import { afterEach, beforeEach, expect, it } from "vitest";
import { DeliveryWorker, type DeliveryWorkerOptions } from "./delivery-worker.ts";
import { verifyWebhookSignature } from "./format-webhook-payload.ts";
import { createNotificationTransport } from "./notification-transport.ts";
import {
  type ReceivedRequest,
  type ReceiverReply,
  startReceiver,
  waitFor,
} from "./testing/start-receiver.ts";

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

describeEachDatabase("delivery worker against local receivers", ({ handle, db }) => {
  let now = Date.now();
  const receivers: Receiver[] = [];
  const workers: DeliveryWorker[] = [];

  beforeEach(async () => {
    now = Date.now();
    await handle().query("DELETE FROM notification_destinations");
    await handle().query("DELETE FROM notification_mutes");
    await handle().query("DELETE FROM incidents");
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });

  const receiver = async (
    reply: (request: ReceivedRequest, index: number) => ReceiverReply = () => ({ status: 200 }),
  ) => {
    const started = await startReceiver(reply);
    receivers.push(started);
    return started;
  };
  const worker = (options: Partial<DeliveryWorkerOptions> = {}) => {
    const created = new DeliveryWorker({
      db: handle(),
      publicUrl: "http://faultline.test",
      clock: () => now,
      env: { HOOK_SECRET: "webhook-signing-secret", PD_KEY: "pd-routing-key" },
      backoff: { baseMs: 1_000, maxMs: 60_000, maxAttempts: 5 },
      random: () => 0.999999,
      timeoutMs: 2_000,
      routing: { openHoldMs: 0, resolveHoldMs: 0 },
      ...options,
    });
    workers.push(created);
    return created;
  };
  const destination = async (
    id: string,
    kind: NotificationDestination["kind"],
    settings: NotificationDestination["settings"],
    rule: Partial<NotificationRule> = {},
    rateLimitPerMinute = 30,
  ) => {
    await upsertNotificationDestination(handle(), {
      id,
      kind,
      name: id,
      settings,
      enabled: true,
      rateLimitPerMinute,
      source: "api",
    });
    await upsertNotificationRule(handle(), {
      id: `${id}-rule`,
      destinationId: id,
      environments: [],
      services: [],
      minSeverity: "sev4",
      signals: [],
      events: [],
      enabled: true,
      source: "api",
      ...rule,
    });
  };
  const configPush = () =>
    recordChangeEvent(db(), {
      environment: "production",
      service: "identity",
      kind: "config",
      source: "api",
      startedAt: new Date(now - 120_000),
      description: "identity session config push",
      idempotencyKey: `identity-push-${now}-${Math.random()}`,
    });
  const incident = (id: string, overrides: Partial<IncidentRecord> = {}): IncidentRecord => ({
    id,
    environment: "production",
    title: "DMs and profile views failing",
    status: "open",
    severity: "sev1",
    signal: "error_rate",
    rootService: "identity",
    startedAtMs: now - 60_000,
    detectedAtMs: now - 30_000,
    endedAtMs: null,
    services: ["identity", "dm-api", "profile"],
    surfaces: ["web", "ios", "android"],
    affectedUsers: 12_000,
    causeChangeId: null,
    suspects: [],
    events: [{ atMs: now - 30_000, kind: "opened", message: "opened" }],
    ...overrides,
  });
  const deliveries = (incidentId: string) => listIncidentDeliveries(handle(), incidentId);

  it("Slack, signed generic webhook and PagerDuty each get the opening page naming the cause, then the resolution", async () => {
    const slack = await receiver((request) =>
      Array.isArray((request.json as { blocks?: unknown }).blocks)
        ? { status: 200, body: "ok" }
        : { status: 400 },
    );
    const generic = await receiver((request) => {
      const verdict = verifyWebhookSignature({
        secret: "webhook-signing-secret",
        header: request.headers["x-faultline-signature"] as string | undefined,
        body: request.body,
        nowMs: now,
      });
      return verdict.valid ? { status: 204 } : { status: 401 };
    });
    const pagerDuty = await receiver((request) => {
      const event = request.json as { routing_key?: string; dedup_key?: string };
      return event.routing_key === "pd-routing-key" && event.dedup_key
        ? { status: 202, body: JSON.stringify({ status: "success", dedup_key: event.dedup_key }) }
        : { status: 400 };
    });
    await destination("slack", "slack", { url: slack.url });
    await destination("generic", "webhook", { url: generic.url, secretEnv: "HOOK_SECRET" });
    await destination("pd", "pagerduty", { url: pagerDuty.url, routingKeyEnv: "PD_KEY" });
    const change = await configPush();
    const opened = incident("inc-main", {
      causeChangeId: change.id,
      suspects: [{ changeId: change.id, score: 0.93, evidence: ["errors began 40 s after the config push"] }],
    });
    await saveIncident(handle(), opened);
    const delivering = worker();
    await delivering.runOnce();
    expect(slack.requests).toHaveLength(1);
    expect(generic.requests).toHaveLength(1);
    expect(pagerDuty.requests).toHaveLength(1);
    expect(JSON.stringify(slack.requests[0]?.json)).toContain("Cause: config push to identity");
    expect(JSON.stringify(slack.requests[0]?.json)).toContain("errors began 40 s after the config push");
    expect(generic.requests[0]?.json).toMatchObject({
      event: "opened",
      incident: { id: "inc-main", url: "http://faultline.test/incidents/inc-main", rootService: "identity" },
      cause: { service: "identity", kind: "config" },
    });
    expect(generic.requests[0]?.headers["idempotency-key"]).toBe("inc-main/opened/generic");
    expect(pagerDuty.requests[0]?.json).toMatchObject({
      event_action: "trigger",
      dedup_key: "faultline/inc-main",
    });

    now += 300_000;
    await saveIncident(handle(), { ...opened, status: "resolved", endedAtMs: now - 10_000 });
    await delivering.runOnce();
    await delivering.runOnce();
    expect(pagerDuty.requests.map((request) => request.json)).toMatchObject([
      { event_action: "trigger", dedup_key: "faultline/inc-main" },
      { event_action: "resolve", dedup_key: "faultline/inc-main" },
    ]);
    expect(generic.requests.map((request) => (request.json as { event: string }).event)).toEqual([
      "opened",
      "resolved",
    ]);
    expect(slack.requests).toHaveLength(2);
    const statuses = (await deliveries("inc-main")).map((delivery) => [
      delivery.eventKind,
      delivery.destinationId,
      delivery.status,
    ]);
    expect(statuses).toHaveLength(6);
    expect(statuses.every(([, , status]) => status === "delivered")).toBe(true);
  });

  it("retries a failing receiver with exponential backoff until it recovers, and delivers once", async () => {
    const flaky = await receiver((_, index) =>
      index < 2 ? { status: 503, body: "down for maintenance" } : { status: 200 },
    );
    await destination("flaky", "webhook", { url: flaky.url });
    await saveIncident(handle(), incident("inc-flaky"));
    const delivering = worker();
    await delivering.runOnce();
    expect(await deliveries("inc-flaky")).toMatchObject([
      {
        status: "pending",
        attempts: 1,
        lastStatusCode: 503,
        lastError: "HTTP 503: down for maintenance",
        nextAttemptAtMs: now + 1_000,
      },
    ]);
    now += 999;
    await delivering.runOnce();
    expect(flaky.requests).toHaveLength(1);
    now += 1;
    await delivering.runOnce();
    expect(await deliveries("inc-flaky")).toMatchObject([
      { status: "pending", attempts: 2, nextAttemptAtMs: now + 2_000 },
    ]);
    now += 2_000;
    await delivering.runOnce();
    now += 60_000;
    await delivering.runOnce();
    expect(flaky.requests).toHaveLength(3);
    expect(new Set(flaky.requests.map((request) => request.headers["idempotency-key"])).size).toBe(1);
    expect(await deliveries("inc-flaky")).toMatchObject([{ status: "delivered", attempts: 3 }]);
  });

  it("gives up on a receiver that refuses the message (4xx) at once, and after maxAttempts on one that keeps failing", async () => {
    const refusing = await receiver(() => ({ status: 400, body: "bad payload" }));
    const down = await receiver(() => ({ status: 500 }));
    await destination("refusing", "webhook", { url: refusing.url });
    await destination("down", "webhook", { url: down.url });
    await saveIncident(handle(), incident("inc-refused"));
    const delivering = worker({ backoff: { baseMs: 1_000, maxMs: 1_000, maxAttempts: 3 } });
    for (let pass = 0; pass < 6; pass++) {
      await delivering.runOnce();
      now += 1_000;
    }
    expect(refusing.requests).toHaveLength(1);
    expect(down.requests).toHaveLength(3);
    const byDestination = Object.fromEntries(
      (await deliveries("inc-refused")).map((d) => [d.destinationId, d]),
    );
    expect(byDestination.refusing).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: "HTTP 400: bad payload",
    });
    expect(byDestination.down).toMatchObject({ status: "failed", attempts: 3, lastStatusCode: 500 });
  });

  it("times out a hanging receiver without getting stuck, retries, and delivers", async () => {
    const hanging = await receiver((_, index) => (index === 0 ? "hang" : { status: 200 }));
    const healthy = await receiver();
    await destination("hanging", "webhook", { url: hanging.url });
    await destination("healthy", "webhook", { url: healthy.url });
    await saveIncident(handle(), incident("inc-hang"));
    // Long enough for the healthy local receiver on a loaded machine; the hanging one costs exactly this.
    const delivering = worker({ timeoutMs: 1_500 });
    const started = Date.now();
    await delivering.runOnce();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(healthy.requests).toHaveLength(1);
    const hung = (await deliveries("inc-hang")).find((d) => d.destinationId === "hanging");
    expect(hung).toMatchObject({ status: "pending", attempts: 1, lastError: "timed out after 1500 ms" });
    now += 1_000;
    await delivering.runOnce();
    expect(hanging.requests).toHaveLength(2);
    expect((await deliveries("inc-hang")).map((d) => d.status)).toEqual(["delivered", "delivered"]);
  });

  it("a delivery held by a worker that died is retried when its lease expires: not lost, one copy per idempotency key", async () => {
    const target = await receiver();
    await destination("target", "webhook", { url: target.url });
    await saveIncident(handle(), incident("inc-crash"));
    await saveIncident(handle(), incident("inc-crash-2", { rootService: "profile" }));
    // The worker that dies: it claims both deliveries, gets one onto the wire, and never returns.
    const wire = createNotificationTransport({ env: {}, timeoutMs: 2_000, clock: () => now });
    const dying = new DeliveryWorker({
      db: handle(),
      publicUrl: "http://faultline.test",
      clock: () => now,
      owner: "worker-that-dies",
      leaseMs: 30_000,
      routing: { openHoldMs: 0, resolveHoldMs: 0 },
      transport: {
        send: async (delivery, message) => {
          if (delivery.incidentId === "inc-crash") await wire.send(delivery, message);
          return new Promise(() => {});
        },
      },
    });
    void dying.runOnce();
    const sending = () =>
      handle().query<{ id: string }>(
        "SELECT id FROM notification_deliveries WHERE status = 'sending' ORDER BY incident_id",
      );
    await waitFor(
      async () => target.requests.length === 1 && (await sending()).length === 2,
      10_000,
      "the dying worker",
    );
    const [sent] = await sending();

    const restarted = worker({ owner: "restarted-worker" });
    now += 29_000;
    await restarted.runOnce();
    expect(target.requests).toHaveLength(1);
    now += 1_000;
    await restarted.runOnce();
    const keys = target.requests.map((request) => request.headers["idempotency-key"]);
    expect(keys).toHaveLength(3);
    expect(new Set(keys)).toEqual(new Set(["inc-crash/opened/target", "inc-crash-2/opened/target"]));
    expect((await deliveries("inc-crash"))[0]).toMatchObject({ status: "delivered", attempts: 2 });
    expect((await deliveries("inc-crash-2"))[0]).toMatchObject({ status: "delivered", attempts: 2 });
    // The dead worker coming back cannot overwrite the outcome it no longer holds the lease for.
    expect(
      await completeDelivery(handle(), {
        id: Number(sent?.id),
        owner: "worker-that-dies",
        nowMs: now,
        outcome: { status: "failed", error: "late", statusCode: null },
      }),
    ).toBe(false);
  });

  it("routes by rule and suppresses muted services, recording the suppressed delivery", async () => {
    const sev1Identity = await receiver();
    const everything = await receiver();
    await destination(
      "sev1-identity",
      "webhook",
      { url: sev1Identity.url },
      { services: ["ident*"], minSeverity: "sev1", environments: ["production"] },
    );
    await destination("everything", "webhook", { url: everything.url });
    await upsertNotificationMute(handle(), {
      id: "media-maintenance",
      environment: "production",
      service: "media",
      startsAtMs: now - 600_000,
      endsAtMs: now + 600_000,
      reason: "storage migration",
      createdBy: "ana",
      source: "api",
    });
    await saveIncident(handle(), incident("inc-identity"));
    await saveIncident(
      handle(),
      incident("inc-dm", { rootService: "dm-api", services: ["dm-api"], severity: "sev3" }),
    );
    await saveIncident(handle(), incident("inc-media", { rootService: "media", services: ["media"] }));
    await saveIncident(handle(), incident("inc-staging", { environment: "staging" }));
    await worker().runOnce();
    const incidentsOf = (r: Receiver) =>
      r.requests.map((request) => (request.json as { incident: { id: string } }).incident.id).sort();
    expect(incidentsOf(sev1Identity)).toEqual(["inc-identity"]);
    expect(incidentsOf(everything)).toEqual(["inc-dm", "inc-identity", "inc-staging"]);
    expect(await deliveries("inc-media")).toMatchObject([
      {
        destinationId: "everything",
        status: "suppressed",
        lastError: "muted by media-maintenance (storage migration)",
      },
    ]);
  });

  it("pages nobody for backfilled history, yet records the incidents", async () => {
    const target = await receiver();
    await destination("target", "webhook", { url: target.url });
    const twoHoursAgo = now - 2 * 3_600_000;
    await saveIncident(
      handle(),
      incident("inc-history", {
        startedAtMs: twoHoursAgo,
        detectedAtMs: twoHoursAgo + 20_000,
        endedAtMs: twoHoursAgo + 600_000,
        status: "resolved",
        events: [{ atMs: twoHoursAgo + 20_000, kind: "opened", message: "opened" }],
      }),
    );
    await worker().runOnce();
    expect(target.requests).toEqual([]);
    expect(await deliveries("inc-history")).toEqual([]);
    expect(await listUnroutedNotificationEvents(handle())).toEqual([]);
    const routed = await handle().query<{ routing: string }>(
      "SELECT routing FROM notification_events WHERE incident_id = 'inc-history'",
    );
    expect(routed.map((row) => row.routing)).toEqual(["stale", "stale"]);
  });

  it("holds a destination to its rate limit, sending the rest when the minute has passed", async () => {
    const target = await receiver();
    await destination("limited", "webhook", { url: target.url }, {}, 2);
    for (const id of ["inc-r1", "inc-r2", "inc-r3"]) await saveIncident(handle(), incident(id));
    const delivering = worker();
    await delivering.runOnce();
    expect(target.requests).toHaveLength(2);
    now += 30_000;
    await delivering.runOnce();
    expect(target.requests).toHaveLength(2);
    now += 30_000;
    await delivering.runOnce();
    expect(target.requests).toHaveLength(3);
    const statuses = await Promise.all(
      ["inc-r1", "inc-r2", "inc-r3"].map(async (id) => (await deliveries(id))[0]?.status),
    );
    expect(statuses).toEqual(["delivered", "delivered", "delivered"]);
  });

  it("shares a destination's rate limit between workers and across a restart (counted in the database)", async () => {
    const target = await receiver();
    await destination("shared-limit", "webhook", { url: target.url }, {}, 2);
    for (const id of ["inc-s1", "inc-s2", "inc-s3"]) await saveIncident(handle(), incident(id));
    await worker({ owner: "first" }).runOnce();
    expect(target.requests).toHaveLength(2);
    // Another worker (or this one restarted, with nothing in memory) still sees the two sends.
    const second = worker({ owner: "second" });
    await second.runOnce();
    expect(target.requests).toHaveLength(2);
    const waiting = (await deliveries("inc-s3"))[0];
    expect(waiting).toMatchObject({ status: "pending", attempts: 0, nextAttemptAtMs: now + 60_000 });
    now += 60_000;
    await second.runOnce();
    expect(target.requests).toHaveLength(3);
    expect((await deliveries("inc-s3"))[0]?.status).toBe("delivered");
  });

  it("lets no more than the limit through when claims for one destination run concurrently", async () => {
    const target = await receiver();
    await destination("contended", "webhook", { url: target.url }, {}, 2);
    for (const id of ["inc-c1", "inc-c2", "inc-c3", "inc-c4", "inc-c5"]) {
      await saveIncident(handle(), incident(id));
    }
    await worker().runOnce();
    await handle().query(
      `UPDATE notification_deliveries SET status = 'pending', next_attempt_at = to_timestamp($1::float8 / 1000),
         last_attempt_at = NULL, attempts = 0 WHERE destination_id = 'contended'`,
      [now - 1_000],
    );
    const pending = await handle().query<{ id: string | number }>(
      "SELECT id FROM notification_deliveries WHERE destination_id = 'contended'",
    );
    expect(pending).toHaveLength(5);
    // On PostgreSQL these run on separate pooled connections at once; each counts, then claims.
    const outcomes = await Promise.all(
      pending.map((row, index) =>
        claimDelivery(handle(), { id: Number(row.id), owner: `w${index}`, nowMs: now, leaseMs: 10_000 }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === "claimed")).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome.status === "rate_limited")).toHaveLength(3);
  });

  it("sends a signed test message on request, through the same transport, and reports the receiver's answer", async () => {
    const target = await receiver();
    await destination("hook", "webhook", { url: target.url, secretEnv: "HOOK_SECRET" });
    await destination("no-secret", "webhook", { url: target.url, secretEnv: "UNSET_SECRET" });
    const refusing = await receiver(() => ({ status: 403, body: "bad token" }));
    await destination("refusing", "webhook", { url: refusing.url });
    const sender = worker();

    const sent = await sender.sendTest("hook", "ana");
    expect(sent).toMatchObject({ ok: true, statusCode: 200, destinationId: "hook" });
    const request = target.requests[0];
    expect(
      verifyWebhookSignature({
        secret: "webhook-signing-secret",
        header: request?.headers["x-faultline-signature"] as string,
        body: request?.body ?? "",
        nowMs: now,
      }),
    ).toEqual({ valid: true });
    const body = JSON.parse(request?.body ?? "{}");
    expect(body).toMatchObject({ test: true, event: "opened", actor: "ana", id: `test/hook/${now}` });
    expect(body.incident.url).toBe("http://faultline.test/notifications");

    expect(await sender.sendTest("no-secret", null)).toMatchObject({
      ok: false,
      error: "environment variable UNSET_SECRET is not set",
    });
    expect(await sender.sendTest("refusing", null)).toMatchObject({
      ok: false,
      statusCode: 403,
      error: "HTTP 403: bad token",
    });
    expect(await sender.sendTest("missing", null)).toBeNull();
    // A test is not a page: nothing lands in the outbox or the deliveries.
    expect(await handle().query("SELECT id FROM notification_deliveries")).toEqual([]);
  });

  it("holds an opening page until the incident settles, folding escalations and the cause found meanwhile into it", async () => {
    const target = await receiver();
    await destination("target", "webhook", { url: target.url });
    const delivering = worker({ routing: { openHoldMs: 30_000, resolveHoldMs: 0 } });
    const change = await configPush();
    const first = incident("inc-settling", { severity: "sev3", affectedUsers: 0 });
    await saveIncident(handle(), first);
    await delivering.runOnce();
    expect(target.requests).toEqual([]);
    const settled = {
      ...first,
      severity: "sev1" as const,
      affectedUsers: 240,
      causeChangeId: change.id,
      suspects: [{ changeId: change.id, score: 0.9, evidence: ["began with the push"] }],
    };
    await saveIncident(handle(), settled);
    // The hold runs from when the opening was recorded (database time, a moment after this clock's start).
    now += 31_000;
    await delivering.runOnce();
    await delivering.runOnce();
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]?.json).toMatchObject({
      event: "opened",
      incident: { severity: "sev1", affectedUsers: 240 },
      cause: { changeId: change.id },
    });
    const routing = await handle().query<{ kind: string; routing: string }>(
      "SELECT kind, routing FROM notification_events WHERE incident_id = 'inc-settling' ORDER BY id",
    );
    expect(routing).toEqual([
      { kind: "opened", routing: "routed" },
      { kind: "escalated", routing: "coalesced" },
      { kind: "cause_changed", routing: "coalesced" },
    ]);
    // After the opening page went out, a resolution pages as usual.
    await saveIncident(handle(), { ...settled, status: "resolved", endedAtMs: now - 1_000 });
    await delivering.runOnce();
    expect(target.requests.map((request) => (request.json as { event: string }).event)).toEqual([
      "opened",
      "resolved",
    ]);
  });

  it("emails through a local SMTP server, escaped, with a stable Message-ID", async () => {
    const mails: { to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          mails.push({
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            data: Buffer.concat(chunks).toString("utf8"),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    try {
      const port = (smtp.server.address() as AddressInfo).port;
      await destination("sre-mail", "email", { to: ["sre@example.com"] });
      await saveIncident(handle(), incident("inc-mail", { title: "DMs <down> & profiles" }));
      await worker({
        smtp: { host: "127.0.0.1", port, secure: false, from: "Faultline <faultline@example.com>" },
      }).runOnce();
      expect(mails).toHaveLength(1);
      expect(mails[0]?.to).toEqual(["sre@example.com"]);
      expect(mails[0]?.data).toContain("Message-ID: <inc-mail_opened_sre-mail@faultline>");
      expect(mails[0]?.data).toContain("DMs &lt;down&gt; &amp; profiles");
      expect((await deliveries("inc-mail"))[0]).toMatchObject({ status: "delivered", attempts: 1 });
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  it("holds detection's resolution a minute: a reopening meanwhile cancels both, a later resolution pages", async () => {
    const target = await receiver();
    await destination("target", "webhook", { url: target.url });
    const delivering = worker({ routing: { openHoldMs: 0, resolveHoldMs: 60_000 } });
    const open = incident("inc-flap");
    await saveIncident(handle(), open);
    await delivering.runOnce();
    await saveIncident(handle(), { ...open, status: "resolved", endedAtMs: now - 5_000 });
    await delivering.runOnce();
    const reopened = {
      ...open,
      events: [...open.events, { atMs: now, kind: "reopened", message: "failing again" }],
    };
    await saveIncident(handle(), reopened);
    now += 10_000;
    await delivering.runOnce();
    expect(target.requests.map((request) => (request.json as { event: string }).event)).toEqual(["opened"]);
    await saveIncident(handle(), { ...reopened, status: "resolved", endedAtMs: now });
    // The hold runs from when the resolution was recorded (database time).
    const [recorded] = await handle().query<{ ms: number }>(
      `SELECT (extract(epoch FROM created_at) * 1000)::float8 AS ms FROM notification_events
       WHERE incident_id = 'inc-flap' ORDER BY id DESC LIMIT 1`,
    );
    now = Number(recorded?.ms) + 59_000;
    await delivering.runOnce();
    expect(target.requests).toHaveLength(1);
    now += 2_000;
    await delivering.runOnce();
    expect(target.requests.map((request) => (request.json as { event: string }).event)).toEqual([
      "opened",
      "resolved",
    ]);
    const routing = await handle().query<{ kind: string; routing: string }>(
      "SELECT kind, routing FROM notification_events WHERE incident_id = 'inc-flap' ORDER BY id",
    );
    expect(routing).toEqual([
      { kind: "opened", routing: "routed" },
      { kind: "resolved", routing: "coalesced" },
      { kind: "reopened", routing: "coalesced" },
      { kind: "resolved", routing: "routed" },
    ]);
  });

  it("polls on its own once started", async () => {
    const target = await receiver();
    await destination("target", "webhook", { url: target.url });
    const polling = worker({ pollMs: 20, clock: Date.now });
    polling.start();
    await saveIncident(handle(), incident("inc-polled"));
    await waitFor(() => target.requests.length === 1, 10_000, "the polled delivery");
  });
});
