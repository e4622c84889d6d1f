import type { DbHandle } from "../create-db.ts";

/** An incident as the correlation report reads it (core's `ReportIncidentRow`); times in ms. */
export interface ReportIncidentRow {
  id: string;
  title: string;
  status: string;
  severity: string;
  signal: string;
  rootService: string | null;
  startedAtMs: number;
  detectedAtMs: number;
  endedAtMs: number | null;
  services: string[];
  affectedUsers: number;
  causeChangeId: string | null;
  /** By rank. */
  suspects: { changeId: string; score: number; evidence: string[] }[];
}

/** A change event as the correlation report reads it (core's `ReportChangeRow`); times in ms. */
export interface ReportChangeRow {
  id: string;
  environment: string;
  service: string;
  version: string | null;
  kind: "deploy" | "config" | "rollback" | "feature_flag";
  source: "api" | "webhook" | "telemetry";
  startedAtMs: number;
  finishedAtMs: number | null;
}

const ts = (param: string) => `(timestamptz 'epoch' + ${param}::float8 * interval '1 millisecond')`;
// date_part gives float8 directly (extract computes in numeric, measurably slower per row); stored times
// are whole milliseconds, and rounding undoes the float product's last-bit error.
const ms = (column: string) => `round(date_part('epoch', ${column}) * 1000)`;

/**
 * Everything the correlation report of [fromMs, toMs) needs, in three narrow statements: the incidents
 * overlapping the period, their suspects (one statement for all, not one subquery per incident), and
 * the changes that started in the period plus those an incident names as suspect or cause (which may
 * have started before it). Only the columns the report shows travel, times as epoch milliseconds, each
 * statement's rows as one JSON array: over a week of a busy platform (thousands of changes), full rows,
 * `Date`s and per-field decoding were most of the report's cost.
 */
export async function readCorrelationReportInputs(
  handle: DbHandle,
  query: { environment: string; fromMs: number; toMs: number },
): Promise<{ incidents: ReportIncidentRow[]; changes: ReportChangeRow[] }> {
  const incidentRows = await jsonRows<
    [
      string,
      string,
      string,
      string,
      string,
      string | null,
      number,
      number,
      number | null,
      string[],
      number,
      string | null,
    ]
  >(
    handle,
    `SELECT coalesce(json_agg(json_build_array(id, title, status, severity, signal, root_service,
       ${ms("started_at")}, ${ms("detected_at")}, ${ms("ended_at")}, affected_services, affected_users,
       cause_change_id) ORDER BY started_at, id), '[]')::text AS rows
     FROM incidents
     WHERE environment = $1 AND started_at < ${ts("$3")} AND coalesce(ended_at, 'infinity') >= ${ts("$2")}`,
    [query.environment, query.fromMs, query.toMs],
  );
  const ids = incidentRows.map((row) => row[0]);
  const suspectRows =
    ids.length === 0
      ? []
      : await jsonRows<[string, string, number, string[]]>(
          handle,
          `SELECT coalesce(json_agg(json_build_array(incident_id, change_event_id, score, evidence)
             ORDER BY incident_id, rank), '[]')::text AS rows
           FROM incident_suspects WHERE incident_id = ANY($1::text[])`,
          [ids],
        );
  const suspectsOf = new Map<string, ReportIncidentRow["suspects"]>();
  const named = new Set<string>();
  for (const [incidentId, changeId, score, evidence] of suspectRows) {
    let list = suspectsOf.get(incidentId);
    if (!list) {
      list = [];
      suspectsOf.set(incidentId, list);
    }
    list.push({ changeId, score, evidence });
    named.add(changeId);
  }
  for (const row of incidentRows) if (row[11] !== null) named.add(row[11]);
  const changeRows = await jsonRows<
    [
      string,
      string,
      string,
      string | null,
      ReportChangeRow["kind"],
      ReportChangeRow["source"],
      number,
      number | null,
    ]
  >(
    handle,
    `SELECT coalesce(json_agg(json_build_array(id, environment, service, version, kind, source,
       ${ms("started_at")}, ${ms("finished_at")}) ORDER BY started_at, id), '[]')::text AS rows
     FROM change_events
     WHERE (environment = $1 AND started_at >= ${ts("$2")} AND started_at < ${ts("$3")}) OR id = ANY($4::text[])`,
    [query.environment, query.fromMs, query.toMs, [...named]],
  );
  return {
    incidents: incidentRows.map((row) => ({
      id: row[0],
      title: row[1],
      status: row[2],
      severity: row[3],
      signal: row[4],
      rootService: row[5],
      startedAtMs: row[6],
      detectedAtMs: row[7],
      endedAtMs: row[8],
      services: row[9],
      affectedUsers: row[10],
      causeChangeId: row[11],
      suspects: suspectsOf.get(row[0]) ?? [],
    })),
    changes: changeRows.map((row) => ({
      id: row[0],
      environment: row[1],
      service: row[2],
      version: row[3],
      kind: row[4],
      source: row[5],
      startedAtMs: row[6],
      finishedAtMs: row[7],
    })),
  };
}

/**
 * Runs a statement that returns one `rows` column holding a JSON array, and parses it: one value
 * crosses the driver instead of thousands of rows of fields (embedded PGlite pays per field, a lot).
 */
async function jsonRows<Row>(handle: DbHandle, sqlText: string, params: readonly unknown[]): Promise<Row[]> {
  const [result] = await handle.query<{ rows: string }>(sqlText, params);
  return result ? (JSON.parse(result.rows) as Row[]) : [];
}
