import { buildCorrelationReport, type CorrelationReport } from "@faultline/core";
import { type DbHandle, readCorrelationReportInputs } from "@faultline/db";

/**
 * Reads what the correlation report needs and assembles it. The one code path behind
 * `GET /api/v1/reports/correlation`, `faultline report` and the UI's `reports` router, so all three
 * always give the same numbers.
 */
export async function loadCorrelationReport(
  db: DbHandle,
  query: { environment: string; fromMs: number; toMs: number },
): Promise<CorrelationReport> {
  const { incidents, changes } = await readCorrelationReportInputs(db, query);
  return buildCorrelationReport({ ...query, incidents, changes });
}
