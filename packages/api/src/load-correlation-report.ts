import { buildCorrelationReport, type CorrelationReport } from "@faultline/core";
import { type DbHandle, listChangeEvents, listIncidents } from "@faultline/db";

/** How far before an incident's start its suspects may have started (attribution's lookback). */
const suspectLookbackMs = 2 * 3_600_000;

/**
 * Reads what the correlation report needs and assembles it. The one code path behind
 * `GET /api/v1/reports/correlation`, `faultline report` and the UI's `reports` router, so all three
 * always give the same numbers.
 */
export async function loadCorrelationReport(
  db: DbHandle,
  query: { environment: string; fromMs: number; toMs: number },
): Promise<CorrelationReport> {
  const incidents = await listIncidents(db, query);
  const earliest = Math.min(query.fromMs, ...incidents.map((incident) => incident.startedAtMs));
  const changes = await listChangeEvents(db.db, {
    environment: query.environment,
    from: new Date(earliest - suspectLookbackMs),
    to: new Date(query.toMs),
  });
  return buildCorrelationReport({
    environment: query.environment,
    fromMs: query.fromMs,
    toMs: query.toMs,
    incidents,
    changes: changes.map((change) => ({
      id: change.id,
      environment: change.environment,
      service: change.service,
      version: change.version,
      kind: change.kind,
      source: change.source,
      startedAtMs: change.startedAt.getTime(),
      finishedAtMs: change.finishedAt?.getTime() ?? null,
    })),
  });
}
