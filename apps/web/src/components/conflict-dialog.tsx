import { diffPostmortemRevisions } from "@faultline/core";
import { useEffect, useMemo, useRef } from "react";
import { formatDateTime } from "../format.ts";
import { RevisionDiff } from "./revision-diff.tsx";

export interface PostmortemConflict {
  theirs: { revision: number; title: string; body: string; author: string; savedAtMs: number };
  yours: { baseRevision: number; title: string; body: string };
}

/**
 * Someone else saved while you were editing. Both versions are shown side by side with their diff; you
 * choose: keep yours (saved on top of theirs, theirs stays in the history), or take theirs (your text
 * stays in the dialog to copy from until you close it). Nothing is overwritten without a choice.
 */
export function ConflictDialog(props: {
  conflict: PostmortemConflict;
  onKeepMine: () => void;
  onTakeTheirs: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  const { theirs, yours } = props.conflict;
  const diff = useMemo(() => diffPostmortemRevisions(theirs.body, yours.body), [theirs.body, yours.body]);
  return (
    <dialog
      ref={dialog}
      className="conflict-dialog"
      aria-labelledby="conflict-title"
      onCancel={(event) => event.preventDefault()}
    >
      <h2 id="conflict-title">Someone else saved this postmortem meanwhile</h2>
      <p>
        <strong>{theirs.author}</strong> saved revision {theirs.revision} at{" "}
        {formatDateTime(theirs.savedAtMs)}; your changes were based on revision {yours.baseRevision}. Nothing
        was overwritten.
      </p>
      <div className="conflict-versions">
        <section aria-labelledby="theirs-title">
          <h3 id="theirs-title">Theirs (revision {theirs.revision})</h3>
          <textarea readOnly value={theirs.body} aria-label="Their version" rows={14} />
        </section>
        <section aria-labelledby="yours-title">
          <h3 id="yours-title">Yours (unsaved)</h3>
          <textarea readOnly value={yours.body} aria-label="Your version" rows={14} />
        </section>
      </div>
      <details>
        <summary>
          What differs: {diff.removedLines} line{diff.removedLines === 1 ? "" : "s"} only in theirs,{" "}
          {diff.addedLines} only in yours
        </summary>
        <RevisionDiff parts={diff.parts} />
      </details>
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={props.onKeepMine}>
          Keep mine (save over revision {theirs.revision})
        </button>
        <button type="button" onClick={props.onTakeTheirs}>
          Take theirs
        </button>
      </div>
    </dialog>
  );
}
