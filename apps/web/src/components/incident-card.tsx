import { Link } from "react-router";
import { describeChange, formatAgo, formatCount, formatDuration, formatScore } from "../format.ts";
import type { Outputs } from "../trpc.ts";
import { IncidentActions } from "./incident-actions.tsx";
import { SeverityBadge, StatusBadge } from "./severity-badge.tsx";
import { Sparkline } from "./sparkline.tsx";

type TriageIncident = Outputs["incidents"]["list"]["incidents"][number];

/** One incident on the triage page: what, where, who, since when, why (or the suspects), and actions. */
export function IncidentCard(props: { incident: TriageIncident; nowMs: number }) {
  const { incident, nowMs } = props;
  const suspects = incident.cause ? [incident.cause] : incident.suspects.slice(0, 3);
  return (
    <article
      className={`incident-card status-card-${incident.status}`}
      aria-labelledby={`incident-${incident.id}`}
    >
      <header className="incident-card-header">
        <SeverityBadge severity={incident.severity} />
        <StatusBadge status={incident.status} />
        <h3 id={`incident-${incident.id}`}>
          <Link to={`/incidents/${encodeURIComponent(incident.id)}`}>{incident.title}</Link>
        </h3>
      </header>
      <div className="incident-card-body">
        <dl className="facts">
          <div>
            <dt>Root</dt>
            <dd>{incident.rootService ?? "unknown"}</dd>
          </div>
          <div>
            <dt>Affected</dt>
            <dd>{incident.services.join(", ") || "–"}</dd>
          </div>
          <div>
            <dt>Surfaces</dt>
            <dd>{incident.surfaces.join(", ") || "–"}</dd>
          </div>
          <div>
            <dt>Users</dt>
            <dd>{formatCount(incident.affectedUsers)}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{formatAgo(incident.startedAtMs, nowMs)}</dd>
          </div>
          <div>
            <dt>Detected in</dt>
            <dd>{formatDuration(incident.timeToDetectMs)}</dd>
          </div>
          {incident.endedAtMs !== null && (
            <div>
              <dt>Lasted</dt>
              <dd>{formatDuration(incident.endedAtMs - incident.startedAtMs)}</dd>
            </div>
          )}
          {incident.assignee && (
            <div>
              <dt>Assignee</dt>
              <dd>{incident.assignee}</dd>
            </div>
          )}
          {incident.acknowledgedBy && (
            <div>
              <dt>Acked by</dt>
              <dd>{incident.acknowledgedBy}</dd>
            </div>
          )}
        </dl>
        {incident.sparkline && (
          <Sparkline
            width={220}
            height={48}
            points={incident.sparkline.points.map((point) => ({ t: point.t, v: point.errorRate }))}
            fromMs={incident.sparkline.fromMs}
            toMs={incident.sparkline.toMs}
            window={{ fromMs: incident.startedAtMs, toMs: incident.endedAtMs }}
            markers={incident.changes.map((change) => ({
              t: change.startedAtMs,
              label: describeChange(change),
            }))}
            label={`${incident.rootService ?? "root"} error rate around the incident`}
          />
        )}
      </div>
      <div className="cause">
        {incident.cause ? (
          <span className="cause-label">Cause</span>
        ) : suspects.length > 0 ? (
          <span className="cause-label cause-unsure">Suspects</span>
        ) : (
          <span className="cause-label cause-none">No change explains this</span>
        )}
        <ul className="suspect-list">
          {suspects.map((suspect) => (
            <li key={suspect.change.id}>
              <strong>{describeChange(suspect.change)}</strong>{" "}
              <span className="score">score {formatScore(suspect.score)}</span>
              {suspect.evidence[0] && <span className="evidence"> — {suspect.evidence[0]}</span>}
            </li>
          ))}
        </ul>
      </div>
      <IncidentActions incident={incident} compact />
    </article>
  );
}
