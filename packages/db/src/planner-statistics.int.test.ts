import { expect, it } from "vitest";
import { findStaleStatistics, refreshPlannerStatistics } from "./planner-statistics.ts";
import { describeEachDatabase } from "./testing/index.ts";

describeEachDatabase("planner statistics", ({ handle: db }) => {
  it("analyzes tables that got data since their last statistics, and only those", async () => {
    const handle = db();
    await refreshPlannerStatistics(handle);
    expect(await findStaleStatistics(handle)).toEqual([]);

    // A few thousand series: far more pages than the statistics (none, or an empty table's) say.
    await handle.query(
      `INSERT INTO series (environment, service, operation, span_kind, destination, version)
       SELECT 'stats-test', 'svc-' || n, 'GET /', 'server', NULL, NULL FROM generate_series(1, 5000) AS n`,
    );
    expect(await findStaleStatistics(handle)).toContain("series");
    expect(await refreshPlannerStatistics(handle)).toContain("series");
    expect(await findStaleStatistics(handle)).toEqual([]);
    const [stats] = await handle.query<{ reltuples: number }>(
      "SELECT reltuples FROM pg_class WHERE relname = 'series' AND relkind = 'r'",
    );
    // The planner now knows the table's size.
    expect(Number(stats?.reltuples)).toBe(5000);
  });
});
