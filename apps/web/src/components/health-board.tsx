import { type MouseEvent, memo, useCallback, useMemo, useState } from "react";
import { useNavigate } from "react-router";
import { formatMs, formatPercent, formatRate } from "../format.ts";
import type { Outputs } from "../trpc.ts";
import { Sparkline } from "./sparkline.tsx";

type Board = Outputs["services"]["board"];
type ServiceRow = Board["services"][number];
type Marker = { t: number; label: string };
type SortKey = "service" | "requestsPerSecond" | "errorRate" | "p95Ms";

const columns: { key: SortKey; label: string }[] = [
  { key: "service", label: "Service" },
  { key: "requestsPerSecond", label: "Requests" },
  { key: "errorRate", label: "Errors" },
  { key: "p95Ms", label: "p95" },
];

// One collator for every comparison: String#localeCompare builds one per call (thousands per sort).
const compareNames = new Intl.Collator("en").compare;
const noMarkers: readonly Marker[] = [];

/**
 * Follows a click on a service link inside the app (no reload), like a router <Link> but one handler
 * shared by every row: a <Link> per row costs a handful of hooks each on a board of hundreds of
 * services. Modified clicks (new tab, new window) and other buttons keep the browser's behaviour.
 */
function useInAppLinks() {
  const navigate = useNavigate();
  return useCallback(
    (event: MouseEvent<HTMLAnchorElement>) => {
      if (event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const href = event.currentTarget.getAttribute("href");
      if (!href) return;
      event.preventDefault();
      navigate(href);
    },
    [navigate],
  );
}

/** A grid sparkline's cells as points at each cell's middle. */
function gridPoints(grid: ServiceRow["sparkline"]): { t: number; v: number | null }[] {
  return grid.values.map((value, cell) => ({
    t: grid.startMs + (cell + 0.5) * grid.stepMs,
    v: value,
  }));
}

/** One service's row; memoised so a re-sort or a filter keystroke moves rows instead of redrawing them. */
const BoardRow = memo(function BoardRow(props: {
  row: ServiceRow;
  range: string;
  fromMs: number;
  toMs: number;
  markers: readonly Marker[];
  onLinkClick: (event: MouseEvent<HTMLAnchorElement>) => void;
}) {
  const { row } = props;
  return (
    <tr className={(row.errorRate ?? 0) >= 0.05 ? "row-bad" : ""}>
      <th scope="row">
        <a
          href={`/services/${encodeURIComponent(row.service)}?range=${props.range}`}
          onClick={props.onLinkClick}
        >
          {row.service}
        </a>
      </th>
      <td className="num">{formatRate(row.requestsPerSecond)}</td>
      <td className="num">{formatPercent(row.errorRate)}</td>
      <td className="num">{formatMs(row.p95Ms)}</td>
      <td>
        <Sparkline
          points={gridPoints(row.sparkline)}
          fromMs={props.fromMs}
          toMs={props.toMs}
          markers={props.markers}
          label={`${row.service} error rate, ${formatPercent(row.errorRate)} overall`}
          width={240}
          max={0.05}
        />
      </td>
    </tr>
  );
});

/**
 * Every service's request rate, error rate and p95 with an error-rate sparkline and change markers;
 * sortable by any column, filterable by name. Plain table and SVG so 500 rows stay fast.
 */
export function HealthBoard(props: { board: Board; range: string }) {
  const { board } = props;
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: "errorRate",
    descending: true,
  });
  const followLink = useInAppLinks();
  const changesByService = useMemo(() => {
    const map = new Map<string, Marker[]>();
    for (const change of board.changes) {
      const list = map.get(change.service) ?? [];
      list.push({
        t: change.startedAtMs,
        label: `${change.kind} ${change.service} ${change.version ?? ""}`.trim(),
      });
      map.set(change.service, list);
    }
    return map;
  }, [board.changes]);
  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const kept = needle
      ? board.services.filter((row) => row.service.toLowerCase().includes(needle))
      : board.services;
    const direction = sort.descending ? -1 : 1;
    return [...kept].sort((a, b) => {
      if (sort.key === "service") return direction * compareNames(a.service, b.service);
      const left = a[sort.key] ?? -1;
      const right = b[sort.key] ?? -1;
      return direction * (left - right) || compareNames(a.service, b.service);
    });
  }, [board.services, filter, sort]);
  const toggle = (key: SortKey) =>
    setSort((current) => ({
      key,
      descending: current.key === key ? !current.descending : key !== "service",
    }));
  return (
    <section className="panel" aria-labelledby="board-title">
      <div className="panel-header">
        <h2 id="board-title">Service health</h2>
        <label className="filter">
          <span className="visually-hidden">Filter services</span>
          <input
            type="search"
            placeholder={`Filter ${board.services.length} services`}
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
          />
        </label>
      </div>
      <table className="board board-services">
        {/* Fixed column widths: the browser lays out hundreds of rows without measuring each first. */}
        <colgroup>
          <col className="board-service-column" />
          <col className="board-number-column" />
          <col className="board-number-column" />
          <col className="board-number-column" />
          <col />
        </colgroup>
        <thead>
          <tr>
            {columns.map((column) => (
              <th
                key={column.key}
                scope="col"
                className={column.key === "service" ? "" : "num"}
                aria-sort={sort.key === column.key ? (sort.descending ? "descending" : "ascending") : "none"}
              >
                <button type="button" className="sort-button" onClick={() => toggle(column.key)}>
                  {column.label}
                  {sort.key === column.key ? (sort.descending ? " ▾" : " ▴") : ""}
                </button>
              </th>
            ))}
            <th scope="col">Error rate over the range</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={5} className="state-empty">
                {board.services.length === 0
                  ? "No telemetry in this range yet."
                  : "No service matches the filter."}
              </td>
            </tr>
          )}
          {rows.map((row) => (
            <BoardRow
              key={row.service}
              row={row}
              range={props.range}
              fromMs={board.fromMs}
              toMs={board.toMs}
              markers={changesByService.get(row.service) ?? noMarkers}
              onLinkClick={followLink}
            />
          ))}
        </tbody>
      </table>
      {board.destinations.length > 0 && (
        <>
          <h3>Messaging destinations</h3>
          <table className="board">
            <thead>
              <tr>
                <th scope="col">Destination</th>
                <th scope="col" className="num">
                  Published
                </th>
                <th scope="col" className="num">
                  Consumed
                </th>
                <th scope="col" className="num">
                  Errors
                </th>
                <th scope="col">Throughput over the range</th>
              </tr>
            </thead>
            <tbody>
              {board.destinations.map((row) => (
                <tr key={row.destination}>
                  <th scope="row">{row.destination}</th>
                  <td className="num">{formatRate(row.publishedPerSecond)}</td>
                  <td className="num">{formatRate(row.consumedPerSecond)}</td>
                  <td className="num">{row.errors.toLocaleString("en")}</td>
                  <td>
                    <Sparkline
                      points={row.sparkline.map((point) => ({ t: point.t, v: point.published }))}
                      fromMs={board.fromMs}
                      toMs={board.toMs}
                      label={`${row.destination} messages published`}
                      width={240}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
