import type { DbHandle } from "../create-db.ts";
import type { IncidentSeverity, IncidentStatus } from "../schema/incidents.ts";
import { enqueueIncidentActionNotification } from "./notification-outbox.ts";

/** What a person can do to an incident from the UI. */
export type IncidentAction =
  | { kind: "acknowledge" }
  | { kind: "assign"; assignee: string | null }
  | { kind: "set_severity"; severity: IncidentSeverity }
  | { kind: "set_status"; status: IncidentStatus }
  | { kind: "resolve" }
  /** `atMs` backdates the note (e.g. "14:02 restarted the pods"); it defaults to now. */
  | { kind: "note"; message: string; atMs?: number };

export interface IncidentActionRequest {
  incidentId: string;
  /** The person acting; recorded as the event's author and in the person-owned columns. */
  actor: string;
  /** Wall-clock now, ms since the epoch. */
  nowMs: number;
  action: IncidentAction;
}

/** The person-owned fields of an incident after an action. */
export interface IncidentOwnership {
  id: string;
  status: IncidentStatus;
  statusSetBy: string | null;
  severity: IncidentSeverity;
  severitySetBy: string | null;
  assignee: string | null;
  acknowledgedBy: string | null;
  acknowledgedAtMs: number | null;
}

export type IncidentActionOutcome =
  | { outcome: "applied"; incident: IncidentOwnership; eventId: number }
  /** Nothing to change (e.g. acknowledging an acknowledged incident); no event written. */
  | { outcome: "unchanged"; incident: IncidentOwnership }
  | { outcome: "not_found" }
  | { outcome: "rejected"; reason: string };

/** Notes may be written a little ahead of the server's clock (a laptop's skew), never further. */
const maxNoteSkewMs = 60_000;

interface OwnershipRow {
  id: string;
  status: IncidentStatus;
  status_set_by: string | null;
  severity: IncidentSeverity;
  severity_set_by: string | null;
  assignee: string | null;
  acknowledged_by: string | null;
  acknowledged_ms: string | number | null;
}

const ownershipColumns = `id, status, status_set_by, severity, severity_set_by, assignee, acknowledged_by,
  (extract(epoch FROM acknowledged_at) * 1000)::float8 AS acknowledged_ms`;

const ts = (param: string) => `(timestamptz 'epoch' + ${param}::float8 * interval '1 millisecond')`;

/**
 * Applies one person's action to an incident: updates the person-owned columns (`status_set_by`,
 * `severity_set_by`, `acknowledged_by/at`, `assignee`) and appends an authored `incident_events` row, in
 * one transaction with the incident row locked, so two people acting at once both land in order.
 * Detection keeps these (see saveIncident) until its own view changes. Acknowledging twice, or setting
 * what is already set, changes nothing and writes no event. Resolved incidents cannot be acknowledged.
 */
export async function applyIncidentAction(
  handle: DbHandle,
  request: IncidentActionRequest,
): Promise<IncidentActionOutcome> {
  const actor = request.actor.trim();
  if (actor === "") return { outcome: "rejected", reason: "who is acting? (a name is required)" };
  const action = request.action;
  if (action.kind === "note") {
    if (action.message.trim() === "") return { outcome: "rejected", reason: "a note needs text" };
    if (action.atMs !== undefined && action.atMs > request.nowMs + maxNoteSkewMs) {
      return { outcome: "rejected", reason: "a note cannot be dated in the future" };
    }
  }
  return handle.transaction(async (query) => {
    const [row] = await query<OwnershipRow>(
      `SELECT ${ownershipColumns} FROM incidents WHERE id = $1 FOR UPDATE`,
      [request.incidentId],
    );
    if (!row) return { outcome: "not_found" } as const;
    const before = ownershipOf(row);
    const change = planChange(before, action, actor, request.nowMs);
    if (change.kind === "rejected") return { outcome: "rejected", reason: change.reason } as const;
    if (change.kind === "unchanged") return { outcome: "unchanged", incident: before } as const;
    const after = change.sets.length
      ? ownershipOf(
          (
            await query<OwnershipRow>(
              `UPDATE incidents SET ${change.sets.map((set, index) => `${set.column} = ${set.epochMs ? ts(`$${index + 2}`) : `$${index + 2}`}`).join(", ")},
                 updated_at = now()
               WHERE id = $1 RETURNING ${ownershipColumns}`,
              [request.incidentId, ...change.sets.map((set) => set.value)],
            )
          )[0] as OwnershipRow,
        )
      : before;
    if (after.status !== before.status) {
      // The page a status change causes (PagerDuty acknowledge/resolve) commits with the change.
      await enqueueIncidentActionNotification(query, {
        incidentId: request.incidentId,
        action: after.status === "open" ? "reopened" : after.status,
        actor,
        atMs: request.nowMs,
      });
    }
    const [event] = await query<{ id: string | number }>(
      `INSERT INTO incident_events (incident_id, at, kind, message, author, data)
       VALUES ($1, ${ts("$2")}, $3, $4, $5, $6::jsonb) RETURNING id`,
      [
        request.incidentId,
        change.event.atMs,
        change.event.kind,
        change.event.message,
        actor,
        JSON.stringify(change.event.data),
      ],
    );
    return { outcome: "applied", incident: after, eventId: Number(event?.id) } as const;
  });
}

interface ColumnSet {
  column: string;
  value: unknown;
  /** The value is ms since the epoch for a timestamptz column. */
  epochMs?: true;
}

type PlannedChange =
  | { kind: "rejected"; reason: string }
  | { kind: "unchanged" }
  | {
      kind: "change";
      sets: ColumnSet[];
      event: { atMs: number; kind: string; message: string; data: Record<string, unknown> };
    };

function planChange(
  before: IncidentOwnership,
  action: IncidentAction,
  actor: string,
  nowMs: number,
): PlannedChange {
  const event = (kind: string, message: string, data: Record<string, unknown>) => ({
    atMs: nowMs,
    kind,
    message,
    data: { action: action.kind, ...data },
  });
  const acknowledgement = (): ColumnSet[] =>
    before.acknowledgedBy === null
      ? [
          { column: "acknowledged_by", value: actor },
          { column: "acknowledged_at", value: nowMs, epochMs: true },
        ]
      : [];
  const statusTo = (status: IncidentStatus): PlannedChange => {
    if (before.status === status) return { kind: "unchanged" };
    const sets: ColumnSet[] = [
      { column: "status", value: status },
      { column: "status_set_by", value: actor },
      ...(status === "acknowledged" ? acknowledgement() : []),
    ];
    const message =
      status === "acknowledged"
        ? `Acknowledged by ${actor}`
        : status === "resolved"
          ? `Resolved by ${actor}`
          : `Reopened by ${actor}`;
    return {
      kind: "change",
      sets,
      event: event("status_changed", message, { from: before.status, to: status }),
    };
  };
  switch (action.kind) {
    case "acknowledge":
      if (before.status === "resolved")
        return { kind: "rejected", reason: "the incident is resolved; reopen it first" };
      return statusTo("acknowledged");
    case "resolve":
      return statusTo("resolved");
    case "set_status":
      return statusTo(action.status);
    case "set_severity":
      if (before.severity === action.severity && before.severitySetBy !== null) return { kind: "unchanged" };
      return {
        kind: "change",
        sets: [
          { column: "severity", value: action.severity },
          { column: "severity_set_by", value: actor },
        ],
        event: event("severity_changed", `Severity ${before.severity} → ${action.severity} by ${actor}`, {
          from: before.severity,
          to: action.severity,
        }),
      };
    case "assign": {
      const assignee = action.assignee?.trim() || null;
      if (before.assignee === assignee) return { kind: "unchanged" };
      return {
        kind: "change",
        sets: [{ column: "assignee", value: assignee }],
        event: event(
          "assigned",
          assignee ? `Assigned to ${assignee} by ${actor}` : `Unassigned by ${actor}`,
          {
            from: before.assignee,
            to: assignee,
          },
        ),
      };
    }
    case "note":
      return {
        kind: "change",
        sets: [],
        event: { ...event("note", action.message.trim(), {}), atMs: action.atMs ?? nowMs },
      };
  }
}

function ownershipOf(row: OwnershipRow): IncidentOwnership {
  return {
    id: row.id,
    status: row.status,
    statusSetBy: row.status_set_by,
    severity: row.severity,
    severitySetBy: row.severity_set_by,
    assignee: row.assignee,
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAtMs: row.acknowledged_ms === null ? null : Number(row.acknowledged_ms),
  };
}
