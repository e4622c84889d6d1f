import type { CorrelationReport, ReportChangeRef } from "./build-correlation-report.ts";
import { escapeMarkdown } from "./escape-markdown.ts";

type ReportIncident = CorrelationReport["incidents"][number];
type ReportDeploy = CorrelationReport["deploys"][number];

/** Change kinds that count towards the change failure rate, in the order the report lists them. */
const countedKinds = ["deploy", "config", "feature_flag"] as const;

const kindTitles: Record<string, string> = {
  deploy: "Deploy",
  config: "Config",
  feature_flag: "Feature flag",
  rollback: "Rollback",
};

const sourceTitles: Record<string, string> = {
  api: "reported (API)",
  webhook: "reported (webhook)",
  telemetry: "inferred from telemetry",
};

/**
 * Renders the correlation report as GitHub-flavoured Markdown, for `format=md` and `faultline report`:
 *
 * 1. `# Correlation report: <environment>, <from> to <to>`
 * 2. `## Summary` — a table of changes, failed changes, change failure rate (%), incidents, incidents
 *    with a cause, and the median times to detect and to recover.
 * 3. `## Incidents` — one row per incident: start, title, root service, services, signal, affected
 *    users, cause (or "unexplained") and time to detect.
 * 4. `## Failing changes` — each change that caused incidents, with those incidents and the evidence.
 * 5. `## Change failure rate by service` and `## Change failure rate by kind` — computed here from
 *    `report.deploys` with the same rule as the summary (a change fails once however many incidents
 *    it caused; rollbacks are left out of the denominator), since the JSON contract is fixed.
 * 6. `## Changes` — every change of the period, reported and inferred side by side with their source.
 *
 * Every piece of stored text goes through {@link escapeMarkdown}; the renderer itself only ever starts
 * a line with text it generated, so nothing from the data can open a block. Pure and deterministic:
 * the same report always gives the same bytes.
 */
export function renderCorrelationReportMarkdown(report: CorrelationReport): string {
  const incidentById = new Map(report.incidents.map((incident) => [incident.id, incident]));
  const sections = [
    `# Correlation report: ${escapeMarkdown(report.environment)}, ${formatTime(report.from)} to ${formatTime(report.to)}`,
    summarySection(report),
    incidentsSection(report.incidents),
    failingChangesSection(report.deploys, incidentById),
    byServiceSection(report.deploys),
    byKindSection(report.deploys),
    changesSection(report.deploys),
  ];
  return `${sections.join("\n\n")}\n`;
}

function summarySection(report: CorrelationReport): string {
  const summary = report.summary;
  return [
    "## Summary",
    "",
    table(
      ["Measure", "Value"],
      ["left", "right"],
      [
        ["Changes (rollbacks excluded)", String(summary.deploys)],
        ["Failed changes", String(summary.failedDeploys)],
        ["Change failure rate", summary.deploys === 0 ? "—" : percent(summary.changeFailureRate)],
        ["Incidents", String(summary.incidents)],
        ["Incidents with a cause", String(summary.incidentsWithCause)],
        ["Median time to detect", formatDuration(summary.medianTimeToDetectSeconds)],
        ["Median time to recover", formatDuration(summary.medianTimeToRecoverSeconds)],
      ],
    ),
  ].join("\n");
}

function incidentsSection(incidents: readonly ReportIncident[]): string {
  if (incidents.length === 0) return "## Incidents\n\nNo incidents in this period.";
  return [
    "## Incidents",
    "",
    table(
      ["Start", "Title", "Root service", "Services", "Signal", "Affected users", "Cause", "Time to detect"],
      ["left", "left", "left", "left", "left", "right", "left", "right"],
      incidents.map((incident) => [
        formatTime(incident.startedAt),
        escapeMarkdown(incident.title),
        incident.rootService === null ? "—" : escapeMarkdown(incident.rootService),
        incident.services.map(escapeMarkdown).join(", ") || "—",
        escapeMarkdown(incident.signal),
        String(incident.affectedUsers),
        incident.cause === null
          ? "unexplained"
          : `${changeLabel(incident.cause)}, score ${incident.cause.score.toFixed(2)}`,
        formatDuration(secondsBetween(incident.startedAt, incident.detectedAt)),
      ]),
    ),
  ].join("\n");
}

function failingChangesSection(
  deploys: readonly ReportDeploy[],
  incidentById: ReadonlyMap<string, ReportIncident>,
): string {
  const failing = deploys.filter((deploy) => deploy.causedIncidentIds.length > 0);
  if (failing.length === 0) return "## Failing changes\n\nNo change caused an incident in this period.";
  const lines = ["## Failing changes", ""];
  for (const deploy of failing) {
    const count = deploy.causedIncidentIds.length;
    lines.push(
      `- ${formatTime(deploy.startedAt)}: ${changeLabel(deploy)}, ${sourceTitle(deploy.source)}; ` +
        `caused ${count} incident${count === 1 ? "" : "s"}`,
    );
    for (const incidentId of deploy.causedIncidentIds) {
      const incident = incidentById.get(incidentId);
      if (!incident) {
        lines.push(`  - incident ${escapeMarkdown(incidentId)}`);
        continue;
      }
      const evidence = incident.suspects.find((suspect) => suspect.deployId === deploy.id)?.evidence ?? [];
      lines.push(
        `  - ${formatTime(incident.startedAt)}: ${escapeMarkdown(incident.title)} ` +
          `(${escapeMarkdown(incident.id)})` +
          (evidence.length > 0 ? `; evidence: ${evidence.map(escapeMarkdown).join("; ")}` : ""),
      );
    }
  }
  return lines.join("\n");
}

interface FailureCounts {
  changes: number;
  failed: number;
  rollbacks: number;
}

/** Counts per group with the summary's rule: rollbacks are counted apart and never fail. */
function countFailures(deploys: readonly ReportDeploy[], keyOf: (deploy: ReportDeploy) => string) {
  const counts = new Map<string, FailureCounts>();
  for (const deploy of deploys) {
    const key = keyOf(deploy);
    const entry = counts.get(key) ?? { changes: 0, failed: 0, rollbacks: 0 };
    if (deploy.kind === "rollback") entry.rollbacks += 1;
    else {
      entry.changes += 1;
      if (deploy.causedIncidentIds.length > 0) entry.failed += 1;
    }
    counts.set(key, entry);
  }
  return counts;
}

function byServiceSection(deploys: readonly ReportDeploy[]): string {
  if (deploys.length === 0) return "## Change failure rate by service\n\nNo changes in this period.";
  // Worst first: the services whose changes keep hurting are what this table is read for.
  const rows = [...countFailures(deploys, (deploy) => deploy.service)].sort(
    ([serviceA, a], [serviceB, b]) =>
      b.failed - a.failed || b.changes - a.changes || compareText(serviceA, serviceB),
  );
  return [
    "## Change failure rate by service",
    "",
    table(
      ["Service", "Changes", "Failed", "Change failure rate", "Rollbacks"],
      ["left", "right", "right", "right", "right"],
      rows.map(([service, counts]) => [
        escapeMarkdown(service),
        String(counts.changes),
        String(counts.failed),
        rateOf(counts),
        String(counts.rollbacks),
      ]),
    ),
  ].join("\n");
}

function byKindSection(deploys: readonly ReportDeploy[]): string {
  const counts = countFailures(deploys, (deploy) => deploy.kind);
  // The three counted kinds always appear so reports of different periods line up row for row.
  const kinds = [
    ...countedKinds,
    ...[...counts.keys()]
      .filter((kind) => kind !== "rollback" && !(countedKinds as readonly string[]).includes(kind))
      .sort(compareText),
  ];
  const rollbacks = counts.get("rollback")?.rollbacks ?? 0;
  return [
    "## Change failure rate by kind",
    "",
    table(
      ["Kind", "Changes", "Failed", "Change failure rate"],
      ["left", "right", "right", "right"],
      kinds.map((kind) => {
        const entry = counts.get(kind) ?? { changes: 0, failed: 0, rollbacks: 0 };
        return [kindTitle(kind), String(entry.changes), String(entry.failed), rateOf(entry)];
      }),
    ),
    "",
    `Rollbacks (${rollbacks} in this period) are left out of the denominator: undoing a change is not a new change that can fail.`,
  ].join("\n");
}

function changesSection(deploys: readonly ReportDeploy[]): string {
  if (deploys.length === 0) return "## Changes\n\nNo changes in this period.";
  return [
    "## Changes",
    "",
    table(
      ["Start", "Service", "Version", "Kind", "Source", "Caused incidents"],
      ["left", "left", "left", "left", "left", "right"],
      deploys.map((deploy) => [
        formatTime(deploy.startedAt),
        escapeMarkdown(deploy.service),
        deploy.version === null ? "—" : escapeMarkdown(deploy.version),
        kindTitle(deploy.kind),
        sourceTitle(deploy.source),
        String(deploy.causedIncidentIds.length),
      ]),
    ),
  ].join("\n");
}

/** A GFM table; cells must already be escaped (an unescaped `|` would shift every later column). */
function table(
  headers: readonly string[],
  align: readonly ("left" | "right")[],
  rows: readonly (readonly string[])[],
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(headers),
    line(align.map((side) => (side === "right" ? "---:" : "---"))),
    ...rows.map(line),
  ].join("\n");
}

/** "authz 2.14.0 (deploy)", escaped; the version is left out when the change has none (config, flags). */
function changeLabel(change: Pick<ReportChangeRef, "service" | "version" | "kind">): string {
  const version = change.version === null ? "" : ` ${escapeMarkdown(change.version)}`;
  return `${escapeMarkdown(change.service)}${version} (${kindTitle(change.kind).toLowerCase()})`;
}

function kindTitle(kind: string): string {
  return kindTitles[kind] ?? escapeMarkdown(kind);
}

function sourceTitle(source: string): string {
  return sourceTitles[source] ?? escapeMarkdown(source);
}

function rateOf(counts: FailureCounts): string {
  return counts.changes === 0 ? "—" : percent(counts.failed / counts.changes);
}

/** A rate in [0, 1] as a percentage with one decimal: 0.3333 → "33.3%". */
function percent(rate: number): string {
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

/**
 * "2026-11-27 10:06:00 UTC" from an ISO-8601 UTC time. Anything that is not one (the report only
 * holds `toISOString` output, but this is the one place a time is printed) is escaped and shown as is.
 */
function formatTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : escapeMarkdown(iso);
}

function secondsBetween(fromIso: string, toIso: string): number | null {
  const seconds = (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
  return Number.isFinite(seconds) ? seconds : null;
}

/** "40 s", "42.5 s", "3 min 20 s", "2 h 5 min", "1 d 3 h"; "—" when there is nothing to measure. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return joinUnits(Math.floor(whole / 60), "min", whole % 60, "s");
  if (whole < 86_400) return joinUnits(Math.floor(whole / 3600), "h", Math.floor((whole % 3600) / 60), "min");
  return joinUnits(Math.floor(whole / 86_400), "d", Math.floor((whole % 86_400) / 3600), "h");
}

function joinUnits(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
}

/** Code-unit order, not locale order, so the output is the same on every machine. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
