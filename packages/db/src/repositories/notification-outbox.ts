import type { RawQuery } from "../create-db.ts";
import type { NotificationEventKind } from "../schema/notifications.ts";

/** The parts of a stored incident row whose changes can page someone. */
export interface IncidentPagingState {
  status: "open" | "acknowledged" | "resolved";
  severity: "sev1" | "sev2" | "sev3" | "sev4";
  causeChangeId: string | null;
}

/** One incident change that may page; `eventKey` makes it unique within the incident. */
export interface IncidentNotificationEvent {
  kind: NotificationEventKind;
  eventKey: string;
  /** Event time of the change, ms since the epoch. */
  eventAtMs: number;
}

/** What the incident as detection saved it says about when its changes happened (event time). */
export interface IncidentChangeContext {
  detectedAtMs: number;
  endedAtMs: number | null;
  events: readonly { atMs: number; kind: string }[];
}

const severityRank = { sev1: 1, sev2: 2, sev3: 3, sev4: 4 } as const;

/**
 * The notification events one save of an incident causes, comparing the stored row before and after.
 * Status changes follow what people see (`status`), so a recovery of an incident a person already
 * resolved pages nobody; a severity only pages when it escalates (de-escalating and escalating again
 * to the same level pages once: the key is the level); a new incident pages once as `opened`, carrying
 * its severity and cause. Event times come from the incident's own timeline (event time), falling back
 * to its detection or end time.
 */
export function incidentChangeNotifications(
  before: IncidentPagingState | null,
  after: IncidentPagingState,
  context: IncidentChangeContext,
): IncidentNotificationEvent[] {
  const latest = (kind: string, fallback: number): number => {
    let at: number | null = null;
    for (const event of context.events)
      if (event.kind === kind && (at === null || event.atMs > at)) at = event.atMs;
    return at ?? fallback;
  };
  const newest = context.events.reduce((max, event) => Math.max(max, event.atMs), context.detectedAtMs);
  const resolvedAt = () => context.endedAtMs ?? latest("recovered", newest);
  const events: IncidentNotificationEvent[] = [];
  if (before === null) {
    events.push({ kind: "opened", eventKey: "opened", eventAtMs: latest("opened", context.detectedAtMs) });
    if (after.status === "resolved") {
      const at = resolvedAt();
      events.push({ kind: "resolved", eventKey: `resolved@${at}`, eventAtMs: at });
    }
    return events;
  }
  if (before.status !== "resolved" && after.status === "resolved") {
    const at = resolvedAt();
    events.push({ kind: "resolved", eventKey: `resolved@${at}`, eventAtMs: at });
  } else if (before.status === "resolved" && after.status !== "resolved") {
    const at = latest("reopened", newest);
    events.push({ kind: "reopened", eventKey: `reopened@${at}`, eventAtMs: at });
  }
  if (severityRank[after.severity] < severityRank[before.severity]) {
    events.push({
      kind: "escalated",
      eventKey: `severity:${after.severity}`,
      eventAtMs: latest("severity_changed", newest),
    });
  }
  if (after.causeChangeId !== null && after.causeChangeId !== before.causeChangeId) {
    events.push({
      kind: "cause_changed",
      eventKey: `cause:${after.causeChangeId}`,
      eventAtMs: latest("suspects_changed", newest),
    });
  }
  return events;
}

/** Reads (and locks, for the rest of the transaction) what paging compares; null when the row is new. */
export async function lockIncidentPagingState(
  query: RawQuery,
  incidentId: string,
): Promise<IncidentPagingState | null> {
  const rows = await query<{
    status: IncidentPagingState["status"];
    severity: IncidentPagingState["severity"];
    cause_change_id: string | null;
  }>("SELECT status, severity, cause_change_id FROM incidents WHERE id = $1 FOR UPDATE", [incidentId]);
  const row = rows[0];
  return row ? { status: row.status, severity: row.severity, causeChangeId: row.cause_change_id } : null;
}

const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

const changeJson = (alias: string, suspect: string) =>
  `jsonb_build_object('changeId', ${alias}.id, 'service', ${alias}.service, 'version', ${alias}.version,
     'kind', ${alias}.kind, 'description', ${alias}.description, 'author', ${alias}.author, 'url', ${alias}.url,
     'startedAtMs', ${ms(`${alias}.started_at`)}, 'score', ${suspect}.score, 'evidence', coalesce(${suspect}.evidence, '[]'::jsonb))`;

/** The message snapshot of incident `i` as it stands in the current transaction (a SQL expression). */
export const incidentSnapshotSql = `jsonb_build_object('id', i.id, 'environment', i.environment, 'title', i.title, 'status', i.status,
         'severity', i.severity, 'signal', i.signal, 'rootService', i.root_service,
         'startedAtMs', ${ms("i.started_at")}, 'detectedAtMs', ${ms("i.detected_at")},
         'endedAtMs', ${ms("i.ended_at")}, 'services', to_jsonb(i.affected_services),
         'surfaces', to_jsonb(i.surfaces), 'affectedUsers', i.affected_users,
         'acknowledgedBy', i.acknowledged_by,
         'cause', (SELECT ${changeJson("c", "s")} FROM change_events c
                   LEFT JOIN incident_suspects s ON s.incident_id = i.id AND s.change_event_id = c.id
                   WHERE c.id = i.cause_change_id),
         'topSuspect', (SELECT ${changeJson("c", "s")} FROM incident_suspects s
                        JOIN change_events c ON c.id = s.change_event_id
                        WHERE s.incident_id = i.id ORDER BY s.rank LIMIT 1))`;

/**
 * Records one notification event in the caller's transaction (the outbox), with a snapshot of the
 * incident as it now stands in that transaction: what the message will say even if the incident moves
 * on before delivery. The same (incident, event key) recorded twice is kept once. Call it inside the
 * transaction that makes the change, so the change and its page commit or roll back together; the
 * delivery worker routes it to destinations later.
 */
export async function recordIncidentNotification(
  query: RawQuery,
  event: IncidentNotificationEvent & { incidentId: string; actor?: string | null },
): Promise<void> {
  await query(
    `INSERT INTO notification_events (incident_id, event_key, kind, event_at, actor, snapshot)
     SELECT i.id, $2, $3, timestamptz 'epoch' + $4::float8 * interval '1 millisecond', $5,
       ${incidentSnapshotSql}
     FROM incidents i WHERE i.id = $1
     ON CONFLICT (incident_id, event_key) DO NOTHING`,
    [event.incidentId, event.eventKey, event.kind, event.eventAtMs, event.actor ?? null],
  );
}

/**
 * For the incident-actions repository: records the page a person's action causes (PagerDuty
 * acknowledge/resolve, a message elsewhere), inside that action's transaction. `atMs` is the wall
 * clock of the action; it also keys the event, so two separate acknowledgements page twice but one
 * action retried pages once.
 */
export async function enqueueIncidentActionNotification(
  query: RawQuery,
  action: {
    incidentId: string;
    action: "acknowledged" | "resolved" | "reopened";
    actor: string;
    atMs: number;
  },
): Promise<void> {
  await recordIncidentNotification(query, {
    incidentId: action.incidentId,
    kind: action.action,
    eventKey: `${action.action}@${action.atMs}:by-person`,
    eventAtMs: action.atMs,
    actor: action.actor,
  });
}
