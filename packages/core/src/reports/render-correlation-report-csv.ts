import type { CorrelationReport, ReportChangeRef } from "./build-correlation-report.ts";

/**
 * The columns of the correlation CSV, in order. Incident columns are empty on change rows and change
 * columns are empty on incident rows (see {@link renderCorrelationReportCsv}).
 */
export const correlationCsvColumns = [
  "record_type",
  "id",
  "environment",
  "started_at",
  "detected_at",
  "ended_at",
  "title",
  "status",
  "severity",
  "signal",
  "root_service",
  "services",
  "affected_users",
  "time_to_detect_seconds",
  "time_to_recover_seconds",
  "cause",
  "cause_change_id",
  "cause_score",
  "top_suspect",
  "top_suspect_change_id",
  "top_suspect_score",
  "top_suspect_evidence",
  "change_service",
  "change_version",
  "change_kind",
  "change_source",
  "caused_incident_ids",
] as const;

type Column = (typeof correlationCsvColumns)[number];
/** One CSV value: text (quoted), a number (bare) or missing (empty). */
export type CsvCell = string | number | null;

/**
 * Renders the correlation report as one RFC 4180 table (CRLF line ends, a header row, every record
 * with the same columns), so any CSV reader and any spreadsheet opens it without special handling.
 *
 * Layout: a single table with a `record_type` column instead of two sections, because a blank line
 * and a second header would be read as data rows by most tools.
 * - `incident` rows, one per incident in report order: its times, title, status, severity, signal,
 *   root service, services (`; `-separated), affected users, time to detect and to recover in seconds,
 *   `cause` ("service version (kind)", or `unexplained`) with its change id and score, and the top
 *   suspect (which may be the cause) with its id, score and evidence lines (newline-separated).
 *   `ended_at` is when the incident ended.
 * - `change` rows, one per change of the period in report order: `started_at`, `ended_at` (when the
 *   change finished), `change_service`, `change_version`, `change_kind`, `change_source` (`api`,
 *   `webhook`, or `telemetry` for inferred changes) and `caused_incident_ids` (`; `-separated).
 * The summary is not repeated: it is the JSON's and the Markdown's, and is derivable from these rows.
 *
 * Text fields are always double-quoted with inner quotes doubled; numbers are bare; missing values are
 * empty. Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return) gets a leading `'`, so an attacker-chosen service name or title cannot execute in
 * the spreadsheet of whoever opens the export.
 */
export function renderCorrelationReportCsv(report: CorrelationReport): string {
  const records: CsvCell[][] = [[...correlationCsvColumns]];
  for (const incident of report.incidents) {
    const top = incident.suspects[0] ?? null;
    records.push(
      row({
        record_type: "incident",
        id: incident.id,
        environment: report.environment,
        started_at: incident.startedAt,
        detected_at: incident.detectedAt,
        ended_at: incident.endedAt,
        title: incident.title,
        status: incident.status,
        severity: incident.severity,
        signal: incident.signal,
        root_service: incident.rootService,
        services: incident.services.join("; "),
        affected_users: incident.affectedUsers,
        time_to_detect_seconds: secondsBetween(incident.startedAt, incident.detectedAt),
        time_to_recover_seconds:
          incident.endedAt === null ? null : secondsBetween(incident.startedAt, incident.endedAt),
        cause: incident.cause === null ? "unexplained" : changeLabel(incident.cause),
        cause_change_id: incident.cause?.deployId ?? null,
        cause_score: incident.cause?.score ?? null,
        top_suspect: top === null ? null : changeLabel(top),
        top_suspect_change_id: top?.deployId ?? null,
        top_suspect_score: top?.score ?? null,
        top_suspect_evidence: top === null ? null : top.evidence.join("\n"),
      }),
    );
  }
  for (const deploy of report.deploys) {
    records.push(
      row({
        record_type: "change",
        id: deploy.id,
        environment: deploy.environment,
        started_at: deploy.startedAt,
        ended_at: deploy.finishedAt,
        change_service: deploy.service,
        change_version: deploy.version,
        change_kind: deploy.kind,
        change_source: deploy.source,
        caused_incident_ids: deploy.causedIncidentIds.join("; "),
      }),
    );
  }
  return records.map((record) => `${record.map(csvField).join(",")}\r\n`).join("");
}

/** `faultline-correlation-<environment>-<from>.csv`, safe as a file name on every OS and in a header. */
export function correlationCsvFileName(report: Pick<CorrelationReport, "environment" | "from">): string {
  // Only a conservative alphabet survives: quotes, slashes and CR/LF would break the
  // Content-Disposition header or escape the download directory.
  const environment = report.environment.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 64) || "_";
  const from = report.from.replace(/\.\d+(?=Z$)/, "").replace(/[-:]/g, "");
  return `faultline-correlation-${environment}-${from.replace(/[^A-Za-z0-9]+/g, "_")}.csv`;
}

function row(cells: Partial<Record<Column, CsvCell>>): CsvCell[] {
  return correlationCsvColumns.map((column) => cells[column] ?? null);
}

/** One RFC 4180 field, with spreadsheet formula injection neutralised in text. */
export function csvField(value: CsvCell): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

function changeLabel(change: Pick<ReportChangeRef, "service" | "version" | "kind">): string {
  return `${change.service}${change.version === null ? "" : ` ${change.version}`} (${change.kind})`;
}

function secondsBetween(fromIso: string, toIso: string): number | null {
  const seconds = (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
  return Number.isFinite(seconds) ? seconds : null;
}
