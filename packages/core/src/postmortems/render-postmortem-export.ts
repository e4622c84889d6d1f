import { escapeMarkdown } from "../reports/escape-markdown.ts";
import type { ChartSnapshotData } from "./build-chart-snapshot.ts";
import { formatCount, formatShare, formatUtcClock, formatUtcTime } from "./format-postmortem-text.ts";
import type { ActionItemPriority, ActionItemStatus, PostmortemStatus } from "./postmortem-types.ts";
import { sanitizePostmortemMarkdown } from "./sanitize-postmortem-markdown.ts";
import { splitChartEmbeds } from "./split-chart-embeds.ts";

export interface PostmortemExportInput {
  title: string;
  status: PostmortemStatus;
  incidentId: string | null;
  revision: number;
  updatedAtMs: number;
  body: string;
  snapshots: readonly { id: string; title: string; capturedAtMs: number; data: ChartSnapshotData }[];
  actionItems: readonly {
    title: string;
    owner: string | null;
    dueDate: string | null;
    priority: ActionItemPriority;
    status: ActionItemStatus;
    link: string | null;
    overdue: boolean;
  }[];
}

/** Rows a chart becomes in the export, at most: enough to read its shape, short enough to skim. */
const maxChartRows = 12;

/**
 * The Markdown export of a postmortem: a header (status, incident, revision), the document with each
 * chart embed replaced by a small table of its frozen data, then the action items. The author's text
 * goes through {@link sanitizePostmortemMarkdown}; everything else is generated with escaped data.
 */
export function renderPostmortemExport(input: PostmortemExportInput): string {
  const snapshotById = new Map(input.snapshots.map((snapshot) => [snapshot.id, snapshot]));
  const header = [
    `> Exported from Faultline: status ${input.status.replace("_", " ")}, revision ${input.revision}, ${formatUtcTime(input.updatedAtMs)}${
      input.incidentId === null ? "" : `, incident ${escapeMarkdown(input.incidentId)}`
    }`,
  ];
  const body = splitChartEmbeds(input.body)
    .map((segment) => {
      if (segment.kind === "markdown") return sanitizePostmortemMarkdown(segment.text).trimEnd();
      const snapshot = snapshotById.get(segment.snapshotId);
      return snapshot ? chartTable(snapshot) : "_Chart snapshot missing._";
    })
    .join("\n\n");
  return `${[header.join("\n"), body, actionItemsTable(input.actionItems)].join("\n\n")}\n`;
}

function chartTable(snapshot: PostmortemExportInput["snapshots"][number]): string {
  const lines = [
    `_Chart: ${escapeMarkdown(snapshot.title)}, data frozen at ${formatUtcTime(snapshot.capturedAtMs)}._`,
  ];
  for (const series of snapshot.data.series) {
    if (series.points.length === 0) continue;
    const stride = Math.ceil(series.points.length / maxChartRows);
    lines.push(
      "",
      `${escapeMarkdown(series.service)}:`,
      "",
      "| Time (UTC) | Requests | Errors | Error rate | p95 ms |",
      "| --- | ---: | ---: | ---: | ---: |",
    );
    // Rows are sums over `stride` buckets so the totals still add up when the chart is condensed.
    for (let start = 0; start < series.points.length; start += stride) {
      const group = series.points.slice(start, start + stride);
      const requests = group.reduce((sum, point) => sum + point.requests, 0);
      const errors = group.reduce((sum, point) => sum + point.errors, 0);
      const p95 = Math.max(...group.map((point) => point.p95Ms ?? 0));
      lines.push(
        `| ${formatUtcClock(group[0]?.t ?? 0)} | ${formatCount(requests)} | ${formatCount(errors)} | ${
          requests === 0 ? "—" : formatShare(errors / requests)
        } | ${p95 === 0 ? "—" : p95.toFixed(1)} |`,
      );
    }
  }
  return lines.join("\n");
}

function actionItemsTable(items: PostmortemExportInput["actionItems"]): string {
  if (items.length === 0) return "## Action items (tracked)\n\nNone.";
  const cell = (text: string | null) => (text === null || text === "" ? "—" : escapeMarkdown(text));
  return [
    "## Action items (tracked)",
    "",
    "| Action | Owner | Due | Priority | Status | Link |",
    "| --- | --- | --- | --- | --- | --- |",
    ...items.map(
      (item) =>
        `| ${cell(item.title)} | ${cell(item.owner)} | ${cell(item.dueDate)}${item.overdue ? " (overdue)" : ""} | ${item.priority} | ${item.status.replace("_", " ")} | ${cell(item.link)} |`,
    ),
  ].join("\n");
}
