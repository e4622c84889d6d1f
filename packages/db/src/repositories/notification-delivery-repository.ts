import type { DbHandle } from "../create-db.ts";
import type {
  NotificationDeliveryStatus,
  NotificationDestinationKind,
  NotificationDestinationSettings,
  NotificationEventKind,
} from "../schema/notifications.ts";
import { incidentSnapshotSql } from "./notification-outbox.ts";

const at = (param: string) => `(timestamptz 'epoch' + ${param}::float8 * interval '1 millisecond')`;
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** An outbox row waiting to be routed. Times in ms since the epoch. */
export interface UnroutedNotificationEvent {
  id: number;
  incidentId: string;
  eventKey: string;
  kind: NotificationEventKind;
  eventAtMs: number;
  createdAtMs: number;
  actor: string | null;
  snapshot: Record<string, unknown>;
}

/** Outbox rows not routed yet, oldest first. */
export async function listUnroutedNotificationEvents(
  handle: DbHandle,
  limit = 100,
): Promise<UnroutedNotificationEvent[]> {
  const rows = await handle.query<{
    id: string | number;
    incident_id: string;
    event_key: string;
    kind: NotificationEventKind;
    event_ms: number;
    created_ms: number;
    actor: string | null;
    snapshot: Record<string, unknown>;
  }>(
    `SELECT id, incident_id, event_key, kind, ${ms("event_at")} AS event_ms, ${ms("created_at")} AS created_ms,
       actor, snapshot
     FROM notification_events WHERE routed_at IS NULL ORDER BY id LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    incidentId: row.incident_id,
    eventKey: row.event_key,
    kind: row.kind,
    eventAtMs: Number(row.event_ms),
    createdAtMs: Number(row.created_ms),
    actor: row.actor,
    snapshot: row.snapshot,
  }));
}

/** Where routing sent one event: a delivery per destination, pending or suppressed by a mute. */
export interface RoutedDelivery {
  destinationId: string;
  status: "pending" | "suppressed";
  /** Why it was suppressed (the mute), shown on the incident. */
  note?: string;
}

/**
 * Creates the event's deliveries and marks it routed, in one transaction, so a worker that dies
 * half-way routes it again and the (event, destination) key keeps one delivery each.
 * `routing`: routed, stale (history older than the paging window), expired, or coalesced (covered by
 * another page, or cancelled by it: a resolution followed at once by a reopening).
 */
export async function routeNotificationEvent(
  handle: DbHandle,
  eventId: number,
  outcome: {
    routing: "routed" | "stale" | "expired" | "coalesced";
    deliveries: readonly RoutedDelivery[];
    nowMs: number;
    /** Rewrite the event's snapshot from the incident as it is now (an opening page sent after its hold). */
    refreshSnapshot?: boolean;
    /** Later events of the same incident this one's message covers; marked routed as `coalesced`. */
    coalescedEventIds?: readonly number[];
  },
): Promise<void> {
  await handle.transaction(async (query) => {
    const claimed = await query<{ incident_id: string }>(
      `UPDATE notification_events SET routed_at = ${at("$2")}, routing = $3 WHERE id = $1 AND routed_at IS NULL
       RETURNING incident_id`,
      [eventId, outcome.nowMs, outcome.routing],
    );
    const incidentId = claimed[0]?.incident_id;
    if (incidentId === undefined) return;
    if (outcome.coalescedEventIds?.length) {
      await query(
        `UPDATE notification_events SET routed_at = ${at("$3")}, routing = 'coalesced'
         WHERE id = ANY($1::bigint[]) AND incident_id = $2 AND routed_at IS NULL`,
        [outcome.coalescedEventIds, incidentId, outcome.nowMs],
      );
    }
    if (outcome.refreshSnapshot) {
      await query(
        `UPDATE notification_events e SET snapshot = (SELECT ${incidentSnapshotSql} FROM incidents i WHERE i.id = e.incident_id)
         WHERE e.id = $1 AND EXISTS (SELECT 1 FROM incidents i WHERE i.id = e.incident_id)`,
        [eventId],
      );
    }
    if (outcome.deliveries.length === 0) return;
    await query(
      `INSERT INTO notification_deliveries (event_id, incident_id, destination_id, status, next_attempt_at, last_error)
       SELECT $1, $2, d.destination_id, d.status, ${at("$4")}, d.note
       FROM jsonb_to_recordset($3::jsonb) AS d(destination_id text, status text, note text)
       WHERE EXISTS (SELECT 1 FROM notification_destinations x WHERE x.id = d.destination_id)
       ON CONFLICT (event_id, destination_id) DO NOTHING`,
      [
        eventId,
        incidentId,
        JSON.stringify(
          outcome.deliveries.map((delivery) => ({
            destination_id: delivery.destinationId,
            status: delivery.status,
            note: delivery.note ?? null,
          })),
        ),
        outcome.nowMs,
      ],
    );
  });
}

/** A delivery that is due: pending and its time has come, or sending under a lease that expired. */
export interface DueDelivery {
  id: number;
  destinationId: string;
  nextAttemptAtMs: number;
}

export async function listDueDeliveries(handle: DbHandle, nowMs: number, limit = 50): Promise<DueDelivery[]> {
  const rows = await handle.query<{ id: string | number; destination_id: string; next_ms: number }>(
    `SELECT id, destination_id, ${ms("next_attempt_at")} AS next_ms FROM notification_deliveries
     WHERE (status = 'pending' AND next_attempt_at <= ${at("$1")})
        OR (status = 'sending' AND lease_until <= ${at("$1")})
     ORDER BY next_attempt_at, id LIMIT $2`,
    [nowMs, limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    destinationId: row.destination_id,
    nextAttemptAtMs: Number(row.next_ms),
  }));
}

/** A delivery this worker holds the lease on, with everything needed to send it. */
export interface ClaimedDelivery {
  id: number;
  incidentId: string;
  eventId: number;
  eventKey: string;
  kind: NotificationEventKind;
  eventAtMs: number;
  actor: string | null;
  snapshot: Record<string, unknown>;
  /** Including this one. */
  attempts: number;
  destination: {
    id: string;
    kind: NotificationDestinationKind;
    name: string;
    settings: NotificationDestinationSettings;
  };
}

/** What a claim came to: the lease, a wait for the destination's rate limit, or nothing to do. */
export type ClaimOutcome =
  | { status: "claimed"; delivery: ClaimedDelivery }
  | { status: "rate_limited"; retryAtMs: number }
  /** Someone else claimed it first, or it is no longer due. */
  | { status: "gone" };

/**
 * Takes the lease on a due delivery (status `sending` until `nowMs + leaseMs`) and counts the attempt,
 * unless its destination already had `rate_limit_per_minute` attempts in the minute before `nowMs`:
 * then a pending delivery moves to when the oldest of those leaves the window. The count is read from
 * the deliveries table under a per-destination advisory lock, so the limit holds across several
 * workers and across restarts. A worker that dies while sending leaves the lease to expire, and the
 * delivery is claimed again: it is retried, never lost.
 */
export function claimDelivery(
  handle: DbHandle,
  claim: { id: number; owner: string; nowMs: number; leaseMs: number },
): Promise<ClaimOutcome> {
  return handle.transaction(async (query) => {
    const target = await query<{ destination_id: string; per_minute: number }>(
      `SELECT x.destination_id, d.rate_limit_per_minute AS per_minute
       FROM notification_deliveries x JOIN notification_destinations d ON d.id = x.destination_id
       WHERE x.id = $1`,
      [claim.id],
    );
    const destination = target[0];
    if (!destination) return { status: "gone" };
    const perMinute = Math.max(1, destination.per_minute);
    // Two workers counting at once could both see room for one more; the lock makes them take turns.
    await query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `faultline.notify.rate:${destination.destination_id}`,
    ]);
    const recent = await query<{ attempt_ms: number }>(
      `SELECT ${ms("last_attempt_at")} AS attempt_ms FROM notification_deliveries
       WHERE destination_id = $1 AND last_attempt_at > ${at("$2")} - interval '1 minute'
       ORDER BY last_attempt_at DESC LIMIT $3`,
      [destination.destination_id, claim.nowMs, perMinute],
    );
    if (recent.length >= perMinute) {
      // Room for one more when the perMinute-th most recent attempt is a minute old.
      const retryAtMs = Number(recent[perMinute - 1]?.attempt_ms ?? claim.nowMs) + 60_000;
      await query(
        `UPDATE notification_deliveries SET next_attempt_at = ${at("$2")}, updated_at = now()
         WHERE id = $1 AND status = 'pending'`,
        [claim.id, retryAtMs],
      );
      return { status: "rate_limited", retryAtMs };
    }
    const rows = await query<{
      id: string | number;
      incident_id: string;
      event_id: string | number;
      event_key: string;
      kind: NotificationEventKind;
      event_ms: number;
      actor: string | null;
      snapshot: Record<string, unknown>;
      attempts: number;
      destination_id: string;
      destination_kind: NotificationDestinationKind;
      destination_name: string;
      settings: NotificationDestinationSettings;
    }>(
      `WITH claimed AS (
         UPDATE notification_deliveries SET status = 'sending', lease_owner = $2,
           lease_until = ${at("$3")} + $4::float8 * interval '1 millisecond', attempts = attempts + 1,
           last_attempt_at = ${at("$3")}, updated_at = now()
         WHERE id = $1 AND ((status = 'pending' AND next_attempt_at <= ${at("$3")})
                        OR (status = 'sending' AND lease_until <= ${at("$3")}))
         RETURNING id, incident_id, event_id, destination_id, attempts)
       SELECT c.id, c.incident_id, c.event_id, e.event_key, e.kind, ${ms("e.event_at")} AS event_ms, e.actor,
         e.snapshot, c.attempts, d.id AS destination_id, d.kind AS destination_kind, d.name AS destination_name,
         d.settings
       FROM claimed c JOIN notification_events e ON e.id = c.event_id
       JOIN notification_destinations d ON d.id = c.destination_id`,
      [claim.id, claim.owner, claim.nowMs, claim.leaseMs],
    );
    const row = rows[0];
    if (!row) return { status: "gone" };
    return {
      status: "claimed",
      delivery: {
        id: Number(row.id),
        incidentId: row.incident_id,
        eventId: Number(row.event_id),
        eventKey: row.event_key,
        kind: row.kind,
        eventAtMs: Number(row.event_ms),
        actor: row.actor,
        snapshot: row.snapshot,
        attempts: row.attempts,
        destination: {
          id: row.destination_id,
          kind: row.destination_kind,
          name: row.destination_name,
          settings: row.settings,
        },
      },
    };
  });
}

/** What one attempt came to. `retry` puts it back in the queue for `nextAttemptAtMs`. */
export type DeliveryOutcome =
  | { status: "delivered"; statusCode: number | null }
  | { status: "retry"; nextAttemptAtMs: number; error: string; statusCode: number | null }
  | { status: "failed"; error: string; statusCode: number | null };

/**
 * Records an attempt's outcome, only while `owner` still holds the lease (a worker whose lease
 * expired and was taken over must not overwrite the new holder's result). True when recorded.
 */
export async function completeDelivery(
  handle: DbHandle,
  completion: { id: number; owner: string; nowMs: number; outcome: DeliveryOutcome },
): Promise<boolean> {
  const { outcome } = completion;
  const rows = await handle.query<{ id: string | number }>(
    `UPDATE notification_deliveries SET status = $3, lease_owner = NULL, lease_until = NULL,
       next_attempt_at = coalesce(${at("$4")}, next_attempt_at), last_error = coalesce($5, last_error),
       last_status_code = coalesce($6, last_status_code),
       delivered_at = CASE WHEN $3 = 'delivered' THEN ${at("$7")} ELSE delivered_at END, updated_at = now()
     WHERE id = $1 AND status = 'sending' AND lease_owner = $2 RETURNING id`,
    [
      completion.id,
      completion.owner,
      outcome.status === "retry" ? "pending" : outcome.status,
      outcome.status === "retry" ? outcome.nextAttemptAtMs : null,
      outcome.status === "delivered" ? null : outcome.error,
      outcome.statusCode,
      completion.nowMs,
    ],
  );
  return rows.length > 0;
}

/** One delivery as the incident page shows it. Times in ms since the epoch. */
export interface IncidentDelivery {
  id: number;
  eventKind: NotificationEventKind;
  eventKey: string;
  eventAtMs: number;
  destinationId: string;
  destinationName: string;
  destinationKind: NotificationDestinationKind;
  status: NotificationDeliveryStatus;
  attempts: number;
  nextAttemptAtMs: number | null;
  lastError: string | null;
  lastStatusCode: number | null;
  deliveredAtMs: number | null;
  createdAtMs: number;
}

/** An incident's pages, oldest first: what went where, and what failed with which error. */
export async function listIncidentDeliveries(
  handle: DbHandle,
  incidentId: string,
): Promise<IncidentDelivery[]> {
  const rows = await handle.query<{
    id: string | number;
    kind: NotificationEventKind;
    event_key: string;
    event_ms: number;
    destination_id: string;
    name: string;
    destination_kind: NotificationDestinationKind;
    status: NotificationDeliveryStatus;
    attempts: number;
    next_ms: number | null;
    last_error: string | null;
    last_status_code: number | null;
    delivered_ms: number | null;
    created_ms: number;
  }>(
    `SELECT x.id, e.kind, e.event_key, ${ms("e.event_at")} AS event_ms, x.destination_id, d.name,
       d.kind AS destination_kind, x.status, x.attempts,
       CASE WHEN x.status IN ('pending', 'sending') THEN ${ms("x.next_attempt_at")} END AS next_ms,
       x.last_error, x.last_status_code, ${ms("x.delivered_at")} AS delivered_ms, ${ms("x.created_at")} AS created_ms
     FROM notification_deliveries x JOIN notification_events e ON e.id = x.event_id
     JOIN notification_destinations d ON d.id = x.destination_id
     WHERE x.incident_id = $1 ORDER BY x.created_at, x.id`,
    [incidentId],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    eventKind: row.kind,
    eventKey: row.event_key,
    eventAtMs: Number(row.event_ms),
    destinationId: row.destination_id,
    destinationName: row.name,
    destinationKind: row.destination_kind,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAtMs: row.next_ms === null ? null : Number(row.next_ms),
    lastError: row.last_error,
    lastStatusCode: row.last_status_code,
    deliveredAtMs: row.delivered_ms === null ? null : Number(row.delivered_ms),
    createdAtMs: Number(row.created_ms),
  }));
}
