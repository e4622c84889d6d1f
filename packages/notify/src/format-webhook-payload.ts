import { createHmac, timingSafeEqual } from "node:crypto";
import type { MessageChange, NotificationMessage } from "./notification-message.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const changeJson = (change: MessageChange | null) =>
  change && {
    changeId: change.changeId,
    service: change.service,
    version: change.version,
    kind: change.kind,
    description: change.description,
    author: change.author,
    url: change.url,
    startedAt: iso(change.startedAtMs),
    score: change.score,
    evidence: change.evidence,
  };

/**
 * The generic webhook's JSON body (version 1, documented in packages/notify/README.md). Times are
 * ISO-8601 UTC; `id` is the delivery's idempotency key, the same on every retry.
 */
export function formatWebhookPayload(message: NotificationMessage): string {
  const { incident } = message;
  return JSON.stringify({
    version: 1,
    id: message.idempotencyKey,
    event: message.event,
    eventAt: iso(message.eventAtMs),
    actor: message.actor,
    incident: {
      id: incident.id,
      url: incident.url,
      title: incident.title,
      environment: incident.environment,
      status: incident.status,
      severity: incident.severity,
      signal: incident.signal,
      rootService: incident.rootService,
      services: incident.services,
      surfaces: incident.surfaces,
      affectedUsers: incident.affectedUsers,
      startedAt: iso(incident.startedAtMs),
      detectedAt: iso(incident.detectedAtMs),
      endedAt: iso(incident.endedAtMs),
    },
    cause: changeJson(message.cause),
    topSuspect: changeJson(message.topSuspect),
    ...(message.test ? { test: true } : {}),
  });
}

export const signatureHeader = "x-faultline-signature";
export const timestampHeader = "x-faultline-timestamp";

/**
 * Signs a body for the generic webhook: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The
 * timestamp is inside the signed text so a receiver can reject replays of an old, validly signed body.
 */
export function signWebhookPayload(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000).toString();
  const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return { [timestampHeader]: timestamp, [signatureHeader]: `t=${timestamp},v1=${digest}` };
}

export type SignatureVerdict =
  | { valid: true }
  | { valid: false; reason: "malformed" | "mismatch" | "expired" };

/**
 * What a receiver does with the signature header: recompute the HMAC over `<t>.<raw body>`, compare in
 * constant time, and refuse a timestamp further than `toleranceMs` (default 5 minutes) from its clock.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  header: string | undefined;
  body: string | Buffer;
  nowMs: number;
  toleranceMs?: number;
}): SignatureVerdict {
  const parts = new Map(
    (input.header ?? "").split(",").map((part) => {
      const at = part.indexOf("=");
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = parts.get("t");
  const given = parts.get("v1");
  if (!timestamp || !given || !/^\d+$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(given)) {
    return { valid: false, reason: "malformed" };
  }
  const expected = createHmac("sha256", input.secret).update(`${timestamp}.`).update(input.body).digest();
  if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) return { valid: false, reason: "mismatch" };
  if (Math.abs(input.nowMs - Number(timestamp) * 1000) > (input.toleranceMs ?? 5 * 60_000)) {
    return { valid: false, reason: "expired" };
  }
  return { valid: true };
}
