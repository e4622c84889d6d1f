import type { ChartSnapshotData } from "@faultline/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { ActionItemsTable, AddActionItemForm } from "../components/action-items-table.tsx";
import { ConflictDialog, type PostmortemConflict } from "../components/conflict-dialog.tsx";
import { downloadText } from "../components/download-text.ts";
import { PostmortemDocument } from "../components/postmortem-document.tsx";
import { QueryState } from "../components/query-state.tsx";
import { RevisionDiff } from "../components/revision-diff.tsx";
import "../components/postmortem.css";
import { formatDateTime } from "../format.ts";
import { type Outputs, useTRPC } from "../trpc.ts";
import { useUserName } from "../user-name.ts";

type View = Outputs["postmortems"]["get"];
type Status = View["postmortem"]["status"];

/** Quiet time after the last keystroke before a draft is saved. */
const autosaveDelayMs = 1_500;

/** The live preview follows the text after this pause, so typing stays fluid in a long document. */
const previewDelayMs = 250;

function useDebouncedValue<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

const statusLabels: Record<Status, string> = {
  draft: "Draft",
  in_review: "In review",
  published: "Published",
};
const transitionLabels: Record<string, string> = {
  "draft>in_review": "Send for review",
  "in_review>published": "Publish",
  "in_review>draft": "Back to draft",
  "published>in_review": "Reopen for review",
};

const modes = ["edit", "read", "history"] as const;
type Mode = (typeof modes)[number];

/**
 * `/postmortems/:id?view=edit|read|history&rev=N`: the postmortem editor (Markdown with a live sanitized
 * preview, autosave, conflict dialog), the published view (also what prints), and the revision history
 * with diffs. The view and the revision are in the URL so a link shows the same thing.
 */
export function PostmortemPage() {
  const { id = "" } = useParams();
  const trpc = useTRPC();
  const view = useQuery(trpc.postmortems.get.queryOptions({ id }));
  const [params, setParams] = useSearchParams();
  const requested = params.get("view");
  const mode: Mode = (modes as readonly string[]).includes(requested ?? "")
    ? (requested as Mode)
    : view.data?.postmortem.status === "published"
      ? "read"
      : "edit";
  const setMode = (next: Mode) =>
    setParams(
      (current) => {
        const updated = new URLSearchParams(current);
        updated.set("view", next);
        if (next !== "history") updated.delete("rev");
        return updated;
      },
      { replace: true },
    );
  return (
    <div className="page postmortem-page">
      <p className="breadcrumb no-print">
        <Link to="/postmortems">← Postmortems</Link>
        {view.data?.postmortem.incidentId && (
          <>
            {" · "}
            <Link to={`/incidents/${encodeURIComponent(view.data.postmortem.incidentId)}`}>Incident</Link>
          </>
        )}
      </p>
      <QueryState label="the postmortem" isPending={view.isPending} error={view.error}>
        {view.data && <PostmortemWorkspace key={id} view={view.data} mode={mode} setMode={setMode} />}
      </QueryState>
    </div>
  );
}

type SaveState = "saved" | "dirty" | "saving" | "conflict" | "error";

function PostmortemWorkspace(props: { view: View; mode: Mode; setMode: (mode: Mode) => void }) {
  const { postmortem } = props.view;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const userName = useUserName();
  const [title, setTitle] = useState(postmortem.title);
  const [body, setBody] = useState(postmortem.body);
  const saved = useRef({ revision: postmortem.revision, title: postmortem.title, body: postmortem.body });
  const [saveState, setSaveState] = useState<SaveState>("saved");
  const [savedRevision, setSavedRevision] = useState(postmortem.revision);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<PostmortemConflict | null>(null);
  const inFlight = useRef(false);
  // Stable across keystrokes, so the (memoised) charts do not redraw while someone types.
  const snapshots = useMemo(
    () => props.view.snapshots.map((snapshot) => ({ ...snapshot, data: snapshot.data as ChartSnapshotData })),
    [props.view.snapshots],
  );

  const saveMutation = useMutation(trpc.postmortems.save.mutationOptions());
  const save = useCallback(
    async (next: { title: string; body: string; baseRevision: number }) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setSaveState("saving");
      try {
        const result = await saveMutation.mutateAsync({ id: postmortem.id, ...next });
        if (result.kind === "conflict") {
          setConflict({ theirs: result.theirs, yours: result.yours });
          setSaveState("conflict");
          return;
        }
        saved.current = { revision: result.postmortem.revision, title: next.title, body: next.body };
        setSavedRevision(result.postmortem.revision);
        setSaveError(null);
        setSaveState("saved");
        void queryClient.invalidateQueries({
          queryKey: trpc.postmortems.history.queryKey({ id: postmortem.id }),
        });
      } catch (error) {
        setSaveError((error as Error).message);
        setSaveState("error");
      } finally {
        inFlight.current = false;
      }
    },
    [postmortem.id, saveMutation, queryClient, trpc],
  );

  const dirty = title !== saved.current.title || body !== saved.current.body;
  // Autosave: a quiet pause after the last change saves on top of the revision we last saw.
  useEffect(() => {
    if (!dirty || conflict || saveState === "saving" || !userName || !title.trim()) return;
    setSaveState((state) => (state === "error" ? state : "dirty"));
    const timer = setTimeout(
      () => void save({ title: title.trim(), body, baseRevision: saved.current.revision }),
      autosaveDelayMs,
    );
    return () => clearTimeout(timer);
  }, [dirty, title, body, conflict, saveState, userName, save]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const keepMine = () => {
    if (!conflict) return;
    const base = conflict.theirs.revision;
    setConflict(null);
    void save({ title: title.trim(), body, baseRevision: base });
  };
  const takeTheirs = () => {
    if (!conflict) return;
    saved.current = {
      revision: conflict.theirs.revision,
      title: conflict.theirs.title,
      body: conflict.theirs.body,
    };
    setSavedRevision(conflict.theirs.revision);
    setTitle(conflict.theirs.title);
    setBody(conflict.theirs.body);
    setConflict(null);
    setSaveState("saved");
  };

  const previewBody = useDebouncedValue(body, previewDelayMs);
  return (
    <>
      <header className="postmortem-header">
        <div className="postmortem-title-row">
          {props.mode === "edit" ? (
            <input
              className="postmortem-title-input"
              aria-label="Title"
              value={title}
              maxLength={300}
              onChange={(event) => setTitle(event.target.value)}
            />
          ) : (
            <h1>{title}</h1>
          )}
          <span className={`badge status-${postmortem.status}`}>{statusLabels[postmortem.status]}</span>
        </div>
        <div className="postmortem-toolbar no-print">
          <div className="segmented" role="tablist" aria-label="View">
            {modes.map((one) => (
              <button
                key={one}
                type="button"
                role="tab"
                aria-selected={props.mode === one}
                className={props.mode === one ? "active" : undefined}
                onClick={() => props.setMode(one)}
              >
                {one === "edit" ? "Edit" : one === "read" ? "Document" : "History"}
              </button>
            ))}
          </div>
          <SaveIndicator state={saveState} revision={savedRevision} error={saveError} hasName={!!userName} />
          <StatusButtons view={props.view} disabled={dirty} />
          <ExportButton id={postmortem.id} />
          <button type="button" onClick={() => window.print()}>
            Print / PDF
          </button>
        </div>
      </header>
      {props.mode === "edit" && (
        <div className="postmortem-editor">
          <label className="editor-pane">
            <span className="visually-hidden">Markdown</span>
            <textarea
              className="markdown-input"
              aria-label="Markdown"
              value={body}
              spellCheck
              onChange={(event) => setBody(event.target.value)}
              onKeyDown={(event) => {
                if ((event.ctrlKey || event.metaKey) && event.key === "s") {
                  event.preventDefault();
                  if (dirty && !conflict)
                    void save({ title: title.trim(), body, baseRevision: saved.current.revision });
                }
              }}
            />
          </label>
          <section className="preview-pane" aria-label="Preview">
            <PostmortemDocument markdown={previewBody} snapshots={snapshots} />
          </section>
        </div>
      )}
      {props.mode === "read" && (
        <section className="panel document-panel" aria-label="Postmortem">
          <PostmortemDocument markdown={body} snapshots={snapshots} />
        </section>
      )}
      {props.mode === "history" && <RevisionHistory id={postmortem.id} />}
      <section className="panel action-items-panel" aria-labelledby="action-items-title">
        <h2 id="action-items-title">Action items</h2>
        <ActionItemsTable items={props.view.actionItems} />
        <div className="no-print">
          <AddActionItemForm postmortemId={postmortem.id} />
        </div>
      </section>
      {conflict && <ConflictDialog conflict={conflict} onKeepMine={keepMine} onTakeTheirs={takeTheirs} />}
    </>
  );
}

function SaveIndicator(props: {
  state: SaveState;
  revision: number;
  error: string | null;
  hasName: boolean;
}) {
  if (!props.hasName) {
    return (
      <span className="save-state save-error" role="status">
        Enter your name (top right) to save
      </span>
    );
  }
  const text = {
    saved: `Saved · revision ${props.revision}`,
    dirty: "Unsaved changes…",
    saving: "Saving…",
    conflict: "Conflict: choose a version",
    error: `Not saved: ${props.error ?? "error"}`,
  }[props.state];
  return (
    <span className={`save-state save-${props.state}`} role="status" aria-live="polite">
      {text}
    </span>
  );
}

function StatusButtons(props: { view: View; disabled: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const setStatus = useMutation(
    trpc.postmortems.setStatus.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.postmortems.pathKey() }),
    }),
  );
  const from = props.view.postmortem.status;
  return (
    <span className="status-buttons">
      {props.view.nextStatuses.map((to) => (
        <button
          key={to}
          type="button"
          className={to === "published" ? "primary" : undefined}
          disabled={props.disabled || setStatus.isPending}
          title={props.disabled ? "Wait for the draft to be saved" : undefined}
          onClick={() => setStatus.mutate({ id: props.view.postmortem.id, from, to })}
        >
          {transitionLabels[`${from}>${to}`] ?? to}
        </button>
      ))}
      {setStatus.error && (
        <span className="state-error" role="alert">
          {setStatus.error.message}
        </span>
      )}
    </span>
  );
}

function ExportButton(props: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const exportMarkdown = async () => {
    try {
      const file = await queryClient.fetchQuery({
        ...trpc.postmortems.exportMarkdown.queryOptions({ id: props.id }),
        staleTime: 0,
      });
      downloadText(file.fileName, file.markdown, "text/markdown");
      setError(null);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };
  return (
    <>
      <button type="button" onClick={() => void exportMarkdown()}>
        Export Markdown
      </button>
      {error && (
        <span className="state-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

function RevisionHistory(props: { id: string }) {
  const trpc = useTRPC();
  const history = useQuery(trpc.postmortems.history.queryOptions({ id: props.id }));
  const [params, setParams] = useSearchParams();
  const latest = history.data?.[0]?.revision ?? 1;
  const selected = Number(params.get("rev")) || latest;
  const diff = useQuery(
    trpc.postmortems.diff.queryOptions(
      { id: props.id, from: Math.max(1, selected - 1), to: selected },
      { enabled: history.isSuccess },
    ),
  );
  const select = (revision: number) =>
    setParams(
      (current) => {
        const updated = new URLSearchParams(current);
        updated.set("rev", String(revision));
        return updated;
      },
      { replace: true },
    );
  return (
    <div className="revision-history">
      <QueryState label="the history" isPending={history.isPending} error={history.error}>
        <ol className="revision-list" aria-label="Revisions">
          {history.data?.map((entry) => (
            <li key={entry.revision}>
              <button
                type="button"
                aria-current={entry.revision === selected ? "true" : undefined}
                className={entry.revision === selected ? "active" : undefined}
                onClick={() => select(entry.revision)}
              >
                <strong>Revision {entry.revision}</strong>
                <span>{entry.author}</span>
                <time dateTime={new Date(entry.savedAtMs).toISOString()}>
                  {formatDateTime(entry.savedAtMs)}
                </time>
              </button>
            </li>
          ))}
        </ol>
      </QueryState>
      <section className="panel diff-panel" aria-label="Changes in this revision">
        <h2>
          {selected === 1
            ? "Revision 1 (the generated draft)"
            : `Changes from revision ${selected - 1} to ${selected}`}
        </h2>
        <QueryState label="the diff" isPending={diff.isPending} error={diff.error}>
          {diff.data && (
            <>
              <p className="muted">
                +{diff.data.addedLines} / −{diff.data.removedLines} lines
                {diff.data.from.title !== diff.data.to.title &&
                  ` · title: “${diff.data.from.title}” → “${diff.data.to.title}”`}
              </p>
              <RevisionDiff parts={diff.data.parts} context={selected === 1 ? 10_000 : 3} />
            </>
          )}
        </QueryState>
      </section>
    </div>
  );
}
