import type { DbHandle, RawQuery } from "../create-db.ts";
import type { PostmortemStatusValue } from "../schema/postmortems.ts";

const ts = (param: string) => `(timestamptz 'epoch' + ${param}::float8 * interval '1 millisecond')`;
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

export interface PostmortemRecord {
  id: string;
  incidentId: string | null;
  title: string;
  status: PostmortemStatusValue;
  templateId: string | null;
  revision: number;
  body: string;
  createdBy: string;
  createdAtMs: number;
  updatedBy: string;
  updatedAtMs: number;
  publishedAtMs: number | null;
}

export interface PostmortemRevision {
  revision: number;
  title: string;
  body: string;
  author: string;
  savedAtMs: number;
}

export interface ChartSnapshotRecord {
  id: string;
  postmortemId: string;
  title: string;
  capturedAtMs: number;
  data: Record<string, unknown>;
}

/**
 * The outcome of a save. `conflict` means another save landed after the revision this one was based
 * on: nothing was written, and both versions come back so the author can merge them by hand.
 */
export type PostmortemSaveResult =
  | { kind: "saved"; postmortem: PostmortemRecord }
  | { kind: "unchanged"; postmortem: PostmortemRecord }
  | {
      kind: "conflict";
      theirs: PostmortemRevision;
      yours: { baseRevision: number; title: string; body: string };
    }
  | { kind: "not_found" };

interface PostmortemRow {
  id: string;
  incident_id: string | null;
  title: string;
  status: PostmortemStatusValue;
  template_id: string | null;
  revision: number;
  body: string;
  created_by: string;
  created_ms: number | string;
  updated_by: string;
  updated_ms: number | string;
  published_ms: number | string | null;
}

const columnsOf = (
  p: string,
) => `${p}id, ${p}incident_id, ${p}title, ${p}status, ${p}template_id, ${p}revision,
  ${p}body, ${p}created_by, ${ms(`${p}created_at`)} AS created_ms, ${p}updated_by, ${ms(`${p}updated_at`)} AS updated_ms,
  ${ms(`${p}published_at`)} AS published_ms`;
const postmortemColumns = columnsOf("");

function toRecord(row: PostmortemRow): PostmortemRecord {
  return {
    id: row.id,
    incidentId: row.incident_id,
    title: row.title,
    status: row.status,
    templateId: row.template_id,
    revision: row.revision,
    body: row.body,
    createdBy: row.created_by,
    createdAtMs: Number(row.created_ms),
    updatedBy: row.updated_by,
    updatedAtMs: Number(row.updated_ms),
    publishedAtMs: row.published_ms === null ? null : Number(row.published_ms),
  };
}

/**
 * Creates a postmortem as revision 1, with its chart snapshots and first action items, in one
 * transaction: a draft is either there whole or not at all.
 */
export async function createPostmortem(
  handle: DbHandle,
  input: {
    id: string;
    incidentId: string | null;
    title: string;
    body: string;
    templateId: string | null;
    author: string;
    nowMs: number;
    snapshots: readonly { id: string; title: string; data: Record<string, unknown> }[];
    actionItems: readonly { title: string; priority: "high" | "medium" | "low" }[];
  },
): Promise<PostmortemRecord> {
  return handle.transaction(async (query) => {
    const rows = await query<PostmortemRow>(
      `INSERT INTO postmortems (id, incident_id, title, status, template_id, revision, body, created_by, created_at,
         updated_by, updated_at)
       VALUES ($1, $2, $3, 'draft', $4, 1, $5, $6, ${ts("$7")}, $6, ${ts("$7")})
       RETURNING ${postmortemColumns}`,
      [input.id, input.incidentId, input.title, input.templateId, input.body, input.author, input.nowMs],
    );
    await insertRevision(query, input.id, 1, input.title, input.body, input.author, input.nowMs);
    for (const snapshot of input.snapshots) {
      await query(
        `INSERT INTO postmortem_chart_snapshots (id, postmortem_id, title, captured_at, data)
         VALUES ($1, $2, $3, ${ts("$4")}, $5::jsonb)`,
        [snapshot.id, input.id, snapshot.title, input.nowMs, JSON.stringify(snapshot.data)],
      );
    }
    for (const item of input.actionItems) {
      await query(
        `INSERT INTO postmortem_action_items (postmortem_id, title, priority, status, created_at, updated_at)
         VALUES ($1, $2, $3, 'open', ${ts("$4")}, ${ts("$4")})`,
        [input.id, item.title, item.priority, input.nowMs],
      );
    }
    const row = rows[0];
    if (!row) throw new Error("postmortem insert returned no row");
    return toRecord(row);
  });
}

function insertRevision(
  query: RawQuery,
  id: string,
  revision: number,
  title: string,
  body: string,
  author: string,
  nowMs: number,
): Promise<unknown> {
  return query(
    `INSERT INTO postmortem_revisions (postmortem_id, revision, title, body, author, saved_at)
     VALUES ($1, $2, $3, $4, $5, ${ts("$6")})`,
    [id, revision, title, body, author, nowMs],
  );
}

export async function getPostmortem(handle: DbHandle, id: string): Promise<PostmortemRecord | null> {
  const rows = await handle.query<PostmortemRow>(
    `SELECT ${postmortemColumns} FROM postmortems WHERE id = $1`,
    [id],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export interface PostmortemSummary extends Omit<PostmortemRecord, "body"> {
  incidentTitle: string | null;
  openActionItems: number;
}

/** Postmortems, most recently updated first; of one incident when `incidentId` is given. */
export async function listPostmortems(
  handle: DbHandle,
  filter: { incidentId?: string; limit?: number } = {},
): Promise<PostmortemSummary[]> {
  const rows = await handle.query<
    PostmortemRow & { incident_title: string | null; open_items: number | string }
  >(
    `SELECT ${columnsOf("p.")},
       i.title AS incident_title,
       (SELECT count(*) FROM postmortem_action_items a
         WHERE a.postmortem_id = p.id AND a.status IN ('open', 'in_progress')) AS open_items
     FROM postmortems p LEFT JOIN incidents i ON i.id = p.incident_id
     WHERE ($1::text IS NULL OR p.incident_id = $1)
     ORDER BY p.updated_at DESC, p.id
     LIMIT $2`,
    [filter.incidentId ?? null, filter.limit ?? 200],
  );
  return rows.map((row) => {
    const { body: _body, ...record } = toRecord(row);
    return { ...record, incidentTitle: row.incident_title, openActionItems: Number(row.open_items) };
  });
}

/**
 * Saves a new revision when `baseRevision` is still the latest; otherwise writes nothing and returns
 * the conflict with both versions. The row is locked while deciding, so of two concurrent saves on the
 * same base exactly one wins. A save that changes nothing adds no revision.
 */
export async function savePostmortem(
  handle: DbHandle,
  input: { id: string; baseRevision: number; title: string; body: string; author: string; nowMs: number },
): Promise<PostmortemSaveResult> {
  return handle.transaction(async (query) => {
    const current = (
      await query<PostmortemRow>(`SELECT ${postmortemColumns} FROM postmortems WHERE id = $1 FOR UPDATE`, [
        input.id,
      ])
    )[0];
    if (!current) return { kind: "not_found" };
    if (current.revision !== input.baseRevision) {
      const theirs = (
        await query<{
          revision: number;
          title: string;
          body: string;
          author: string;
          saved_ms: number | string;
        }>(
          `SELECT revision, title, body, author, ${ms("saved_at")} AS saved_ms
           FROM postmortem_revisions WHERE postmortem_id = $1 AND revision = $2`,
          [input.id, current.revision],
        )
      )[0];
      return {
        kind: "conflict",
        theirs: theirs
          ? {
              revision: theirs.revision,
              title: theirs.title,
              body: theirs.body,
              author: theirs.author,
              savedAtMs: Number(theirs.saved_ms),
            }
          : {
              revision: current.revision,
              title: current.title,
              body: current.body,
              author: current.updated_by,
              savedAtMs: Number(current.updated_ms),
            },
        yours: { baseRevision: input.baseRevision, title: input.title, body: input.body },
      };
    }
    if (current.title === input.title && current.body === input.body) {
      return { kind: "unchanged", postmortem: toRecord(current) };
    }
    const next = current.revision + 1;
    const rows = await query<PostmortemRow>(
      `UPDATE postmortems SET revision = $2, title = $3, body = $4, updated_by = $5, updated_at = ${ts("$6")}
       WHERE id = $1 RETURNING ${postmortemColumns}`,
      [input.id, next, input.title, input.body, input.author, input.nowMs],
    );
    await insertRevision(query, input.id, next, input.title, input.body, input.author, input.nowMs);
    const row = rows[0];
    if (!row) throw new Error("postmortem vanished while locked");
    return { kind: "saved", postmortem: toRecord(row) };
  });
}

/** Every revision of a postmortem without bodies, newest first. */
export async function listPostmortemRevisions(
  handle: DbHandle,
  id: string,
): Promise<Omit<PostmortemRevision, "body">[]> {
  const rows = await handle.query<{
    revision: number;
    title: string;
    author: string;
    saved_ms: number | string;
  }>(
    `SELECT revision, title, author, ${ms("saved_at")} AS saved_ms FROM postmortem_revisions
     WHERE postmortem_id = $1 ORDER BY revision DESC`,
    [id],
  );
  return rows.map((row) => ({
    revision: row.revision,
    title: row.title,
    author: row.author,
    savedAtMs: Number(row.saved_ms),
  }));
}

export async function getPostmortemRevision(
  handle: DbHandle,
  id: string,
  revision: number,
): Promise<PostmortemRevision | null> {
  const rows = await handle.query<{
    revision: number;
    title: string;
    body: string;
    author: string;
    saved_ms: number | string;
  }>(
    `SELECT revision, title, body, author, ${ms("saved_at")} AS saved_ms FROM postmortem_revisions
     WHERE postmortem_id = $1 AND revision = $2`,
    [id, revision],
  );
  const row = rows[0];
  return row
    ? {
        revision: row.revision,
        title: row.title,
        body: row.body,
        author: row.author,
        savedAtMs: Number(row.saved_ms),
      }
    : null;
}

/**
 * Moves a postmortem from status `from` to `to` (the caller has checked the workflow allows it).
 * Compare-and-set: returns null when the postmortem is gone or no longer in `from`.
 */
export async function updatePostmortemStatus(
  handle: DbHandle,
  input: {
    id: string;
    from: PostmortemStatusValue;
    to: PostmortemStatusValue;
    author: string;
    nowMs: number;
  },
): Promise<PostmortemRecord | null> {
  const rows = await handle.query<PostmortemRow>(
    `UPDATE postmortems SET status = $3, updated_by = $4, updated_at = ${ts("$5")},
       published_at = CASE WHEN $3 = 'published' THEN ${ts("$5")} ELSE published_at END
     WHERE id = $1 AND status = $2 RETURNING ${postmortemColumns}`,
    [input.id, input.from, input.to, input.author, input.nowMs],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listChartSnapshots(
  handle: DbHandle,
  postmortemId: string,
): Promise<ChartSnapshotRecord[]> {
  const rows = await handle.query<{
    id: string;
    postmortem_id: string;
    title: string;
    captured_ms: number | string;
    data: Record<string, unknown>;
  }>(
    `SELECT id, postmortem_id, title, ${ms("captured_at")} AS captured_ms, data FROM postmortem_chart_snapshots
     WHERE postmortem_id = $1 ORDER BY captured_at, id`,
    [postmortemId],
  );
  return rows.map((row) => ({
    id: row.id,
    postmortemId: row.postmortem_id,
    title: row.title,
    capturedAtMs: Number(row.captured_ms),
    data: row.data,
  }));
}
