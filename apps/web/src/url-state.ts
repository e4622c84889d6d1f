import { useSearchParams } from "react-router";

export const ranges = ["live", "1h", "6h", "24h", "7d"] as const;
export type Range = (typeof ranges)[number];

/** The range lives in the URL (`?range=6h`) so a link shows the same view to whoever opens it. */
export function useRange(fallback: Range = "1h"): [Range, (range: Range) => void] {
  const [params, setParams] = useSearchParams();
  const raw = params.get("range");
  const range = (ranges as readonly string[]).includes(raw ?? "") ? (raw as Range) : fallback;
  const setRange = (next: Range) =>
    setParams(
      (current) => {
        const updated = new URLSearchParams(current);
        updated.set("range", next);
        return updated;
      },
      { replace: true },
    );
  return [range, setRange];
}

/** Polling interval: live views refresh every 5 s, wider ranges every 30 s. */
export function pollingFor(range: Range): number {
  return range === "live" || range === "1h" ? 5_000 : 30_000;
}
