import type { DbHandle } from "./create-db.ts";

/** How often an open PGlite handle looks for tables whose planner statistics went stale. */
export const plannerStatisticsIntervalMs = 10 * 60_000;

// Tables with data never analyzed, or grown by more than a tenth (and a few pages) since their last
// ANALYZE: autovacuum's analyze rule, in pages, which survive a restart (PGlite forgets its activity
// counters). An empty table is left alone (it may keep reltuples -1 even after an ANALYZE).
const staleTablesSql = `
SELECT c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
  AND ((c.reltuples < 0 AND pg_relation_size(c.oid) > 0)
    OR pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * 1.1 + 8)
ORDER BY c.relname`;

/** Tables of the public schema whose planner statistics are missing or stale. */
export async function findStaleStatistics(handle: DbHandle): Promise<string[]> {
  const rows = await handle.query<{ name: string }>(staleTablesSql);
  return rows.map((row) => row.name);
}

/**
 * ANALYZEs the tables whose statistics are missing or stale, so the planner knows, say, that
 * rollup_pending holds a handful of rows and series_buckets a million. PostgreSQL's autovacuum does
 * this by itself; embedded PGlite has no autovacuum, so createDb calls this after migrating and then
 * every 10 minutes while the handle is open. Returns the tables analyzed.
 */
export async function refreshPlannerStatistics(handle: DbHandle): Promise<string[]> {
  const stale = await findStaleStatistics(handle);
  for (const name of stale) await handle.query(`ANALYZE "${name.replaceAll('"', '""')}"`);
  return stale;
}
