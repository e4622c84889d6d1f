import { type ChartSnapshotData, renderPostmortemTree, splitChartEmbeds } from "@faultline/core";
import { toJsxRuntime } from "hast-util-to-jsx-runtime";
import { memo, type ReactNode, useMemo } from "react";
import { Fragment, jsx, jsxs } from "react/jsx-runtime";
import { ChartSnapshotView } from "./chart-snapshot-view.tsx";

export interface SnapshotForDocument {
  id: string;
  title: string;
  capturedAtMs: number;
  data: ChartSnapshotData;
}

/**
 * A postmortem's Markdown as a document: the editor's live preview, the published view and the print
 * view. Text goes through core's sanitizing renderer (raw HTML dropped, only allow-listed elements and
 * attributes, unsafe URLs removed) and becomes React elements — no HTML string is ever inserted. Chart
 * embeds are drawn from their frozen data.
 */
export function PostmortemDocument(props: { markdown: string; snapshots: readonly SnapshotForDocument[] }) {
  const parts = useMemo(() => splitChartEmbeds(props.markdown), [props.markdown]);
  const byId = useMemo(
    () => new Map(props.snapshots.map((snapshot) => [snapshot.id, snapshot])),
    [props.snapshots],
  );
  return (
    <article className="postmortem-document markdown-body">
      {parts.map((part, index): ReactNode => {
        const key = `${index}-${part.kind}`;
        if (part.kind === "markdown") return <MarkdownPart key={key} text={part.text} />;
        const snapshot = byId.get(part.snapshotId);
        return snapshot ? (
          <ChartSnapshotView key={key} snapshot={snapshot} />
        ) : (
          <p key={key} className="state state-empty">
            Chart snapshot {part.snapshotId} is not part of this postmortem.
          </p>
        );
      })}
    </article>
  );
}

/** One stretch of Markdown between charts; only a stretch whose text changed is rendered again. */
const MarkdownPart = memo(function MarkdownPart(props: { text: string }) {
  return toJsxRuntime(renderPostmortemTree(props.text), { Fragment, jsx, jsxs });
});
