import { actionItemPriorities, actionItemStatuses } from "@faultline/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { type Outputs, useTRPC } from "../trpc.ts";

export type ActionItem = Outputs["postmortems"]["actionItems"][number];

const statusLabels: Record<string, string> = {
  open: "open",
  in_progress: "in progress",
  done: "done",
  wont_do: "won't do",
};

/** Only http(s) links become anchors; anything else stays text (the API refuses others anyway). */
function safeHref(link: string): string | null {
  try {
    const url = new URL(link);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Action items with owner, due date, priority, status and link, editable in place. Overdue items
 * (open or in progress past their due date) are flagged. With `showPostmortem`, each row links to its
 * postmortem (the cross-postmortem list).
 */
export function ActionItemsTable(props: { items: readonly ActionItem[]; showPostmortem?: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const update = useMutation(
    trpc.postmortems.updateActionItem.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.postmortems.pathKey() }),
    }),
  );
  const remove = useMutation(
    trpc.postmortems.removeActionItem.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.postmortems.pathKey() }),
    }),
  );
  if (props.items.length === 0) return <p className="state state-empty">No action items.</p>;
  const patch = (id: number, fields: Parameters<typeof update.mutate>[0]["patch"]) =>
    update.mutate({ id, patch: fields });
  return (
    <div className="table-scroll">
      {update.error && (
        <p className="state state-error" role="alert">
          Could not update the action item: {update.error.message}
        </p>
      )}
      <table className="action-items">
        <thead>
          <tr>
            <th scope="col">Action</th>
            {props.showPostmortem && <th scope="col">Postmortem</th>}
            <th scope="col">Owner</th>
            <th scope="col">Due</th>
            <th scope="col">Priority</th>
            <th scope="col">Status</th>
            <th scope="col">Link</th>
            <th scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((item) => {
            const href = item.link ? safeHref(item.link) : null;
            return (
              <tr
                key={item.id}
                className={item.overdue ? "overdue" : undefined}
                data-action-item-id={item.id}
              >
                <td>
                  {item.title}
                  {item.overdue && <span className="badge badge-overdue">overdue</span>}
                </td>
                {props.showPostmortem && (
                  <td>
                    <Link to={`/postmortems/${encodeURIComponent(item.postmortemId)}`}>
                      {item.postmortemTitle}
                    </Link>
                  </td>
                )}
                <td>
                  <input
                    aria-label={`Owner of ${item.title}`}
                    defaultValue={item.owner ?? ""}
                    placeholder="nobody"
                    onBlur={(event) => {
                      const owner = event.target.value.trim() || null;
                      if (owner !== item.owner) patch(item.id, { owner });
                    }}
                  />
                </td>
                <td>
                  <input
                    type="date"
                    aria-label={`Due date of ${item.title}`}
                    defaultValue={item.dueDate ?? ""}
                    onChange={(event) => patch(item.id, { dueDate: event.target.value || null })}
                  />
                </td>
                <td>
                  <select
                    aria-label={`Priority of ${item.title}`}
                    value={item.priority}
                    onChange={(event) =>
                      patch(item.id, { priority: event.target.value as ActionItem["priority"] })
                    }
                  >
                    {actionItemPriorities.map((priority) => (
                      <option key={priority} value={priority}>
                        {priority}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`Status of ${item.title}`}
                    value={item.status}
                    onChange={(event) =>
                      patch(item.id, { status: event.target.value as ActionItem["status"] })
                    }
                  >
                    {actionItemStatuses.map((status) => (
                      <option key={status} value={status}>
                        {statusLabels[status]}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  {href ? (
                    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
                      {new URL(href).host}
                    </a>
                  ) : (
                    <span className="muted">–</span>
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="button-small"
                    aria-label={`Remove ${item.title}`}
                    onClick={() => remove.mutate({ id: item.id })}
                  >
                    ✕
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Adds an action item to a postmortem. */
export function AddActionItemForm(props: { postmortemId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState("");
  const [owner, setOwner] = useState("");
  const [dueDate, setDueDate] = useState("");
  const [priority, setPriority] = useState<ActionItem["priority"]>("medium");
  const [link, setLink] = useState("");
  const add = useMutation(
    trpc.postmortems.addActionItem.mutationOptions({
      onSuccess: () => {
        setTitle("");
        setOwner("");
        setDueDate("");
        setLink("");
      },
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.postmortems.pathKey() }),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!title.trim()) return;
    add.mutate({
      postmortemId: props.postmortemId,
      title: title.trim(),
      owner: owner.trim() || null,
      dueDate: dueDate || null,
      priority,
      link: link.trim() || null,
    });
  };
  return (
    <form className="add-action-item" onSubmit={submit} aria-label="Add an action item">
      <input
        aria-label="Action"
        placeholder="What should be done"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        required
      />
      <input
        aria-label="Owner"
        placeholder="Owner"
        value={owner}
        onChange={(e) => setOwner(e.target.value)}
      />
      <input aria-label="Due date" type="date" value={dueDate} onChange={(e) => setDueDate(e.target.value)} />
      <select
        aria-label="Priority"
        value={priority}
        onChange={(e) => setPriority(e.target.value as ActionItem["priority"])}
      >
        {actionItemPriorities.map((one) => (
          <option key={one} value={one}>
            {one}
          </option>
        ))}
      </select>
      <input
        aria-label="Link"
        type="url"
        placeholder="https://tracker/…"
        value={link}
        onChange={(e) => setLink(e.target.value)}
      />
      <button type="submit" disabled={add.isPending}>
        Add action item
      </button>
      {add.error && (
        <p className="state state-error" role="alert">
          {add.error.message}
        </p>
      )}
    </form>
  );
}
