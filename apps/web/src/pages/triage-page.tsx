import type { AppRouter } from "@faultline/api";
import { type QueryClient, useQuery } from "@tanstack/react-query";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { HealthBoard } from "../components/health-board.tsx";
import { IncidentCard } from "../components/incident-card.tsx";
import { QueryState } from "../components/query-state.tsx";
import { RangePicker } from "../components/range-picker.tsx";
import { type ApiClient, useTRPC } from "../trpc.ts";
import { pollingFor, type Range, useRange } from "../url-state.ts";

/**
 * Starts the triage page's two queries (one batched request) before React's first render, so the
 * server works while the page's script runs; the page's hooks then find them in flight under the
 * same keys.
 */
export function prefetchTriage(queryClient: QueryClient, client: ApiClient, range: Range): void {
  const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });
  void queryClient.prefetchQuery(trpc.incidents.list.queryOptions());
  void queryClient.prefetchQuery(trpc.services.board.queryOptions({ range }));
}

/** Home: open and recent incidents by impact, then every service's health. Polls every 5 s. */
export function TriagePage() {
  const trpc = useTRPC();
  const [range, setRange] = useRange();
  const incidents = useQuery(trpc.incidents.list.queryOptions(undefined, { refetchInterval: 5_000 }));
  const board = useQuery(
    trpc.services.board.queryOptions(
      { range },
      { refetchInterval: pollingFor(range), placeholderData: (previous) => previous },
    ),
  );
  const open = incidents.data?.incidents.filter((incident) => incident.status !== "resolved") ?? [];
  const recent = incidents.data?.incidents.filter((incident) => incident.status === "resolved") ?? [];
  return (
    <div className="page triage-page">
      <div className="page-header">
        <h1>Triage</h1>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <section className="panel" aria-labelledby="incidents-title">
        <h2 id="incidents-title">
          Incidents{" "}
          {incidents.data && (
            <span className="count">
              {open.length} open · {recent.length} recently resolved
            </span>
          )}
        </h2>
        <QueryState
          label="incidents"
          isPending={incidents.isPending}
          error={incidents.error}
          isEmpty={incidents.data?.incidents.length === 0}
          empty="No open incidents, and none resolved in the last 24 hours. All quiet."
        >
          <div className="incident-list">
            {[...open, ...recent].map((incident) => (
              <IncidentCard
                key={incident.id}
                incident={incident}
                nowMs={incidents.data?.nowMs ?? Date.now()}
              />
            ))}
          </div>
        </QueryState>
      </section>
      <QueryState label="service health" isPending={board.isPending} error={board.error}>
        {board.data && <HealthBoard board={board.data} range={range} />}
      </QueryState>
    </div>
  );
}
