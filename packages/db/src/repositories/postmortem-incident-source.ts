import type { DbHandle } from "../create-db.ts";

/** A change as a postmortem describes it (the same shape core's drafts take). */
export interface PostmortemSourceChange {
  id: string;
  service: string;
  version: string | null;
  previousVersion: string | null;
  kind: "deploy" | "config" | "rollback" | "feature_flag";
  startedAtMs: number;
  commit: string | null;
  description: string | null;
  author: string | null;
  url: string | null;
}

/** What a postmortem draft is written from, minus traffic (read from the series separately). */
export interface PostmortemIncidentSource {
  incident: {
    id: string;
    environment: string;
    title: string;
    severity: string;
    signal: string;
    rootService: string | null;
    startedAtMs: number;
    detectedAtMs: number;
    endedAtMs: number | null;
    acknowledgedAtMs: number | null;
    acknowledgedBy: string | null;
    services: string[];
    surfaces: string[];
    affectedUsers: number;
  };
  cause: (PostmortemSourceChange & { score: number; evidence: string[] }) | null;
  suspects: (PostmortemSourceChange & { score: number; evidence: string[] })[];
  events: { atMs: number; kind: string; message: string; author: string | null }[];
  laterChanges: PostmortemSourceChange[];
}

const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;
const changeColumns = `c.id, c.service, c.version, c.previous_version, c.kind, ${ms("c.started_at")} AS started_ms,
  c.commit, c.description, c.author, c.url`;

interface ChangeRow {
  id: string;
  service: string;
  version: string | null;
  previous_version: string | null;
  kind: PostmortemSourceChange["kind"];
  started_ms: number | string;
  commit: string | null;
  description: string | null;
  author: string | null;
  url: string | null;
}

function toChange(row: ChangeRow): PostmortemSourceChange {
  return {
    id: row.id,
    service: row.service,
    version: row.version,
    previousVersion: row.previous_version,
    kind: row.kind,
    startedAtMs: Number(row.started_ms),
    commit: row.commit,
    description: row.description,
    author: row.author,
    url: row.url,
  };
}

/**
 * Reads one incident with everything a postmortem draft needs: its row, its timeline (detection's
 * events and people's notes, in event time), its ranked suspects with their change details, the cause,
 * and the changes to its services that started after it began (rollbacks and fixes). Null when the
 * incident does not exist.
 */
export async function loadPostmortemIncidentSource(
  handle: DbHandle,
  incidentId: string,
): Promise<PostmortemIncidentSource | null> {
  const incidents = await handle.query<{
    id: string;
    environment: string;
    title: string;
    severity: string;
    signal: string;
    root_service: string | null;
    started_ms: number | string;
    detected_ms: number | string;
    ended_ms: number | string | null;
    acknowledged_ms: number | string | null;
    acknowledged_by: string | null;
    affected_services: string[];
    surfaces: string[];
    affected_users: number;
    cause_change_id: string | null;
  }>(
    `SELECT id, environment, title, severity, signal, root_service, ${ms("started_at")} AS started_ms,
       ${ms("detected_at")} AS detected_ms, ${ms("ended_at")} AS ended_ms, ${ms("acknowledged_at")} AS acknowledged_ms,
       acknowledged_by, affected_services, surfaces, affected_users, cause_change_id
     FROM incidents WHERE id = $1`,
    [incidentId],
  );
  const row = incidents[0];
  if (!row) return null;
  const suspectRows = await handle.query<ChangeRow & { score: number; evidence: string[] }>(
    `SELECT ${changeColumns}, s.score, s.evidence FROM incident_suspects s JOIN change_events c ON c.id = s.change_event_id
     WHERE s.incident_id = $1 ORDER BY s.rank`,
    [incidentId],
  );
  const suspects = suspectRows.map((suspect) => ({
    ...toChange(suspect),
    score: suspect.score,
    evidence: suspect.evidence,
  }));
  let cause = suspects.find((suspect) => suspect.id === row.cause_change_id) ?? null;
  if (!cause && row.cause_change_id) {
    const causeRows = await handle.query<ChangeRow>(
      `SELECT ${changeColumns} FROM change_events c WHERE c.id = $1`,
      [row.cause_change_id],
    );
    cause = causeRows[0] ? { ...toChange(causeRows[0]), score: 1, evidence: [] } : null;
  }
  const events = await handle.query<{
    at_ms: number | string;
    kind: string;
    message: string;
    author: string | null;
  }>(
    `SELECT ${ms("at")} AS at_ms, kind, message, author FROM incident_events WHERE incident_id = $1 ORDER BY at, id`,
    [incidentId],
  );
  const laterChanges = await handle.query<ChangeRow>(
    `SELECT ${changeColumns} FROM change_events c
     WHERE c.environment = $1 AND c.service = ANY($2::text[]) AND c.started_at >= (SELECT started_at FROM incidents WHERE id = $3)
       AND c.started_at <= coalesce((SELECT ended_at FROM incidents WHERE id = $3), 'infinity') AND c.id <> coalesce($4, '')
     ORDER BY c.started_at, c.id`,
    [row.environment, row.affected_services, incidentId, row.cause_change_id],
  );
  return {
    incident: {
      id: row.id,
      environment: row.environment,
      title: row.title,
      severity: row.severity,
      signal: row.signal,
      rootService: row.root_service,
      startedAtMs: Number(row.started_ms),
      detectedAtMs: Number(row.detected_ms),
      endedAtMs: row.ended_ms === null ? null : Number(row.ended_ms),
      acknowledgedAtMs: row.acknowledged_ms === null ? null : Number(row.acknowledged_ms),
      acknowledgedBy: row.acknowledged_by,
      services: row.affected_services,
      surfaces: row.surfaces,
      affectedUsers: row.affected_users,
    },
    cause,
    suspects,
    events: events.map((event) => ({
      atMs: Number(event.at_ms),
      kind: event.kind,
      message: event.message,
      author: event.author,
    })),
    laterChanges: laterChanges.map(toChange),
  };
}
