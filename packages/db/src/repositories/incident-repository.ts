import type { DbHandle } from "../create-db.ts";
import {
  type IncidentPagingState,
  incidentChangeNotifications,
  lockIncidentPagingState,
  recordIncidentNotification,
} from "./notification-outbox.ts";

/** An incident as detection produced it; times in ms since the epoch. */
export interface IncidentRecord {
  id: string;
  environment: string;
  title: string;
  status: "open" | "acknowledged" | "resolved";
  severity: "sev1" | "sev2" | "sev3" | "sev4";
  signal: "error_rate" | "throughput" | "latency" | "browser_errors";
  rootService: string | null;
  startedAtMs: number;
  detectedAtMs: number;
  endedAtMs: number | null;
  services: string[];
  surfaces: string[];
  affectedUsers: number;
  causeChangeId: string | null;
  suspects: { changeId: string; score: number; evidence: string[] }[];
  /** Detection's own timeline; notes written by people are kept apart and never overwritten. */
  events: { atMs: number; kind: string; message: string }[];
}

const ts = (param: string) => `(timestamptz 'epoch' + ${param}::float8 * interval '1 millisecond')`;

/**
 * Writes detection's view of an incident: the row, its ranked suspects and its system timeline, in one
 * transaction. What people set stays theirs: a severity set by hand is never changed by detection, and a
 * status set by hand (acknowledged, resolved) holds until detection's own view changes — a recovery
 * resolves an acknowledged incident, and a flare-up reopens one a person had resolved. The pages these
 * changes cause (opened, escalated, cause found, resolved, reopened) go to the notification outbox in
 * the same transaction.
 */
export async function saveIncident(handle: DbHandle, incident: IncidentRecord): Promise<void> {
  await handle.transaction(async (query) => {
    const before = await lockIncidentPagingState(query, incident.id);
    const saved = await query<{
      status: IncidentPagingState["status"];
      severity: IncidentPagingState["severity"];
      cause_change_id: string | null;
    }>(
      `INSERT INTO incidents (id, environment, title, status, detection_status, severity, signal, root_service,
         started_at, detected_at, ended_at, affected_services, surfaces, affected_users, cause_change_id, updated_at)
       VALUES ($1, $2, $3, $4, $4, $5, $6, $7, ${ts("$8")}, ${ts("$9")}, ${ts("$10")}, $11::text[], $12::text[], $13, $14,
         now())
       ON CONFLICT (id) DO UPDATE SET title = excluded.title,
         status = CASE WHEN incidents.status_set_by IS NOT NULL
                        AND incidents.detection_status = excluded.detection_status THEN incidents.status
                       ELSE excluded.status END,
         status_set_by = CASE WHEN incidents.detection_status = excluded.detection_status THEN incidents.status_set_by
                       END,
         detection_status = excluded.detection_status,
         severity = CASE WHEN incidents.severity_set_by IS NOT NULL THEN incidents.severity ELSE excluded.severity END,
         signal = excluded.signal, root_service = excluded.root_service,
         started_at = excluded.started_at, detected_at = excluded.detected_at, ended_at = excluded.ended_at,
         affected_services = excluded.affected_services, surfaces = excluded.surfaces,
         affected_users = excluded.affected_users, cause_change_id = excluded.cause_change_id, updated_at = now()
       RETURNING status, severity, cause_change_id`,
      [
        incident.id,
        incident.environment,
        incident.title,
        incident.status,
        incident.severity,
        incident.signal,
        incident.rootService,
        incident.startedAtMs,
        incident.detectedAtMs,
        incident.endedAtMs,
        incident.services,
        incident.surfaces,
        incident.affectedUsers,
        incident.causeChangeId,
      ],
    );
    await query("DELETE FROM incident_suspects WHERE incident_id = $1", [incident.id]);
    if (incident.suspects.length > 0) {
      await query(
        `INSERT INTO incident_suspects (incident_id, change_event_id, rank, score, evidence)
         SELECT $1, r.change_id, r.rank, r.score, r.evidence
         FROM jsonb_to_recordset($2::jsonb) AS r(change_id text, rank int, score float8, evidence jsonb)
         WHERE EXISTS (SELECT 1 FROM change_events c WHERE c.id = r.change_id)`,
        [
          incident.id,
          JSON.stringify(
            incident.suspects.map((suspect, index) => ({
              change_id: suspect.changeId,
              rank: index + 1,
              score: suspect.score,
              evidence: suspect.evidence,
            })),
          ),
        ],
      );
    }
    await query("DELETE FROM incident_events WHERE incident_id = $1 AND author IS NULL", [incident.id]);
    if (incident.events.length > 0) {
      await query(
        `INSERT INTO incident_events (incident_id, at, kind, message)
         SELECT $1, ${ts("r.at_ms")}, r.kind, r.message
         FROM jsonb_to_recordset($2::jsonb) AS r(at_ms float8, kind text, message text)`,
        [
          incident.id,
          JSON.stringify(
            incident.events.map((event) => ({ at_ms: event.atMs, kind: event.kind, message: event.message })),
          ),
        ],
      );
    }
    // The outbox: pages this change causes commit (or roll back) with the change itself.
    const after = saved[0];
    if (after) {
      const changes = incidentChangeNotifications(
        before,
        { status: after.status, severity: after.severity, causeChangeId: after.cause_change_id },
        incident,
      );
      for (const change of changes)
        await recordIncidentNotification(query, { ...change, incidentId: incident.id });
    }
  });
}

export interface StoredIncident extends Omit<IncidentRecord, "suspects" | "events"> {
  suspects: { changeId: string; rank: number; score: number; evidence: string[] }[];
}

/** Incidents of an environment whose [start, end or now] overlaps [fromMs, toMs), oldest first, with suspects. */
export async function listIncidents(
  handle: DbHandle,
  query: { environment: string; fromMs: number; toMs: number },
): Promise<StoredIncident[]> {
  const rows = await handle.query<{
    id: string;
    environment: string;
    title: string;
    status: StoredIncident["status"];
    severity: StoredIncident["severity"];
    signal: StoredIncident["signal"];
    root_service: string | null;
    started_ms: string | number;
    detected_ms: string | number;
    ended_ms: string | number | null;
    affected_services: string[];
    surfaces: string[];
    affected_users: number;
    cause_change_id: string | null;
    suspects: { change_id: string; rank: number; score: number; evidence: string[] }[] | null;
  }>(
    `SELECT i.id, i.environment, i.title, i.status, i.severity, i.signal, i.root_service,
       (extract(epoch FROM i.started_at) * 1000)::float8 AS started_ms,
       (extract(epoch FROM i.detected_at) * 1000)::float8 AS detected_ms,
       (extract(epoch FROM i.ended_at) * 1000)::float8 AS ended_ms,
       i.affected_services, i.surfaces, i.affected_users, i.cause_change_id,
       (SELECT jsonb_agg(jsonb_build_object('change_id', s.change_event_id, 'rank', s.rank, 'score', s.score,
          'evidence', s.evidence) ORDER BY s.rank) FROM incident_suspects s WHERE s.incident_id = i.id) AS suspects
     FROM incidents i
     WHERE i.environment = $1 AND i.started_at < ${ts("$3")} AND coalesce(i.ended_at, 'infinity') >= ${ts("$2")}
     ORDER BY i.started_at, i.id`,
    [query.environment, query.fromMs, query.toMs],
  );
  return rows.map((row) => ({
    id: row.id,
    environment: row.environment,
    title: row.title,
    status: row.status,
    severity: row.severity,
    signal: row.signal,
    rootService: row.root_service,
    startedAtMs: Number(row.started_ms),
    detectedAtMs: Number(row.detected_ms),
    endedAtMs: row.ended_ms === null ? null : Number(row.ended_ms),
    services: row.affected_services,
    surfaces: row.surfaces,
    affectedUsers: row.affected_users,
    causeChangeId: row.cause_change_id,
    suspects: (row.suspects ?? []).map((suspect) => ({
      changeId: suspect.change_id,
      rank: suspect.rank,
      score: suspect.score,
      evidence: suspect.evidence,
    })),
  }));
}

/** Deletes incidents detection merged into others (their suspects and events go with them). */
export async function deleteIncidents(handle: DbHandle, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await handle.query("DELETE FROM incidents WHERE id = ANY($1::text[])", [[...ids]]);
}
