import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { ActionItemsTable } from "../components/action-items-table.tsx";
import { QueryState } from "../components/query-state.tsx";
import "../components/postmortem.css";
import { useTRPC } from "../trpc.ts";

const filters = ["open", "overdue", "all"] as const;
type Filter = (typeof filters)[number];
const filterLabels: Record<Filter, string> = { open: "Open", overdue: "Overdue", all: "All" };

/** `/action-items?show=open|overdue|all`: follow-ups across every postmortem, overdue ones first and flagged. */
export function ActionItemsPage() {
  const trpc = useTRPC();
  const [params, setParams] = useSearchParams();
  const raw = params.get("show");
  const filter: Filter = (filters as readonly string[]).includes(raw ?? "") ? (raw as Filter) : "open";
  const items = useQuery(
    trpc.postmortems.actionItems.queryOptions(
      { overdueOnly: filter === "overdue", openOnly: filter === "open" },
      { refetchInterval: 60_000 },
    ),
  );
  const overdue = items.data?.filter((item) => item.overdue).length ?? 0;
  return (
    <div className="page action-items-page">
      <h1>Action items</h1>
      <div className="segmented" role="tablist" aria-label="Show">
        {filters.map((one) => (
          <button
            key={one}
            type="button"
            role="tab"
            aria-selected={filter === one}
            className={filter === one ? "active" : undefined}
            onClick={() => setParams({ show: one }, { replace: true })}
          >
            {filterLabels[one]}
          </button>
        ))}
      </div>
      {overdue > 0 && (
        <p className="overdue-summary" role="status">
          {overdue} overdue
        </p>
      )}
      <QueryState label="action items" isPending={items.isPending} error={items.error}>
        {items.data && <ActionItemsTable items={items.data} showPostmortem />}
      </QueryState>
    </div>
  );
}
