import type { DbHandle } from "../create-db.ts";

export interface PostmortemTemplateRecord {
  id: string;
  name: string;
  description: string;
  body: string;
  team: string | null;
  builtIn: string | null;
  updatedBy: string | null;
  updatedAtMs: number;
}

const columns = `id, name, description, body, team, built_in, updated_by,
  (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms`;

interface TemplateRow {
  id: string;
  name: string;
  description: string;
  body: string;
  team: string | null;
  built_in: string | null;
  updated_by: string | null;
  updated_ms: number | string;
}

function toRecord(row: TemplateRow): PostmortemTemplateRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    body: row.body,
    team: row.team,
    builtIn: row.built_in,
    updatedBy: row.updated_by,
    updatedAtMs: Number(row.updated_ms),
  };
}

/**
 * Seeds the built-in templates that are missing. One a team has edited is left as they made it: the
 * seed only inserts.
 */
export async function ensurePostmortemTemplates(
  handle: DbHandle,
  builtIns: readonly { id: string; name: string; description: string; body: string }[],
): Promise<void> {
  for (const template of builtIns) {
    await handle.query(
      `INSERT INTO postmortem_templates (id, name, description, body, built_in) VALUES ($1, $2, $3, $4, $1)
       ON CONFLICT (id) DO NOTHING`,
      [template.id, template.name, template.description, template.body],
    );
  }
}

/** Templates: built-in ones first, then by team and name. */
export async function listPostmortemTemplates(handle: DbHandle): Promise<PostmortemTemplateRecord[]> {
  const rows = await handle.query<TemplateRow>(
    `SELECT ${columns} FROM postmortem_templates ORDER BY built_in IS NULL, built_in, team NULLS FIRST, name, id`,
  );
  return rows.map(toRecord);
}

export async function getPostmortemTemplate(
  handle: DbHandle,
  id: string,
): Promise<PostmortemTemplateRecord | null> {
  const rows = await handle.query<TemplateRow>(`SELECT ${columns} FROM postmortem_templates WHERE id = $1`, [
    id,
  ]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Creates a template under a new id, or replaces the fields of an existing one. */
export async function savePostmortemTemplate(
  handle: DbHandle,
  input: {
    id: string;
    name: string;
    description: string;
    body: string;
    team: string | null;
    author: string;
    nowMs: number;
  },
): Promise<PostmortemTemplateRecord> {
  const rows = await handle.query<TemplateRow>(
    `INSERT INTO postmortem_templates (id, name, description, body, team, updated_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, timestamptz 'epoch' + $7::float8 * interval '1 millisecond',
       timestamptz 'epoch' + $7::float8 * interval '1 millisecond')
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, body = excluded.body,
       team = excluded.team, updated_by = excluded.updated_by, updated_at = excluded.updated_at
     RETURNING ${columns}`,
    [input.id, input.name, input.description, input.body, input.team, input.author, input.nowMs],
  );
  const row = rows[0];
  if (!row) throw new Error("template upsert returned no row");
  return toRecord(row);
}
