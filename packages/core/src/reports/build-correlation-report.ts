/** A stored incident with its ranked suspects, as the report reads it. Times in ms since the epoch. */
export interface ReportIncidentInput {
  id: string;
  title: string;
  status: string;
  severity: string;
  signal: string;
  rootService: string | null;
  startedAtMs: number;
  detectedAtMs: number;
  endedAtMs: number | null;
  services: string[];
  affectedUsers: number;
  causeChangeId: string | null;
  suspects: { changeId: string; score: number; evidence: string[] }[];
}

export interface ReportChangeInput {
  id: string;
  environment: string;
  service: string;
  version: string | null;
  kind: "deploy" | "config" | "rollback" | "feature_flag";
  source: "api" | "webhook" | "telemetry";
  startedAtMs: number;
  finishedAtMs: number | null;
}

export interface ReportChangeRef {
  deployId: string;
  service: string;
  version: string | null;
  kind: ReportChangeInput["kind"];
  startedAt: string;
  score: number;
}

/** The correlation report, exactly as the design's public contract describes it. */
export interface CorrelationReport {
  from: string;
  to: string;
  environment: string;
  incidents: {
    id: string;
    title: string;
    status: string;
    severity: string;
    startedAt: string;
    detectedAt: string;
    endedAt: string | null;
    services: string[];
    rootService: string | null;
    signal: string;
    affectedUsers: number;
    cause: ReportChangeRef | null;
    suspects: (ReportChangeRef & { evidence: string[] })[];
  }[];
  deploys: {
    id: string;
    service: string;
    version: string | null;
    environment: string;
    kind: ReportChangeInput["kind"];
    startedAt: string;
    finishedAt: string | null;
    source: ReportChangeInput["source"];
    causedIncidentIds: string[];
  }[];
  summary: {
    deploys: number;
    failedDeploys: number;
    changeFailureRate: number;
    incidents: number;
    incidentsWithCause: number;
    medianTimeToDetectSeconds: number | null;
    medianTimeToRecoverSeconds: number | null;
  };
}

/**
 * Assembles the correlation report for [fromMs, toMs) of one environment from stored incidents and
 * change events. `changes` must include every change an incident's suspects name (they may have started
 * before `fromMs`); the `deploys` list holds only changes that started inside the period.
 *
 * Change failure rate: a change counts as failed once, however many incidents it caused; rollbacks are
 * left out of the denominator (and cannot fail). Times to detect (detected − started) and to recover
 * (ended − started, ended incidents only) are medians in seconds, null when there is nothing to measure.
 */
export function buildCorrelationReport(input: {
  environment: string;
  fromMs: number;
  toMs: number;
  incidents: readonly ReportIncidentInput[];
  changes: readonly ReportChangeInput[];
}): CorrelationReport {
  const changeById = new Map(input.changes.map((change) => [change.id, change]));
  const refOf = (changeId: string, score: number): ReportChangeRef | null => {
    const change = changeById.get(changeId);
    if (!change) return null;
    return {
      deployId: change.id,
      service: change.service,
      version: change.version,
      kind: change.kind,
      startedAt: iso(change.startedAtMs),
      score,
    };
  };
  const causedBy = new Map<string, string[]>();
  const incidents = input.incidents.map((incident) => {
    const suspects = incident.suspects.flatMap((suspect) => {
      const ref = refOf(suspect.changeId, suspect.score);
      return ref ? [{ ...ref, evidence: [...suspect.evidence] }] : [];
    });
    const causeScore =
      incident.suspects.find((suspect) => suspect.changeId === incident.causeChangeId)?.score ?? 1;
    const cause = incident.causeChangeId ? refOf(incident.causeChangeId, causeScore) : null;
    if (cause) causedBy.set(cause.deployId, [...(causedBy.get(cause.deployId) ?? []), incident.id]);
    return {
      id: incident.id,
      title: incident.title,
      status: incident.status,
      severity: incident.severity,
      startedAt: iso(incident.startedAtMs),
      detectedAt: iso(incident.detectedAtMs),
      endedAt: incident.endedAtMs === null ? null : iso(incident.endedAtMs),
      services: [...incident.services],
      rootService: incident.rootService,
      signal: incident.signal,
      affectedUsers: incident.affectedUsers,
      cause,
      suspects,
    };
  });
  const deploys = input.changes
    .filter(
      (change) =>
        change.environment === input.environment &&
        change.startedAtMs >= input.fromMs &&
        change.startedAtMs < input.toMs,
    )
    .sort((a, b) => a.startedAtMs - b.startedAtMs || a.id.localeCompare(b.id))
    .map((change) => ({
      id: change.id,
      service: change.service,
      version: change.version,
      environment: change.environment,
      kind: change.kind,
      startedAt: iso(change.startedAtMs),
      finishedAt: change.finishedAtMs === null ? null : iso(change.finishedAtMs),
      source: change.source,
      causedIncidentIds: causedBy.get(change.id) ?? [],
    }));
  const countable = deploys.filter((deploy) => deploy.kind !== "rollback");
  const failed = countable.filter((deploy) => deploy.causedIncidentIds.length > 0).length;
  return {
    from: iso(input.fromMs),
    to: iso(input.toMs),
    environment: input.environment,
    incidents,
    deploys,
    summary: {
      deploys: countable.length,
      failedDeploys: failed,
      changeFailureRate:
        countable.length === 0 ? 0 : Math.round((failed / countable.length) * 10_000) / 10_000,
      incidents: incidents.length,
      incidentsWithCause: incidents.filter((incident) => incident.cause !== null).length,
      medianTimeToDetectSeconds: median(
        input.incidents.map((incident) => (incident.detectedAtMs - incident.startedAtMs) / 1000),
      ),
      medianTimeToRecoverSeconds: median(
        input.incidents.flatMap((incident) =>
          incident.endedAtMs === null ? [] : [(incident.endedAtMs - incident.startedAtMs) / 1000],
        ),
      ),
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Median of a list (mean of the middle two for an even count), or null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value =
    sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return value === undefined ? null : Math.round(value * 10) / 10;
}
