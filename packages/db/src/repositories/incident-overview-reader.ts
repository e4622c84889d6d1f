import type { DbHandle } from "../create-db.ts";
import type {
  ChangeKind,
  ChangeSource,
  IncidentSeverity,
  IncidentSignal,
  IncidentStatus,
} from "../schema/index.ts";

/** A change event as the UI shows it; times in ms since the epoch. */
export interface ChangeSummary {
  id: string;
  service: string;
  version: string | null;
  previousVersion: string | null;
  kind: ChangeKind;
  source: ChangeSource;
  startedAtMs: number;
  finishedAtMs: number | null;
  commit: string | null;
  url: string | null;
  author: string | null;
  description: string | null;
}

/** An incident with what people set and its suspects' changes, for the triage and incident pages. */
export interface IncidentOverview {
  id: string;
  environment: string;
  title: string;
  status: IncidentStatus;
  statusSetBy: string | null;
  severity: IncidentSeverity;
  severitySetBy: string | null;
  signal: IncidentSignal;
  rootService: string | null;
  startedAtMs: number;
  detectedAtMs: number;
  endedAtMs: number | null;
  services: string[];
  surfaces: string[];
  affectedUsers: number;
  causeChangeId: string | null;
  assignee: string | null;
  acknowledgedBy: string | null;
  acknowledgedAtMs: number | null;
  suspects: { rank: number; score: number; evidence: string[]; change: ChangeSummary }[];
}

export interface IncidentTimelineEvent {
  id: number;
  atMs: number;
  kind: string;
  message: string;
  /** Null for detection's own events. */
  author: string | null;
}

const changeJson = (alias: string) => `jsonb_build_object('id', ${alias}.id, 'service', ${alias}.service,
  'version', ${alias}.version, 'previousVersion', ${alias}.previous_version, 'kind', ${alias}.kind,
  'source', ${alias}.source, 'startedAtMs', (extract(epoch FROM ${alias}.started_at) * 1000)::float8,
  'finishedAtMs', (extract(epoch FROM ${alias}.finished_at) * 1000)::float8, 'commit', ${alias}.commit,
  'url', ${alias}.url, 'author', ${alias}.author, 'description', ${alias}.description)`;

const overviewSql = (where: string) => `
SELECT i.id, i.environment, i.title, i.status, i.status_set_by, i.severity, i.severity_set_by, i.signal,
  i.root_service, (extract(epoch FROM i.started_at) * 1000)::float8 AS started_ms,
  (extract(epoch FROM i.detected_at) * 1000)::float8 AS detected_ms,
  (extract(epoch FROM i.ended_at) * 1000)::float8 AS ended_ms,
  i.affected_services, i.surfaces, i.affected_users, i.cause_change_id, i.assignee, i.acknowledged_by,
  (extract(epoch FROM i.acknowledged_at) * 1000)::float8 AS acknowledged_ms,
  (SELECT jsonb_agg(jsonb_build_object('rank', s.rank, 'score', s.score, 'evidence', s.evidence,
     'change', ${changeJson("c")}) ORDER BY s.rank)
   FROM incident_suspects s JOIN change_events c ON c.id = s.change_event_id WHERE s.incident_id = i.id) AS suspects
FROM incidents i WHERE ${where}`;

type Numeric = string | number;
interface OverviewRow {
  id: string;
  environment: string;
  title: string;
  status: IncidentStatus;
  status_set_by: string | null;
  severity: IncidentSeverity;
  severity_set_by: string | null;
  signal: IncidentSignal;
  root_service: string | null;
  started_ms: Numeric;
  detected_ms: Numeric;
  ended_ms: Numeric | null;
  affected_services: string[];
  surfaces: string[];
  affected_users: number;
  cause_change_id: string | null;
  assignee: string | null;
  acknowledged_by: string | null;
  acknowledged_ms: Numeric | null;
  suspects: { rank: number; score: number; evidence: string[]; change: ChangeSummary }[] | null;
}

const msOrNull = (value: Numeric | null): number | null => (value === null ? null : Number(value));

function overviewOf(row: OverviewRow): IncidentOverview {
  return {
    id: row.id,
    environment: row.environment,
    title: row.title,
    status: row.status,
    statusSetBy: row.status_set_by,
    severity: row.severity,
    severitySetBy: row.severity_set_by,
    signal: row.signal,
    rootService: row.root_service,
    startedAtMs: Number(row.started_ms),
    detectedAtMs: Number(row.detected_ms),
    endedAtMs: msOrNull(row.ended_ms),
    services: row.affected_services,
    surfaces: row.surfaces,
    affectedUsers: row.affected_users,
    causeChangeId: row.cause_change_id,
    assignee: row.assignee,
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAtMs: msOrNull(row.acknowledged_ms),
    suspects: (row.suspects ?? []).map((suspect) => ({
      ...suspect,
      change: {
        ...suspect.change,
        startedAtMs: Number(suspect.change.startedAtMs),
        finishedAtMs: msOrNull(suspect.change.finishedAtMs),
      },
    })),
  };
}

/**
 * Incidents still open or acknowledged, plus those that started or ended since `sinceMs`, newest
 * first (the caller orders by impact); at most `limit`.
 */
export async function listIncidentOverviews(
  handle: DbHandle,
  query: { environment: string; sinceMs: number; limit: number },
): Promise<IncidentOverview[]> {
  const rows = await handle.query<OverviewRow>(
    `${overviewSql(`i.environment = $1 AND (i.status <> 'resolved'
       OR coalesce(i.ended_at, i.started_at) >= timestamptz 'epoch' + $2::float8 * interval '1 millisecond')`)}
     ORDER BY i.started_at DESC, i.id LIMIT $3`,
    [query.environment, query.sinceMs, query.limit],
  );
  return rows.map(overviewOf);
}

/** One incident, or null when there is none with that id. */
export async function readIncidentOverview(handle: DbHandle, id: string): Promise<IncidentOverview | null> {
  const [row] = await handle.query<OverviewRow>(overviewSql("i.id = $1"), [id]);
  return row ? overviewOf(row) : null;
}

/** The incident's timeline, detection's events and people's notes together, oldest first. */
export async function readIncidentEvents(
  handle: DbHandle,
  incidentId: string,
): Promise<IncidentTimelineEvent[]> {
  const rows = await handle.query<{
    id: Numeric;
    at_ms: Numeric;
    kind: string;
    message: string;
    author: string | null;
  }>(
    `SELECT id, (extract(epoch FROM at) * 1000)::float8 AS at_ms, kind, message, author
     FROM incident_events WHERE incident_id = $1 ORDER BY at, id`,
    [incidentId],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    atMs: Number(row.at_ms),
    kind: row.kind,
    message: row.message,
    author: row.author,
  }));
}

/**
 * Change events of an environment that started in [fromMs, toMs), newest first, optionally filtered by
 * services, kind and source; at most `limit`.
 */
export async function listChangeSummaries(
  handle: DbHandle,
  query: {
    environment: string;
    fromMs: number;
    toMs: number;
    services?: readonly string[];
    kind?: ChangeKind;
    source?: ChangeSource;
    limit: number;
  },
): Promise<ChangeSummary[]> {
  const rows = await handle.query<{ change: ChangeSummary }>(
    `SELECT ${changeJson("c")} AS change FROM change_events c
     WHERE c.environment = $1
       AND c.started_at >= timestamptz 'epoch' + $2::float8 * interval '1 millisecond'
       AND c.started_at < timestamptz 'epoch' + $3::float8 * interval '1 millisecond'
       AND ($4::text[] IS NULL OR c.service = ANY($4::text[]))
       AND ($5::text IS NULL OR c.kind = $5) AND ($6::text IS NULL OR c.source = $6)
     ORDER BY c.started_at DESC, c.id LIMIT $7`,
    [
      query.environment,
      query.fromMs,
      query.toMs,
      query.services ? [...query.services] : null,
      query.kind ?? null,
      query.source ?? null,
      query.limit,
    ],
  );
  return rows.map(({ change }) => ({
    ...change,
    startedAtMs: Number(change.startedAtMs),
    finishedAtMs: msOrNull(change.finishedAtMs),
  }));
}
