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
          part.kind === "unchanged"
            ? trimUnchanged(part.lines, context, partIndex, props.parts.length)
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

/**
 * Unchanged lines shown around changes only: the last few before the first change, the first few after
 * the last one, both ends of a run between two changes; what is left out becomes one "…" line (null).
 */
function trimUnchanged(
  lines: readonly string[],
  context: number,
  index: number,
  count: number,
): (string | null)[] {
  const first = index === 0;
  const last = index === count - 1;
  if (first && last) return [...lines];
  if (first) return lines.length > context ? [null, ...lines.slice(-context)] : [...lines];
  if (last) return lines.length > context ? [...lines.slice(0, context), null] : [...lines];
  return lines.length > context * 2 + 1
    ? [...lines.slice(0, context), null, ...lines.slice(-context)]
    : [...lines];
}
