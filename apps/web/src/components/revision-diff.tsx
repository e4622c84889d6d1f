/** A line diff of two revisions. Lines are text nodes: React escapes them. */
export function RevisionDiff(props: {
  parts: readonly { kind: "added" | "removed" | "unchanged"; lines: readonly string[] }[];
  /** Unchanged runs longer than this show only their ends. */
  context?: number;
}) {
  const context = props.context ?? 3;
  return (
    <pre className="revision-diff">
      {props.parts.map((part, partIndex) => {
        const lines =
          part.kind === "unchanged" && part.lines.length > context * 2 + 1
            ? [...part.lines.slice(0, context), null, ...part.lines.slice(-context)]
            : part.lines;
        const sign = part.kind === "added" ? "+" : part.kind === "removed" ? "−" : " ";
        return lines.map((line, lineIndex) => (
          <span
            // biome-ignore lint/suspicious/noArrayIndexKey: diff lines have no identity beyond their position
            key={`${partIndex}-${lineIndex}`}
            className={line === null ? "diff-gap" : `diff-line diff-${part.kind}`}
          >
            {line === null ? "  …\n" : `${sign} ${line}\n`}
          </span>
        ));
      })}
    </pre>
  );
}
