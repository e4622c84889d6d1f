import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useTRPC } from "../trpc.ts";
import { useUserName } from "../user-name.ts";

/**
 * On an incident's page: its postmortems, and "Write postmortem", which drafts one from the incident's
 * data through the chosen template and opens it in the editor.
 */
export function WritePostmortemButton(props: { incidentId: string }) {
  const trpc = useTRPC();
  const navigate = useNavigate();
  const userName = useUserName();
  const existing = useQuery(trpc.postmortems.list.queryOptions({ incidentId: props.incidentId }));
  const templates = useQuery(trpc.postmortems.templates.queryOptions());
  const [templateId, setTemplateId] = useState("google-sre");
  const create = useMutation(
    trpc.postmortems.createFromIncident.mutationOptions({
      onSuccess: (created) => navigate(`/postmortems/${encodeURIComponent(created.id)}`),
    }),
  );
  return (
    <div className="write-postmortem">
      {existing.data?.map((postmortem) => (
        <Link
          key={postmortem.id}
          className="postmortem-link"
          to={`/postmortems/${encodeURIComponent(postmortem.id)}`}
        >
          Postmortem ({postmortem.status.replace("_", " ")})
        </Link>
      ))}
      <select
        aria-label="Postmortem template"
        value={templateId}
        onChange={(event) => setTemplateId(event.target.value)}
      >
        {(templates.data ?? [{ id: "google-sre", name: "Full (Google SRE style)" }]).map((template) => (
          <option key={template.id} value={template.id}>
            {template.name}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="primary"
        disabled={create.isPending || !userName}
        title={userName ? undefined : "Enter your name (top right) first"}
        onClick={() => create.mutate({ incidentId: props.incidentId, templateId })}
      >
        {create.isPending ? "Drafting…" : "Write postmortem"}
      </button>
      {create.error && (
        <span className="state-error" role="alert">
          {create.error.message}
        </span>
      )}
    </div>
  );
}
