import { diffLines } from "diff";

export interface RevisionDiffPart {
  kind: "added" | "removed" | "unchanged";
  lines: string[];
}

export interface RevisionDiff {
  parts: RevisionDiffPart[];
  addedLines: number;
  removedLines: number;
}

/**
 * Line diff between two revisions of a postmortem (older first), as runs of added, removed and
 * unchanged lines for the history view. Text is returned as is: the UI renders it as text, never HTML.
 */
export function diffPostmortemRevisions(older: string, newer: string): RevisionDiff {
  const parts: RevisionDiffPart[] = [];
  let addedLines = 0;
  let removedLines = 0;
  for (const change of diffLines(older, newer)) {
    const lines = change.value.replace(/\n$/, "").split("\n");
    const kind = change.added ? "added" : change.removed ? "removed" : "unchanged";
    if (kind === "added") addedLines += lines.length;
    if (kind === "removed") removedLines += lines.length;
    parts.push({ kind, lines });
  }
  return { parts, addedLines, removedLines };
}
