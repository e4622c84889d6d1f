import { escapeMarkdown } from "../reports/escape-markdown.ts";
import {
  describeChange,
  describeSignal,
  formatCount,
  formatDuration,
  formatShare,
  formatUtcClock,
  formatUtcTime,
  quoted,
} from "./format-postmortem-text.ts";
import { type PostmortemSections, renderPostmortemTemplate } from "./postmortem-templates.ts";
import type { ActionItemPriority, PostmortemIncidentFacts, ServiceTraffic } from "./postmortem-types.ts";
import { chartEmbedMarkdown } from "./split-chart-embeds.ts";

export interface PostmortemDraft {
  /** Plain text (not Markdown): shown escaped by the UI. */
  title: string;
  body: string;
  suggestedActionItems: { title: string; priority: ActionItemPriority }[];
}

/** Detection at or under this delay counts as having gone well; over `slowDetectionMs`, as gone badly. */
const quickDetectionMs = 60_000;
const slowDetectionMs = 5 * 60_000;
/** Recovery over this long counts as having gone badly. */
const slowRecoveryMs = 30 * 60_000;

/**
 * Writes a postmortem draft from an incident's stored facts, through a template: title, summary,
 * impact with numbers, detection, timeline (detection's events and people's notes, in time order, so
 * backdated notes land where they happened), root cause and trigger with its evidence or "unexplained",
 * resolution (the rollback or later change when there is one), lessons and suggested action items.
 *
 * Every string from the facts is escaped for Markdown, and generated lines never start with data, so
 * nothing from telemetry or CI can open a block, raw HTML or a link. `writtenAtMs` stands in for the
 * end of an incident that is still ongoing. Pure: the same facts give the same draft.
 */
export function buildPostmortemDraft(input: {
  facts: PostmortemIncidentFacts;
  templateBody: string;
  charts: readonly { id: string; title: string }[];
  writtenAtMs: number;
}): PostmortemDraft {
  const { facts } = input;
  const incident = facts.incident;
  const title = `Postmortem: ${singleLine(incident.title)}`;
  const sections: PostmortemSections = {
    title: escapeMarkdown(title),
    incident_id: escapeMarkdown(incident.id),
    summary: summarySection(facts, input.writtenAtMs),
    impact: impactSection(facts, input.writtenAtMs),
    detection: detectionSection(facts),
    timeline: timelineSection(facts),
    root_cause: rootCauseSection(facts),
    resolution: resolutionSection(facts),
    charts: chartsSection(input.charts),
    went_well: bulletList(wentWell(facts)),
    went_badly: bulletList(wentBadly(facts, input.writtenAtMs)),
    got_lucky: "- _Where did luck, rather than design, limit the damage?_",
    action_items: actionItemsSection(),
  };
  return {
    title,
    body: renderPostmortemTemplate(input.templateBody, sections),
    suggestedActionItems: suggestActionItems(facts),
  };
}

function singleLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function endOf(facts: PostmortemIncidentFacts, writtenAtMs: number): number {
  return facts.incident.endedAtMs ?? Math.max(writtenAtMs, facts.incident.startedAtMs);
}

/** The traffic that speaks for the incident: the root service's, else all affected services' summed. */
function headlineTraffic(facts: PostmortemIncidentFacts): ServiceTraffic | null {
  const root = facts.traffic.find((entry) => entry.service === facts.incident.rootService);
  if (root && root.requests > 0) return root;
  const requests = facts.traffic.reduce((sum, entry) => sum + entry.requests, 0);
  if (requests === 0) return null;
  const failed = facts.traffic.reduce((sum, entry) => sum + entry.failed, 0);
  return { service: "", requests, failed };
}

function summarySection(facts: PostmortemIncidentFacts, writtenAtMs: number): string {
  const incident = facts.incident;
  const duration = formatDuration((endOf(facts, writtenAtMs) - incident.startedAtMs) / 1000);
  const window =
    incident.endedAtMs === null
      ? `Since ${formatUtcTime(incident.startedAtMs)} (ongoing when this was written, ${duration} so far)`
      : `From ${formatUtcTime(incident.startedAtMs)} to ${formatUtcTime(incident.endedAtMs)} (${duration})`;
  const where = incident.rootService === null ? "" : `, rooted at ${quoted(incident.rootService)}`;
  const sentences = [
    `${window}, a ${describeSignal(incident.signal)}${where}: ${escapeMarkdown(incident.title)}.`,
  ];
  const traffic = headlineTraffic(facts);
  const reach: string[] = [];
  if (traffic) reach.push(`${formatShare(traffic.failed / traffic.requests)} of requests failed`);
  if (incident.affectedUsers > 0)
    reach.push(`about ${formatCount(incident.affectedUsers)} distinct users were affected`);
  if (incident.surfaces.length > 0) reach.push(`on ${incident.surfaces.map(escapeMarkdown).join(", ")}`);
  if (reach.length > 0) sentences.push(`${capitalize(reach.join(", "))}.`);
  sentences.push(
    facts.cause
      ? `The trigger was a ${describeChange(facts.cause)} at ${formatUtcTime(facts.cause.startedAtMs)}.`
      : "No recorded change explains it with enough confidence: the trigger is unexplained.",
  );
  return sentences.join(" ");
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function impactSection(facts: PostmortemIncidentFacts, writtenAtMs: number): string {
  const incident = facts.incident;
  const lines = [
    `- Duration: ${formatDuration((endOf(facts, writtenAtMs) - incident.startedAtMs) / 1000)}${
      incident.endedAtMs === null ? " (ongoing when written)" : ""
    }`,
  ];
  const traffic = headlineTraffic(facts);
  if (traffic) {
    const of = traffic.service === "" ? "the affected services" : quoted(traffic.service);
    lines.push(
      `- Requests failing: ${formatShare(traffic.failed / traffic.requests)} ` +
        `(${formatCount(traffic.failed)} of ${formatCount(traffic.requests)} requests to ${of})`,
    );
  } else {
    lines.push("- Requests failing: no request data was stored for this window");
  }
  lines.push(`- Distinct users affected: about ${formatCount(incident.affectedUsers)}`);
  lines.push(
    `- Surfaces: ${incident.surfaces.length === 0 ? "none recorded" : incident.surfaces.map(escapeMarkdown).join(", ")}`,
  );
  lines.push(
    `- Services: ${incident.services.length === 0 ? "none recorded" : incident.services.map(escapeMarkdown).join(", ")}`,
  );
  lines.push(`- Severity: ${escapeMarkdown(incident.severity)}`);
  const withTraffic = facts.traffic.filter((entry) => entry.requests > 0);
  if (withTraffic.length > 0) {
    lines.push("", "| Service | Requests | Failed | Share failing |", "| --- | ---: | ---: | ---: |");
    for (const entry of withTraffic) {
      lines.push(
        `| ${escapeMarkdown(entry.service)} | ${formatCount(entry.requests)} | ${formatCount(entry.failed)} | ${formatShare(entry.failed / entry.requests)} |`,
      );
    }
  }
  return lines.join("\n");
}

function detectionSection(facts: PostmortemIncidentFacts): string {
  const incident = facts.incident;
  const lines = [
    `- Started: ${formatUtcTime(incident.startedAtMs)} (event time, when the anomaly began)`,
    `- Detected: ${formatUtcTime(incident.detectedAtMs)} by Faultline's ${describeSignal(incident.signal)} detector`,
    `- Detection delay: ${formatDuration((incident.detectedAtMs - incident.startedAtMs) / 1000)}`,
  ];
  if (incident.acknowledgedAtMs !== null) {
    const by = incident.acknowledgedBy === null ? "" : ` by ${quoted(incident.acknowledgedBy)}`;
    lines.push(
      `- Acknowledged: ${formatUtcTime(incident.acknowledgedAtMs)}${by} ` +
        `(${formatDuration((incident.acknowledgedAtMs - incident.detectedAtMs) / 1000)} after detection)`,
    );
  }
  return lines.join("\n");
}

function timelineSection(facts: PostmortemIncidentFacts): string {
  const incident = facts.incident;
  const entries: { atMs: number; order: number; text: string }[] = [];
  const push = (atMs: number, text: string) => entries.push({ atMs, order: entries.length, text });
  for (const change of [...(facts.cause ? [facts.cause] : []), ...facts.laterChanges]) {
    push(change.startedAtMs, `${capitalize(describeChange(change))}${changeDetails(change)}`);
  }
  push(incident.startedAtMs, "Anomaly begins");
  for (const event of facts.events) {
    const who = event.author === null ? "" : ` (note by ${quoted(event.author)})`;
    push(
      event.atMs,
      `${escapeMarkdown(event.kind.replace(/_/g, " "))}${who}: ${escapeMarkdown(event.message)}`,
    );
  }
  entries.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
  const firstDay = new Date(entries[0]?.atMs ?? incident.startedAtMs).toISOString().slice(0, 10);
  const sameDay = entries.every((entry) => new Date(entry.atMs).toISOString().slice(0, 10) === firstDay);
  const stamp = (ms: number) => (sameDay ? formatUtcClock(ms) : formatUtcTime(ms));
  const lines = [
    `All times UTC${sameDay ? `, ${firstDay}` : ""}. Edit freely; add what people did and saw.`,
    "",
  ];
  for (const entry of entries) lines.push(`- **${stamp(entry.atMs)}** ${entry.text}`);
  return lines.join("\n");
}

function changeDetails(change: PostmortemIncidentFacts["laterChanges"][number]): string {
  const parts: string[] = [];
  if (change.commit) parts.push(`commit ${escapeMarkdown(change.commit)}`);
  if (change.author) parts.push(`by ${escapeMarkdown(change.author)}`);
  if (change.description) parts.push(`“${escapeMarkdown(singleLine(change.description))}”`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

function rootCauseSection(facts: PostmortemIncidentFacts): string {
  const cause = facts.cause;
  if (!cause) {
    const lines = [
      "**Unexplained.** No recorded deploy, config push or flag flip explains this incident with enough confidence.",
    ];
    if (facts.suspects.length > 0) {
      lines.push("", "Changes considered and not blamed:", "");
      for (const suspect of facts.suspects.slice(0, 5)) {
        lines.push(
          `- ${capitalize(describeChange(suspect))} at ${formatUtcTime(suspect.startedAtMs)}, score ${suspect.score.toFixed(2)}`,
        );
      }
    }
    return lines.join("\n");
  }
  const lead = (facts.incident.startedAtMs - cause.startedAtMs) / 1000;
  const lines = [
    `**Trigger:** ${describeChange(cause)}${changeDetails(cause)} at ${formatUtcTime(cause.startedAtMs)}, ` +
      `${formatDuration(Math.abs(lead))} ${lead >= 0 ? "before" : "after"} the anomaly began ` +
      `(attribution confidence ${cause.score.toFixed(2)}).`,
  ];
  if (cause.previousVersion) lines.push("", `Previous version: ${escapeMarkdown(cause.previousVersion)}.`);
  if (cause.evidence.length > 0) {
    lines.push("", "Evidence:", "");
    for (const line of cause.evidence) lines.push(`- ${escapeMarkdown(line)}`);
  }
  lines.push("", "_Root cause: why did this change break things, and why did nothing stop it earlier?_");
  return lines.join("\n");
}

function resolutionSection(facts: PostmortemIncidentFacts): string {
  const incident = facts.incident;
  const fix =
    facts.laterChanges.find((change) => change.kind === "rollback") ??
    facts.laterChanges.find((change) => change.service === facts.cause?.service);
  const lines: string[] = [];
  if (fix) {
    lines.push(
      `- ${capitalize(describeChange(fix))}${changeDetails(fix)} at ${formatUtcTime(fix.startedAtMs)}`,
    );
  }
  if (incident.endedAtMs === null) {
    lines.push("- Not recovered when this draft was written.");
  } else {
    const after =
      fix && fix.startedAtMs <= incident.endedAtMs
        ? ` (${formatDuration((incident.endedAtMs - fix.startedAtMs) / 1000)} after the ${fix.kind === "rollback" ? "rollback" : "change"})`
        : "";
    lines.push(`- Signals back to baseline at ${formatUtcTime(incident.endedAtMs)}${after}`);
    lines.push(`- Time to recover: ${formatDuration((incident.endedAtMs - incident.startedAtMs) / 1000)}`);
  }
  if (!fix) lines.push("- _What did people do to mitigate it?_");
  return lines.join("\n");
}

function chartsSection(charts: readonly { id: string; title: string }[]): string {
  if (charts.length === 0) return "_No series data was stored for this incident's window._";
  // The embed draws its own caption: the snapshot's title and when its data was frozen.
  return charts.map((chart) => chartEmbedMarkdown(chart.id)).join("\n\n");
}

function wentWell(facts: PostmortemIncidentFacts): string[] {
  const incident = facts.incident;
  const items: string[] = [];
  const delay = incident.detectedAtMs - incident.startedAtMs;
  if (delay <= quickDetectionMs) items.push(`Detected ${formatDuration(delay / 1000)} after onset.`);
  if (facts.cause)
    items.push(
      `The triggering change was identified automatically (confidence ${facts.cause.score.toFixed(2)}).`,
    );
  if (facts.laterChanges.some((change) => change.kind === "rollback"))
    items.push("A rollback was available and used.");
  items.push("_What else helped?_");
  return items;
}

function wentBadly(facts: PostmortemIncidentFacts, writtenAtMs: number): string[] {
  const incident = facts.incident;
  const items: string[] = [];
  const delay = incident.detectedAtMs - incident.startedAtMs;
  if (delay > slowDetectionMs) items.push(`Detection took ${formatDuration(delay / 1000)}.`);
  const duration = endOf(facts, writtenAtMs) - incident.startedAtMs;
  if (duration > slowRecoveryMs) items.push(`Recovery took ${formatDuration(duration / 1000)}.`);
  if (!facts.cause) items.push("No recorded change explained the incident.");
  if (incident.services.length > 1) {
    items.push(`The failure spread to ${incident.services.length} services.`);
  }
  items.push("_What else made it worse or slower?_");
  return items;
}

function actionItemsSection(): string {
  return "Tracked as action items of this postmortem (owner, due date, priority, status), listed below it and across postmortems.";
}

function suggestActionItems(facts: PostmortemIncidentFacts): PostmortemDraft["suggestedActionItems"] {
  const items: PostmortemDraft["suggestedActionItems"] = [];
  const cause = facts.cause;
  if (cause) {
    items.push({
      title: `Stage ${singleLine(cause.kind.replace(/_/g, " "))} changes to ${singleLine(cause.service)} behind a canary with automatic rollback`,
      priority: "high",
    });
  } else {
    items.push({ title: "Find the trigger of this incident and record it", priority: "high" });
  }
  if (facts.incident.detectedAtMs - facts.incident.startedAtMs > slowDetectionMs) {
    items.push({ title: "Shorten detection: alert on the signal that moved first", priority: "medium" });
  }
  return items;
}

function bulletList(items: readonly string[]): string {
  return items.map((item) => `- ${item}`).join("\n");
}
