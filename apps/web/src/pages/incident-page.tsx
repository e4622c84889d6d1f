import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { EventTimeline } from "../components/event-timeline.tsx";
import { IncidentActions, NoteForm } from "../components/incident-actions.tsx";
import { QueryState } from "../components/query-state.tsx";
import { ServiceGraph } from "../components/service-graph.tsx";
import { SeverityBadge, StatusBadge } from "../components/severity-badge.tsx";
import { TimelineCharts } from "../components/timeline-chart.tsx";
import { WritePostmortemButton } from "../components/write-postmortem-button.tsx";
import {
  describeChange,
  formatAgo,
  formatClock,
  formatCount,
  formatDateTime,
  formatDuration,
  formatPercent,
  formatScore,
} from "../format.ts";
import { timeTicks } from "../time-ticks.ts";
import { type Outputs, useTRPC } from "../trpc.ts";

type Detail = Outputs["incidents"]["get"];
type Timeline = Outputs["incidents"]["timeline"];

export function IncidentPage() {
  const { id = "" } = useParams();
  const trpc = useTRPC();
  const detail = useQuery(trpc.incidents.get.queryOptions({ id }, { refetchInterval: 5_000 }));
  const timeline = useQuery(trpc.incidents.timeline.queryOptions({ id }, { refetchInterval: 15_000 }));
  const deliveries = useQuery(
    trpc.notifications.deliveries.queryOptions({ incidentId: id }, { refetchInterval: 5_000 }),
  );
  const nowMs = Date.now();
  return (
    <div className="page incident-page">
      <p className="breadcrumb">
        <Link to="/">← Triage</Link>
      </p>
      <QueryState label="the incident" isPending={detail.isPending} error={detail.error}>
        {detail.data && <IncidentHeader detail={detail.data} nowMs={nowMs} />}
      </QueryState>
      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <QueryState
          label="the charts"
          isPending={timeline.isPending}
          error={timeline.error}
          isEmpty={timeline.data?.services.every((one) => one.points.length === 0)}
          empty="No telemetry for the affected services in this window."
        >
          {timeline.data && (
            <TimelineCharts
              fromMs={timeline.data.fromMs}
              toMs={timeline.data.toMs}
              series={timeline.data.services.map((one) => ({ name: one.service, points: one.points }))}
              markers={timeline.data.changes.map((change) => ({ ...change, t: change.startedAtMs }))}
              window={timeline.data.incidentWindow}
              trimToData
            />
          )}
        </QueryState>
      </section>
      {detail.data && (
        <>
          <div className="two-columns">
            <Suspects detail={detail.data} />
            <section className="panel" aria-labelledby="graph-title">
              <h2 id="graph-title">Services involved</h2>
              <ServiceGraph nodes={detail.data.graph.nodes} edges={detail.data.graph.edges} />
            </section>
          </div>
          {timeline.data?.versions && (
            <VersionComparison versions={timeline.data.versions} timeline={timeline.data} />
          )}
          <Exemplars detail={detail.data} />
          <section className="panel" aria-labelledby="events-title">
            <h2 id="events-title">Events, notes and pages</h2>
            <EventTimeline
              events={detail.data.events}
              deliveries={deliveries.data ?? []}
              deliveriesError={deliveries.error}
              nowMs={nowMs}
            />
            <NoteForm incidentId={detail.data.incident.id} nowMs={nowMs} />
          </section>
        </>
      )}
    </div>
  );
}

function IncidentHeader(props: { detail: Detail; nowMs: number }) {
  const { incident } = props.detail;
  return (
    <section className="panel incident-header" aria-labelledby="incident-title">
      <div className="incident-title-row">
        <SeverityBadge severity={incident.severity} />
        <StatusBadge status={incident.status} />
        <h1 id="incident-title">{incident.title}</h1>
        <WritePostmortemButton incidentId={incident.id} />
      </div>
      <dl className="facts facts-wide">
        <div>
          <dt>Root service</dt>
          <dd>
            {incident.rootService ? (
              <Link to={`/services/${encodeURIComponent(incident.rootService)}`}>{incident.rootService}</Link>
            ) : (
              "unknown"
            )}
          </dd>
        </div>
        <div>
          <dt>Signal</dt>
          <dd>{incident.signal.replace("_", " ")}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            {formatDateTime(incident.startedAtMs)} ({formatAgo(incident.startedAtMs, props.nowMs)})
          </dd>
        </div>
        <div>
          <dt>Detected after</dt>
          <dd>{formatDuration(incident.timeToDetectMs)}</dd>
        </div>
        <div>
          <dt>{incident.endedAtMs === null ? "Ongoing for" : "Lasted"}</dt>
          <dd>{formatDuration((incident.endedAtMs ?? props.nowMs) - incident.startedAtMs)}</dd>
        </div>
        <div>
          <dt>Users affected</dt>
          <dd>{formatCount(incident.affectedUsers)}</dd>
        </div>
        <div>
          <dt>Surfaces</dt>
          <dd>{incident.surfaces.join(", ") || "–"}</dd>
        </div>
        <div>
          <dt>Services</dt>
          <dd>{incident.services.join(", ")}</dd>
        </div>
        <div>
          <dt>Assignee</dt>
          <dd>{incident.assignee ?? "nobody"}</dd>
        </div>
        <div>
          <dt>Acknowledged</dt>
          <dd>
            {incident.acknowledgedBy
              ? `${incident.acknowledgedBy}, ${formatAgo(incident.acknowledgedAtMs ?? props.nowMs, props.nowMs)}`
              : "not yet"}
          </dd>
        </div>
      </dl>
      <IncidentActions incident={incident} />
    </section>
  );
}

function Suspects(props: { detail: Detail }) {
  const { incident } = props.detail;
  return (
    <section className="panel" aria-labelledby="suspects-title">
      <h2 id="suspects-title">Suspects</h2>
      {incident.suspects.length === 0 ? (
        <div className="state state-empty">No change explains this incident.</div>
      ) : (
        <ol className="suspects">
          {incident.suspects.map((suspect) => (
            <li
              key={suspect.change.id}
              className={suspect.change.id === incident.causeChangeId ? "suspect-cause" : ""}
            >
              <div className="suspect-head">
                <span className="rank">#{suspect.rank}</span>
                <strong>{describeChange(suspect.change)}</strong>
                {suspect.change.id === incident.causeChangeId && (
                  <span className="badge badge-cause">cause</span>
                )}
                <meter min={0} max={1} value={suspect.score} aria-label="score" />
                <span className="score">score {formatScore(suspect.score)}</span>
              </div>
              <p className="suspect-meta">
                {suspect.change.source} · {formatDateTime(suspect.change.startedAtMs)}
                {suspect.change.author && ` · by ${suspect.change.author}`}
                {suspect.change.commit && ` · ${suspect.change.commit.slice(0, 12)}`}
                {suspect.change.url && /^https?:\/\//.test(suspect.change.url) && (
                  <>
                    {" · "}
                    <a href={suspect.change.url} target="_blank" rel="noreferrer noopener">
                      details
                    </a>
                  </>
                )}
              </p>
              {suspect.change.description && (
                <p className="suspect-description">{suspect.change.description}</p>
              )}
              <ul className="evidence-list">
                {suspect.evidence.map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function VersionComparison(props: { versions: NonNullable<Timeline["versions"]>; timeline: Timeline }) {
  const { versions, timeline } = props;
  const firstPoint = Math.min(...versions.series.map((one) => one.points[0]?.t ?? timeline.toMs));
  const fromMs = Math.max(timeline.fromMs, firstPoint - 60_000);
  return (
    <section className="panel" aria-labelledby="versions-title">
      <h2 id="versions-title">{versions.service}: error rate by version</h2>
      <ResponsiveContainer width="100%" height={180}>
        <LineChart margin={{ top: 8, right: 16, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="#2a3040" strokeDasharray="3 3" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={[fromMs, timeline.toMs]}
            ticks={timeTicks(fromMs, timeline.toMs)}
            tickFormatter={formatClock}
            stroke="#8a93a6"
            allowDuplicatedCategory={false}
          />
          <YAxis stroke="#8a93a6" width={64} tickFormatter={(value: number) => formatPercent(value)} />
          <Tooltip
            contentStyle={{ background: "#161b26", border: "1px solid #2f3747" }}
            labelFormatter={(value) => formatDateTime(Number(value))}
            formatter={(value, name) => [formatPercent(Number(value)), String(name)]}
          />
          {timeline.changes
            .filter((change) => change.id === versions.changeId)
            .map((change) => (
              <ReferenceLine key={change.id} x={change.startedAtMs} stroke="#f5c542" strokeDasharray="4 2" />
            ))}
          {versions.series.map((one) => (
            <Line
              key={one.version ?? "none"}
              name={`${one.version ?? "no version"}${one.isNew ? " (new)" : " (old)"}`}
              data={one.points as { t: number }[]}
              dataKey="errorRate"
              stroke={one.isNew ? "#ff6b5a" : "#5ab0ff"}
              dot={false}
              isAnimationActive={false}
              connectNulls
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <ul className="chart-legend">
        {versions.series.map((one) => (
          <li key={one.version ?? "none"}>
            <span className="swatch" style={{ background: one.isNew ? "#ff6b5a" : "#5ab0ff" }} />{" "}
            {one.version ?? "no version"} {one.isNew ? "(new)" : "(old)"}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Exemplars(props: { detail: Detail }) {
  const { exemplars } = props.detail;
  return (
    <section className="panel" aria-labelledby="exemplars-title">
      <h2 id="exemplars-title">Errors</h2>
      {exemplars.length === 0 ? (
        <div className="state state-empty">No error exemplars recorded for the affected services.</div>
      ) : (
        <table className="exemplars">
          <thead>
            <tr>
              <th scope="col">Error</th>
              <th scope="col">Where</th>
              <th scope="col">Count</th>
              <th scope="col">Traces</th>
            </tr>
          </thead>
          <tbody>
            {exemplars.map((group) => (
              <tr key={group.fingerprint}>
                <td>
                  <strong>{group.exceptionType ?? "error"}</strong>
                  {group.message && <div className="exemplar-message">{group.message}</div>}
                </td>
                <td>
                  {group.service} · {group.operation}
                </td>
                <td className="num">{formatCount(group.count)}</td>
                <td className="traces">
                  {group.traces.map((trace) =>
                    trace.url ? (
                      <a
                        key={trace.traceId}
                        href={trace.url}
                        target="_blank"
                        rel="noreferrer noopener"
                        className="trace-id"
                      >
                        {trace.traceId.slice(0, 16)}
                      </a>
                    ) : (
                      <code key={trace.traceId} className="trace-id" title={trace.traceId}>
                        {trace.traceId.slice(0, 16)}
                      </code>
                    ),
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
