import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { QueryState } from "../components/query-state.tsx";
import { RangePicker } from "../components/range-picker.tsx";
import { formatDateTime, formatPercent } from "../format.ts";
import { useTRPC } from "../trpc.ts";
import { useRange } from "../url-state.ts";

const kinds = ["deploy", "config", "rollback", "feature_flag"] as const;
const sources = ["api", "webhook", "telemetry"] as const;

/** Every change event, filterable by service, kind and source (all in the URL), with error rates around it. */
export function ChangesPage() {
  const trpc = useTRPC();
  const [range, setRange] = useRange("24h");
  const [params, setParams] = useSearchParams();
  const service = params.get("service") ?? "";
  const kind = (kinds as readonly string[]).includes(params.get("kind") ?? "")
    ? (params.get("kind") as (typeof kinds)[number])
    : undefined;
  const source = (sources as readonly string[]).includes(params.get("source") ?? "")
    ? (params.get("source") as (typeof sources)[number])
    : undefined;
  const setParam = (name: string, value: string) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  const changes = useQuery(
    trpc.changes.list.queryOptions(
      { range, ...(service ? { service } : {}), ...(kind ? { kind } : {}), ...(source ? { source } : {}) },
      { refetchInterval: 30_000, placeholderData: (previous) => previous },
    ),
  );
  return (
    <div className="page changes-page">
      <div className="page-header">
        <h1>Changes</h1>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <div className="filters">
        <label>
          Service
          <input
            value={service}
            placeholder="any"
            list="change-services"
            onChange={(event) => setParam("service", event.target.value)}
          />
          <datalist id="change-services">
            {changes.data?.services.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
        <label>
          Kind
          <select value={kind ?? ""} onChange={(event) => setParam("kind", event.target.value)}>
            <option value="">any</option>
            {kinds.map((value) => (
              <option key={value} value={value}>
                {value.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source
          <select value={source ?? ""} onChange={(event) => setParam("source", event.target.value)}>
            <option value="">any</option>
            {sources.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
      </div>
      <section className="panel" aria-label="Change events">
        <QueryState
          label="changes"
          isPending={changes.isPending}
          error={changes.error}
          isEmpty={changes.data?.changes.length === 0}
          empty="No changes match."
        >
          <table className="board changes-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Service</th>
                <th scope="col">Kind</th>
                <th scope="col">Version</th>
                <th scope="col">Source</th>
                <th scope="col" className="num">
                  Errors 15 min before
                </th>
                <th scope="col" className="num">
                  Errors 15 min after
                </th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {changes.data?.changes.map((change) => {
                const worse =
                  change.errorRateAfter !== null &&
                  change.errorRateAfter > Math.max(0.01, 2 * (change.errorRateBefore ?? 0));
                return (
                  <tr key={change.id}>
                    <td>
                      <time dateTime={new Date(change.startedAtMs).toISOString()}>
                        {formatDateTime(change.startedAtMs)}
                      </time>
                    </td>
                    <th scope="row">
                      <Link to={`/services/${encodeURIComponent(change.service)}?range=${range}`}>
                        {change.service}
                      </Link>
                    </th>
                    <td>{change.kind.replace("_", " ")}</td>
                    <td>
                      {change.version ?? "–"}
                      {change.previousVersion && (
                        <span className="muted"> (was {change.previousVersion})</span>
                      )}
                    </td>
                    <td>{change.source}</td>
                    <td className="num">{formatPercent(change.errorRateBefore)}</td>
                    <td className={worse ? "num worse" : "num"}>{formatPercent(change.errorRateAfter)}</td>
                    <td className="description">{change.description ?? ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </QueryState>
      </section>
    </div>
  );
}
