import { describe, expect, it } from "vitest";
import { formatEmailMessage } from "./format-email-message.ts";
import { formatPagerDutyEvent, pagerDutyDedupKey } from "./format-pagerduty-event.ts";
import { formatSlackMessage } from "./format-slack-message.ts";
import {
  formatWebhookPayload,
  signWebhookPayload,
  verifyWebhookSignature,
} from "./format-webhook-payload.ts";
import { buildNotificationMessage, type NotificationEventKind } from "./notification-message.ts";

const t0 = Date.parse("2026-12-06T10:00:00Z");
const snapshot = {
  id: "inc-1",
  environment: "production",
  title: "DMs failing <script>alert(1)</script> & more",
  status: "open",
  severity: "sev1",
  signal: "error_rate",
  rootService: "identity",
  startedAtMs: t0,
  detectedAtMs: t0 + 20_000,
  endedAtMs: null,
  services: ["identity", "dm-api", "profile"],
  surfaces: ["web", "ios", "android"],
  affectedUsers: 12_345,
  cause: {
    changeId: "chg_1",
    service: "identity",
    version: null,
    kind: "config",
    description: "session validation config push",
    author: "ops-bot",
    url: null,
    startedAtMs: t0 - 60_000,
    score: 0.91,
    evidence: ["errors began 40 s after the push on every identity instance", "second line"],
  },
  topSuspect: null,
};
const message = (event: NotificationEventKind = "opened", overrides: Record<string, unknown> = {}) =>
  buildNotificationMessage({
    idempotencyKey: `inc-1/${event}/dest`,
    event,
    eventAtMs: t0 + 20_000,
    actor: event === "acknowledged" ? "ana" : null,
    incidentId: "inc-1",
    snapshot: { ...snapshot, ...overrides },
    publicUrl: "https://faultline.example.com/",
  });

describe("message formats", () => {
  it("Slack: title, severity, root, blast radius, the cause with its first evidence line and a link, escaped", () => {
    const body = formatSlackMessage(message());
    const text = JSON.stringify(body);
    expect(text).toContain("config push to identity");
    expect(text).toContain("errors began 40 s after the push on every identity instance");
    expect(text).not.toContain("second line");
    expect(text).toContain("12,345");
    expect(text).toContain("https://faultline.example.com/incidents/inc-1");
    expect(text).toContain("web, ios, android");
    const section = (body.blocks as { type: string; fields?: { text: string }[] }[]).find(
      (block) => block.fields,
    );
    expect(section?.fields?.map((field) => field.text)).toContain("*Root service*\nidentity");
    // Angle brackets would be Slack links/mentions: escaped in mrkdwn.
    expect(body.text).toContain("&lt;script&gt;");
    expect(body.text).not.toContain("<script>");
  });

  it("names the top suspect with its score when no cause is confident, and says so when there is none", () => {
    const suspected = JSON.stringify(
      formatSlackMessage(message("opened", { cause: null, topSuspect: { ...snapshot.cause, score: 0.42 } })),
    );
    expect(suspected).toContain("Top suspect: config push to identity (score 0.42)");
    const none = JSON.stringify(formatSlackMessage(message("opened", { cause: null, topSuspect: null })));
    expect(none).toContain("No change explains this yet");
  });

  it("generic webhook: a documented JSON body, signed over timestamp and body; tampering and replays are refused", () => {
    const body = formatWebhookPayload(message());
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({
      version: 1,
      id: "inc-1/opened/dest",
      event: "opened",
      eventAt: "2026-12-06T10:00:20.000Z",
      incident: {
        id: "inc-1",
        severity: "sev1",
        rootService: "identity",
        affectedUsers: 12_345,
        endedAt: null,
      },
      cause: { kind: "config", service: "identity", startedAt: "2026-12-06T09:59:00.000Z" },
    });
    const headers = signWebhookPayload("s3cret", body, t0);
    const header = headers["x-faultline-signature"];
    expect(verifyWebhookSignature({ secret: "s3cret", header, body, nowMs: t0 + 1000 })).toEqual({
      valid: true,
    });
    expect(verifyWebhookSignature({ secret: "other", header, body, nowMs: t0 })).toEqual({
      valid: false,
      reason: "mismatch",
    });
    expect(verifyWebhookSignature({ secret: "s3cret", header, body: `${body} `, nowMs: t0 })).toMatchObject({
      valid: false,
    });
    expect(verifyWebhookSignature({ secret: "s3cret", header, body, nowMs: t0 + 10 * 60_000 })).toEqual({
      valid: false,
      reason: "expired",
    });
    expect(verifyWebhookSignature({ secret: "s3cret", header: "v1=zz", body, nowMs: t0 })).toEqual({
      valid: false,
      reason: "malformed",
    });
  });

  it("PagerDuty: trigger, acknowledge and resolve share one dedup key per incident", () => {
    const trigger = formatPagerDutyEvent(message("opened"), "rk");
    const ack = formatPagerDutyEvent(message("acknowledged"), "rk");
    const resolve = formatPagerDutyEvent(message("resolved"), "rk");
    expect(trigger).toMatchObject({
      routing_key: "rk",
      event_action: "trigger",
      dedup_key: pagerDutyDedupKey("inc-1"),
      payload: { severity: "critical", source: "identity", group: "production" },
    });
    expect((trigger.payload as { summary: string }).summary).toContain("Cause: config push to identity");
    expect(ack).toEqual({ routing_key: "rk", event_action: "acknowledge", dedup_key: "faultline/inc-1" });
    expect(resolve).toEqual({ routing_key: "rk", event_action: "resolve", dedup_key: "faultline/inc-1" });
  });

  it("email: HTML escaped, subject on one line", () => {
    const email = formatEmailMessage(message("opened", { title: "bad\r\nBcc: x@y.z <b>" }));
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.html).toContain("&lt;b&gt;");
    expect(email.html).not.toContain("<b>");
    expect(email.text).toContain("Open the incident: https://faultline.example.com/incidents/inc-1");
  });
});
