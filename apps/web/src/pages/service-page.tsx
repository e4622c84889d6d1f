import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { QueryState } from "../components/query-state.tsx";
import { RangePicker } from "../components/range-picker.tsx";
import { TimelineCharts } from "../components/timeline-chart.tsx";
import { describeChange, formatCount, formatDateTime, formatPercent } from "../format.ts";
import { useTRPC } from "../trpc.ts";
import { pollingFor, useRange } from "../url-state.ts";

/** One service's signals over the chosen range, with its changes and busiest operations. */
export function ServicePage() {
  const { service = "" } = useParams();
  const trpc = useTRPC();
  const [range, setRange] = useRange();
  const detail = useQuery(
    trpc.services.detail.queryOptions(
      { service, range },
      { refetchInterval: pollingFor(range), placeholderData: (previous) => previous },
    ),
  );
  return (
    <div className="page service-page">
      <p className="breadcrumb">
        <Link to={`/?range=${range}`}>← Triage</Link>
      </p>
      <div className="page-header">
        <h1>{service}</h1>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <QueryState
        label="the service"
        isPending={detail.isPending}
        error={detail.error}
        isEmpty={detail.data?.points.length === 0 && detail.data?.changes.length === 0}
        empty="No telemetry or changes for this service in this range."
      >
        {detail.data && (
          <>
            <section className="panel" aria-labelledby="signals-title">
              <h2 id="signals-title">Signals</h2>
              <TimelineCharts
                fromMs={detail.data.fromMs}
                toMs={detail.data.toMs}
                series={[{ name: service, points: detail.data.points }]}
                markers={detail.data.changes.map((change) => ({ ...change, t: change.startedAtMs }))}
              />
            </section>
            <section className="panel" aria-labelledby="service-changes-title">
              <h2 id="service-changes-title">Changes</h2>
              {detail.data.changes.length === 0 ? (
                <div className="state state-empty">No changes in this range.</div>
              ) : (
                <ul className="plain-list">
                  {detail.data.changes.map((change) => (
                    <li key={change.id}>
                      <time dateTime={new Date(change.startedAtMs).toISOString()}>
                        {formatDateTime(change.startedAtMs)}
                      </time>{" "}
                      {describeChange(change)} <span className="muted">({change.source})</span>
                    </li>
                  ))}
                </ul>
              )}
              <p>
                <Link to={`/changes?service=${encodeURIComponent(service)}&range=${range}`}>
                  All changes of {service} →
                </Link>
              </p>
            </section>
            <section className="panel" aria-labelledby="operations-title">
              <h2 id="operations-title">Operations</h2>
              <table className="board">
                <thead>
                  <tr>
                    <th scope="col">Operation</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Destination</th>
                    <th scope="col">Version</th>
                    <th scope="col">Spans</th>
                    <th scope="col">Errors</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.data.operations.map((operation) => (
                    <tr
                      key={`${operation.operation}|${operation.kind}|${operation.destination ?? ""}|${operation.version ?? ""}`}
                    >
                      <th scope="row">{operation.operation}</th>
                      <td>{operation.kind}</td>
                      <td>{operation.destination ?? "–"}</td>
                      <td>{operation.version ?? "–"}</td>
                      <td className="num">{formatCount(operation.spans)}</td>
                      <td className="num">{formatPercent(operation.errorRate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </>
        )}
      </QueryState>
    </div>
  );
}
