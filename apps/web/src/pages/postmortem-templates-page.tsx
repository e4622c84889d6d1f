import { postmortemPlaceholders } from "@faultline/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { QueryState } from "../components/query-state.tsx";
import "../components/postmortem.css";
import { formatDateTime } from "../format.ts";
import { type Outputs, useTRPC } from "../trpc.ts";
import { useUserName } from "../user-name.ts";

type Template = Outputs["postmortems"]["templates"][number];

/**
 * `/postmortems/templates?edit=<id>|new`: the templates drafts are written through. Teams edit the
 * built-in ones or add their own; `{{placeholders}}` are filled from the incident's data.
 */
export function PostmortemTemplatesPage() {
  const trpc = useTRPC();
  const templates = useQuery(trpc.postmortems.templates.queryOptions());
  const [params, setParams] = useSearchParams();
  const editing = params.get("edit");
  const selected = templates.data?.find((template) => template.id === editing);
  return (
    <div className="page postmortem-templates-page">
      <p className="breadcrumb">
        <Link to="/postmortems">← Postmortems</Link>
      </p>
      <div className="page-header">
        <h1>Postmortem templates</h1>
        <button type="button" onClick={() => setParams({ edit: "new" })}>
          New template
        </button>
      </div>
      <div className="templates-layout">
        <QueryState label="templates" isPending={templates.isPending} error={templates.error}>
          <ul className="template-list">
            {templates.data?.map((template) => (
              <li key={template.id}>
                <button
                  type="button"
                  className={template.id === editing ? "active" : undefined}
                  aria-current={template.id === editing ? "true" : undefined}
                  onClick={() => setParams({ edit: template.id })}
                >
                  <strong>{template.name}</strong>
                  <span>
                    {template.team ? `team ${template.team}` : "everyone"}
                    {template.builtIn ? " · built in" : ""}
                  </span>
                  <span>{template.description}</span>
                </button>
              </li>
            ))}
          </ul>
        </QueryState>
        {editing === "new" && (
          <TemplateForm key="new" template={null} onSaved={(id) => setParams({ edit: id })} />
        )}
        {selected && <TemplateForm key={selected.id} template={selected} onSaved={() => {}} />}
        {!editing && <p className="state state-empty">Choose a template to edit, or add one.</p>}
      </div>
    </div>
  );
}

function TemplateForm(props: { template: Template | null; onSaved: (id: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const userName = useUserName();
  const [name, setName] = useState(props.template?.name ?? "");
  const [description, setDescription] = useState(props.template?.description ?? "");
  const [team, setTeam] = useState(props.template?.team ?? "");
  const [body, setBody] = useState(props.template?.body ?? "# {{title}}\n\n## Summary\n\n{{summary}}\n");
  const save = useMutation(
    trpc.postmortems.saveTemplate.mutationOptions({
      onSuccess: (saved) => {
        void queryClient.invalidateQueries({ queryKey: trpc.postmortems.templates.queryKey() });
        props.onSaved(saved.id);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      ...(props.template ? { id: props.template.id } : {}),
      name: name.trim(),
      description,
      body,
      team: team.trim() || null,
    });
  };
  const unknown = save.data?.unknownPlaceholders ?? props.template?.unknownPlaceholders ?? [];
  return (
    <form className="panel template-form" onSubmit={submit} aria-label="Template">
      <label>
        Name <input value={name} onChange={(event) => setName(event.target.value)} required maxLength={300} />
      </label>
      <label>
        Description{" "}
        <input value={description} onChange={(event) => setDescription(event.target.value)} maxLength={500} />
      </label>
      <label>
        Team{" "}
        <input
          value={team}
          placeholder="everyone"
          onChange={(event) => setTeam(event.target.value)}
          maxLength={100}
        />
      </label>
      <label className="template-body">
        Markdown
        <textarea value={body} onChange={(event) => setBody(event.target.value)} rows={22} required />
      </label>
      <p className="muted">
        Placeholders filled from the incident:{" "}
        {postmortemPlaceholders.map((placeholder) => (
          <code key={placeholder} className="placeholder-name">{`{{${placeholder}}}`}</code>
        ))}
      </p>
      {unknown.length > 0 && (
        <p className="state-error" role="status">
          Not filled from any data (left as written): {unknown.map((one) => `{{${one}}}`).join(", ")}
        </p>
      )}
      <div className="dialog-actions">
        {props.template && (
          <span className="muted">
            Last edited {formatDateTime(props.template.updatedAtMs)}
            {props.template.updatedBy ? ` by ${props.template.updatedBy}` : ""}
          </span>
        )}
        <button type="submit" className="primary" disabled={save.isPending || !userName}>
          {save.isPending ? "Saving…" : "Save template"}
        </button>
      </div>
      {save.isSuccess && <p role="status">Saved.</p>}
      {save.error && (
        <p className="state-error" role="alert">
          {save.error.message}
        </p>
      )}
    </form>
  );
}
