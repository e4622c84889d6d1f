import { useSearchParams } from "react-router";

export const ranges = ["live", "1h", "6h", "24h", "7d"] as const;
export type Range = (typeof ranges)[number];

/** The range a URL's query asks for (`?range=6h`), or the fallback when it names none we know. */
export function rangeOf(params: URLSearchParams, fallback: Range = "1h"): Range {
  const raw = params.get("range");
  return (ranges as readonly string[]).includes(raw ?? "") ? (raw as Range) : fallback;
}

/** The range lives in the URL (`?range=6h`) so a link shows the same view to whoever opens it. */
export function useRange(fallback: Range = "1h"): [Range, (range: Range) => void] {
  const [params, setParams] = useSearchParams();
  const range = rangeOf(params, fallback);
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
