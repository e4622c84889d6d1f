import type { ChangeEventRow } from "@faultline/db";

/** A stored change event as the API returns it: ISO-8601 UTC times, nulls for unknowns. */
export interface ChangeEventJson {
  id: string;
  service: string;
  version: string | null;
  previousVersion: string | null;
  environment: string;
  kind: string;
  source: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: string | null;
  commit: string | null;
  url: string | null;
  author: string | null;
  description: string | null;
  scope: ChangeEventRow["scope"];
}

/** Shapes a stored change event for `GET /api/v1/deploys`. */
export function changeEventJson(row: ChangeEventRow): ChangeEventJson {
  return {
    id: row.id,
    service: row.service,
    version: row.version,
    previousVersion: row.previousVersion,
    environment: row.environment,
    kind: row.kind,
    source: row.source,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    outcome: row.outcome,
    commit: row.commit,
    url: row.url,
    author: row.author,
    description: row.description,
    scope: row.scope,
  };
}
