import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { QueryState } from "../components/query-state.tsx";
import "../components/postmortem.css";
import { formatDateTime } from "../format.ts";
import { useTRPC } from "../trpc.ts";

const statusLabels: Record<string, string> = {
  draft: "Draft",
  in_review: "In review",
  published: "Published",
};

/** `/postmortems`: every postmortem, most recently edited first. */
export function PostmortemsPage() {
  const trpc = useTRPC();
  const list = useQuery(trpc.postmortems.list.queryOptions({}));
  return (
    <div className="page postmortems-page">
      <h1>Postmortems</h1>
      <p className="muted">
        Write one from an incident's page. Action items across all of them:{" "}
        <Link to="/action-items">Action items</Link>. Drafts are written through{" "}
        <Link to="/postmortems/templates">templates</Link> your team can edit.
      </p>
      <QueryState
        label="postmortems"
        isPending={list.isPending}
        error={list.error}
        isEmpty={list.data?.length === 0}
        empty="No postmortems yet. Open an incident and choose “Write postmortem”."
      >
        <table className="postmortem-list">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col">Incident</th>
              <th scope="col">Open action items</th>
              <th scope="col">Last edit</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.map((postmortem) => (
              <tr key={postmortem.id}>
                <td>
                  <Link to={`/postmortems/${encodeURIComponent(postmortem.id)}`}>{postmortem.title}</Link>
                </td>
                <td>
                  <span className={`badge status-${postmortem.status}`}>
                    {statusLabels[postmortem.status]}
                  </span>
                </td>
                <td>
                  {postmortem.incidentId ? (
                    <Link to={`/incidents/${encodeURIComponent(postmortem.incidentId)}`}>
                      {postmortem.incidentTitle ?? postmortem.incidentId}
                    </Link>
                  ) : (
                    <span className="muted">merged away</span>
                  )}
                </td>
                <td className="numeric">{postmortem.openActionItems}</td>
                <td>
                  {formatDateTime(postmortem.updatedAtMs)} · {postmortem.updatedBy}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </QueryState>
    </div>
  );
}
