import type { CorrelationReport } from "./build-correlation-report.ts";

type ReportDeploy = CorrelationReport["deploys"][number];

export interface ChangeFailureRow {
  key: string;
  changes: number;
  failed: number;
  /** failed / changes in [0, 1]; null when no change counts. */
  changeFailureRate: number | null;
  rollbacks: number;
}

/**
 * Change failure rate per group (service, or change kind), by the summary's rule: a change fails once
 * however many incidents it caused, and rollbacks are counted apart, never in the denominator. Worst
 * groups first, then by name.
 */
export function summarizeChangeFailures(
  deploys: readonly ReportDeploy[],
  keyOf: (deploy: ReportDeploy) => string,
): ChangeFailureRow[] {
  const rows = new Map<string, ChangeFailureRow>();
  for (const deploy of deploys) {
    const key = keyOf(deploy);
    const row = rows.get(key) ?? { key, changes: 0, failed: 0, changeFailureRate: null, rollbacks: 0 };
    if (deploy.kind === "rollback") row.rollbacks += 1;
    else {
      row.changes += 1;
      if (deploy.causedIncidentIds.length > 0) row.failed += 1;
    }
    rows.set(key, row);
  }
  for (const row of rows.values()) {
    row.changeFailureRate =
      row.changes === 0 ? null : Math.round((row.failed / row.changes) * 10_000) / 10_000;
  }
  return [...rows.values()].sort(
    (a, b) => b.failed - a.failed || b.changes - a.changes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

export interface ReportTimeBucket {
  startMs: number;
  changes: number;
  failedChanges: number;
  incidents: number;
}

/**
 * Changes (rollbacks excluded) and incidents per time bucket over the report's period, for a chart of
 * changes against incidents. Incidents count in the bucket they started in (or the first bucket when
 * they started before the period).
 */
export function bucketReportOverTime(report: CorrelationReport, bucketMs: number): ReportTimeBucket[] {
  const fromMs = Date.parse(report.from);
  const toMs = Date.parse(report.to);
  const count = Math.max(1, Math.ceil((toMs - fromMs) / bucketMs));
  const buckets: ReportTimeBucket[] = Array.from({ length: count }, (_, index) => ({
    startMs: fromMs + index * bucketMs,
    changes: 0,
    failedChanges: 0,
    incidents: 0,
  }));
  const indexOf = (ms: number) => Math.min(count - 1, Math.max(0, Math.floor((ms - fromMs) / bucketMs)));
  for (const deploy of report.deploys) {
    if (deploy.kind === "rollback") continue;
    const bucket = buckets[indexOf(Date.parse(deploy.startedAt))];
    if (!bucket) continue;
    bucket.changes += 1;
    if (deploy.causedIncidentIds.length > 0) bucket.failedChanges += 1;
  }
  for (const incident of report.incidents) {
    const bucket = buckets[indexOf(Date.parse(incident.startedAt))];
    if (bucket) bucket.incidents += 1;
  }
  return buckets;
}
