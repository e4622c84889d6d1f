import type { DbHandle } from "../create-db.ts";

export interface InstanceVersionSightingRow {
  environment: string;
  service: string;
  instanceId: string;
  version: string;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** Every (instance, version) a service reported, with first and last event time seen. */
export async function listInstanceVersions(
  handle: DbHandle,
  query: { environment: string; service: string },
): Promise<InstanceVersionSightingRow[]> {
  const rows = await handle.query<{
    instance_id: string;
    version: string;
    first_ms: string | number;
    last_ms: string | number;
  }>(
    `SELECT instance_id, version, (extract(epoch FROM first_seen_at) * 1000)::float8 AS first_ms,
       (extract(epoch FROM last_seen_at) * 1000)::float8 AS last_ms
     FROM service_instance_versions WHERE environment = $1 AND service = $2 ORDER BY first_seen_at, instance_id`,
    [query.environment, query.service],
  );
  return rows.map((row) => ({
    environment: query.environment,
    service: query.service,
    instanceId: row.instance_id,
    version: row.version,
    firstSeenMs: Number(row.first_ms),
    lastSeenMs: Number(row.last_ms),
  }));
}
