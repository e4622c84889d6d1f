import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTRPC } from "../trpc.ts";
import { useUserName } from "../user-name.ts";
import { UserNameField } from "./user-name-field.tsx";

type Severity = "sev1" | "sev2" | "sev3" | "sev4";
type Status = "open" | "acknowledged" | "resolved";

/** Acknowledge, assign, set severity and status, resolve: what on-call does to an incident. */
export function IncidentActions(props: {
  incident: { id: string; status: Status; severity: Severity; assignee: string | null };
  compact?: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const name = useUserName();
  const [assignee, setAssignee] = useState(props.incident.assignee ?? "");
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.incidents.pathKey() });
  const options = { onSuccess: refresh };
  const acknowledge = useMutation(trpc.incidents.acknowledge.mutationOptions(options));
  const resolve = useMutation(trpc.incidents.resolve.mutationOptions(options));
  const setSeverity = useMutation(trpc.incidents.setSeverity.mutationOptions(options));
  const setStatus = useMutation(trpc.incidents.setStatus.mutationOptions(options));
  const assign = useMutation(trpc.incidents.assign.mutationOptions(options));
  const error = [acknowledge, resolve, setSeverity, setStatus, assign].find((m) => m.error)?.error;
  const { id, status, severity } = props.incident;
  if (!name) {
    return (
      <div className="actions">
        <UserNameField />
      </div>
    );
  }
  const submitAssignee = (event: FormEvent) => {
    event.preventDefault();
    assign.mutate({ id, assignee: assignee.trim() || null });
  };
  return (
    <div className="actions">
      {status === "open" && (
        <button
          type="button"
          className="primary"
          onClick={() => acknowledge.mutate({ id })}
          disabled={acknowledge.isPending}
        >
          Acknowledge
        </button>
      )}
      {status !== "resolved" ? (
        <button type="button" onClick={() => resolve.mutate({ id })} disabled={resolve.isPending}>
          Resolve
        </button>
      ) : (
        <button
          type="button"
          onClick={() => setStatus.mutate({ id, status: "open" })}
          disabled={setStatus.isPending}
        >
          Reopen
        </button>
      )}
      <label className="inline-field">
        <span className="visually-hidden">Severity</span>
        <select
          value={severity}
          aria-label="Severity"
          onChange={(event) => setSeverity.mutate({ id, severity: event.target.value as Severity })}
        >
          {(["sev1", "sev2", "sev3", "sev4"] as const).map((value) => (
            <option key={value} value={value}>
              {value.toUpperCase()}
            </option>
          ))}
        </select>
      </label>
      {!props.compact && (
        <form className="inline-field" onSubmit={submitAssignee}>
          <label>
            <span className="visually-hidden">Assignee</span>
            <input
              placeholder="Assignee"
              aria-label="Assignee"
              value={assignee}
              onChange={(event) => setAssignee(event.target.value)}
              maxLength={100}
            />
          </label>
          <button type="submit" disabled={assign.isPending}>
            Assign
          </button>
        </form>
      )}
      {error && (
        <span className="action-error" role="alert">
          {error.message}
        </span>
      )}
    </div>
  );
}

/** Adds a note to the incident timeline, optionally backdated ("at 14:02 we restarted the pods"). */
export function NoteForm(props: { incidentId: string; nowMs: number }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const name = useUserName();
  const [message, setMessage] = useState("");
  const [at, setAt] = useState("");
  const addNote = useMutation(
    trpc.incidents.addNote.mutationOptions({
      onSuccess: () => {
        setMessage("");
        setAt("");
        return queryClient.invalidateQueries({ queryKey: trpc.incidents.pathKey() });
      },
    }),
  );
  if (!name) return <UserNameField />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const atMs = at ? new Date(at).getTime() : undefined;
    addNote.mutate({
      id: props.incidentId,
      message,
      ...(atMs !== undefined && !Number.isNaN(atMs) ? { atMs } : {}),
    });
  };
  return (
    <form className="note-form" onSubmit={submit}>
      <label className="note-text">
        <span>Add a note</span>
        <textarea
          value={message}
          onChange={(event) => setMessage(event.target.value)}
          rows={2}
          maxLength={10_000}
          required
          placeholder="What you saw or did"
        />
      </label>
      <label className="note-at">
        <span>When (optional, to backdate)</span>
        <input type="datetime-local" value={at} onChange={(event) => setAt(event.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={addNote.isPending || message.trim() === ""}>
        Add note
      </button>
      {addNote.error && (
        <span className="action-error" role="alert">
          {addNote.error.message}
        </span>
      )}
    </form>
  );
}
