import type { Root } from "mdast";
import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import { unified } from "unified";

/** The fenced-code info string that embeds a chart snapshot: its body is the snapshot's id. */
export const chartEmbedLanguage = "faultline-chart";

const snapshotIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The Markdown that embeds a chart snapshot. */
export function chartEmbedMarkdown(snapshotId: string): string {
  if (!snapshotIdPattern.test(snapshotId)) throw new Error(`not a chart snapshot id: ${snapshotId}`);
  return `\`\`\`${chartEmbedLanguage}\n${snapshotId}\n\`\`\``;
}

export type PostmortemSegment = { kind: "markdown"; text: string } | { kind: "chart"; snapshotId: string };

const parser = unified().use(remarkParse).use(remarkGfm);

/**
 * Cuts a postmortem's Markdown at its top-level chart embeds, so each Markdown part goes through the
 * sanitizing renderer and each embed is drawn from its snapshot's data. The Markdown parser finds the
 * fences (a fence quoted inside another code block or a list is not an embed). A malformed embed (its
 * body is not an id) stays Markdown and renders as a code block.
 */
export function splitChartEmbeds(markdown: string): PostmortemSegment[] {
  const tree = parser.parse(markdown) as Root;
  const segments: PostmortemSegment[] = [];
  let cursor = 0;
  for (const node of tree.children) {
    if (node.type !== "code" || node.lang !== chartEmbedLanguage) continue;
    const id = node.value.trim();
    const start = node.position?.start.offset;
    const end = node.position?.end.offset;
    if (!snapshotIdPattern.test(id) || start === undefined || end === undefined) continue;
    if (start > cursor) segments.push({ kind: "markdown", text: markdown.slice(cursor, start) });
    segments.push({ kind: "chart", snapshotId: id });
    cursor = end;
  }
  if (cursor < markdown.length) segments.push({ kind: "markdown", text: markdown.slice(cursor) });
  return segments.filter((segment) => segment.kind === "chart" || segment.text.trim() !== "");
}

/** Ids of the chart snapshots a postmortem embeds, in order of appearance. */
export function embeddedChartIds(markdown: string): string[] {
  return splitChartEmbeds(markdown).flatMap((segment) =>
    segment.kind === "chart" ? [segment.snapshotId] : [],
  );
}
