import type { DbHandle } from "../create-db.ts";
import type {
  ActionItemPriorityValue,
  ActionItemStatusValue,
  PostmortemStatusValue,
} from "../schema/postmortems.ts";

const ts = (param: string) => `(timestamptz 'epoch' + ${param}::float8 * interval '1 millisecond')`;

export interface ActionItemRecord {
  id: number;
  postmortemId: string;
  title: string;
  owner: string | null;
  /** A calendar date, `YYYY-MM-DD`. */
  dueDate: string | null;
  priority: ActionItemPriorityValue;
  status: ActionItemStatusValue;
  link: string | null;
  createdAtMs: number;
  updatedAtMs: number;
  /** Still open or in progress after its due date (judged in UTC on the `nowMs` the query was given). */
  overdue: boolean;
  postmortemTitle: string;
  postmortemStatus: PostmortemStatusValue;
  incidentId: string | null;
}

export interface ActionItemFields {
  title: string;
  owner: string | null;
  dueDate: string | null;
  priority: ActionItemPriorityValue;
  status: ActionItemStatusValue;
  link: string | null;
}

// An item is overdue on the day after its due date, in UTC: due 2026-12-01 is overdue from 12-02 00:00 UTC.
const overdueSql = (nowParam: string) =>
  `(a.due_date IS NOT NULL AND a.status IN ('open', 'in_progress')
    AND a.due_date < (${ts(nowParam)} AT TIME ZONE 'UTC')::date)`;

const selectSql = (nowParam: string) => `
  SELECT a.id, a.postmortem_id, a.title, a.owner, to_char(a.due_date, 'YYYY-MM-DD') AS due_date, a.priority,
    a.status, a.link, (extract(epoch FROM a.created_at) * 1000)::float8 AS created_ms,
    (extract(epoch FROM a.updated_at) * 1000)::float8 AS updated_ms, ${overdueSql(nowParam)} AS overdue,
    p.title AS postmortem_title, p.status AS postmortem_status, p.incident_id
  FROM postmortem_action_items a JOIN postmortems p ON p.id = a.postmortem_id`;

interface ActionItemRow {
  id: number | string;
  postmortem_id: string;
  title: string;
  owner: string | null;
  due_date: string | null;
  priority: ActionItemPriorityValue;
  status: ActionItemStatusValue;
  link: string | null;
  created_ms: number | string;
  updated_ms: number | string;
  overdue: boolean;
  postmortem_title: string;
  postmortem_status: PostmortemStatusValue;
  incident_id: string | null;
}

function toRecord(row: ActionItemRow): ActionItemRecord {
  return {
    id: Number(row.id),
    postmortemId: row.postmortem_id,
    title: row.title,
    owner: row.owner,
    dueDate: row.due_date,
    priority: row.priority,
    status: row.status,
    link: row.link,
    createdAtMs: Number(row.created_ms),
    updatedAtMs: Number(row.updated_ms),
    overdue: row.overdue,
    postmortemTitle: row.postmortem_title,
    postmortemStatus: row.postmortem_status,
    incidentId: row.incident_id,
  };
}

/** Adds an action item to a postmortem; null when the postmortem does not exist. */
export async function addActionItem(
  handle: DbHandle,
  input: ActionItemFields & { postmortemId: string; nowMs: number },
): Promise<ActionItemRecord | null> {
  const inserted = await handle.query<{ id: number | string }>(
    `INSERT INTO postmortem_action_items (postmortem_id, title, owner, due_date, priority, status, link, created_at, updated_at)
     SELECT $1, $2, $3, $4::date, $5, $6, $7, ${ts("$8")}, ${ts("$8")} WHERE EXISTS (SELECT 1 FROM postmortems WHERE id = $1)
     RETURNING id`,
    [
      input.postmortemId,
      input.title,
      input.owner,
      input.dueDate,
      input.priority,
      input.status,
      input.link,
      input.nowMs,
    ],
  );
  const id = inserted[0]?.id;
  return id === undefined ? null : getActionItem(handle, Number(id), input.nowMs);
}

export async function getActionItem(
  handle: DbHandle,
  id: number,
  nowMs: number,
): Promise<ActionItemRecord | null> {
  const rows = await handle.query<ActionItemRow>(`${selectSql("$2")} WHERE a.id = $1`, [id, nowMs]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Changes the given fields of an action item; null when it does not exist. */
export async function updateActionItem(
  handle: DbHandle,
  id: number,
  patch: Partial<ActionItemFields>,
  nowMs: number,
): Promise<ActionItemRecord | null> {
  const has = (key: keyof ActionItemFields) => Object.hasOwn(patch, key);
  const rows = await handle.query<{ id: number | string }>(
    `UPDATE postmortem_action_items SET
       title = CASE WHEN $2 THEN $3 ELSE title END,
       owner = CASE WHEN $4 THEN $5 ELSE owner END,
       due_date = CASE WHEN $6 THEN $7::date ELSE due_date END,
       priority = CASE WHEN $8 THEN $9 ELSE priority END,
       status = CASE WHEN $10 THEN $11 ELSE status END,
       link = CASE WHEN $12 THEN $13 ELSE link END,
       updated_at = ${ts("$14")}
     WHERE id = $1 RETURNING id`,
    [
      id,
      has("title"),
      patch.title ?? null,
      has("owner"),
      patch.owner ?? null,
      has("dueDate"),
      patch.dueDate ?? null,
      has("priority"),
      patch.priority ?? null,
      has("status"),
      patch.status ?? null,
      has("link"),
      patch.link ?? null,
      nowMs,
    ],
  );
  return rows[0] ? getActionItem(handle, id, nowMs) : null;
}

export async function deleteActionItem(handle: DbHandle, id: number): Promise<boolean> {
  const rows = await handle.query<{ id: number }>(
    "DELETE FROM postmortem_action_items WHERE id = $1 RETURNING id",
    [id],
  );
  return rows.length > 0;
}

/**
 * Action items across postmortems (or of one), overdue ones first, then by due date (undated last) and
 * priority. `nowMs` decides what is overdue, so the answer does not depend on the server's clock.
 */
export async function listActionItems(
  handle: DbHandle,
  query: {
    nowMs: number;
    postmortemId?: string;
    statuses?: readonly ActionItemStatusValue[];
    overdueOnly?: boolean;
    owner?: string;
  },
): Promise<ActionItemRecord[]> {
  const rows = await handle.query<ActionItemRow>(
    `${selectSql("$1")}
     WHERE ($2::text IS NULL OR a.postmortem_id = $2)
       AND ($3::text[] IS NULL OR a.status = ANY($3::text[]))
       AND (NOT $4 OR ${overdueSql("$1")})
       AND ($5::text IS NULL OR a.owner = $5)
     ORDER BY ${overdueSql("$1")} DESC, a.due_date ASC NULLS LAST,
       CASE a.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, a.id`,
    [
      query.nowMs,
      query.postmortemId ?? null,
      query.statuses ? [...query.statuses] : null,
      query.overdueOnly ?? false,
      query.owner ?? null,
    ],
  );
  return rows.map(toRecord);
}
