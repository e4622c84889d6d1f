import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { type DbHandle, migrationsFolder } from "../create-db.ts";
import type { SketchBins, SpanKind } from "../schema/index.ts";
import { describeEachDatabase } from "../testing/index.ts";
import { ensureSeriesIds, type SeriesBucketRow, upsertIngestRows } from "./ingest-writer.ts";
import { entrySpanKinds, foldRollups, rebuildServiceBuckets } from "./rollup-fold.ts";
import { readSeriesRange } from "./series-reader.ts";
import { readServiceSignals } from "./service-signals-reader.ts";

const hour = Date.parse("2026-11-27T10:00:00Z");
const environment = "board-test";

const identities: {
  environment: string;
  service: string;
  operation: string;
  spanKind: SpanKind;
  destination: string | null;
  version: string | null;
}[] = [
  {
    environment,
    service: "dm-api",
    operation: "POST /dm",
    spanKind: "server",
    destination: null,
    version: "1.0.0",
  },
  {
    environment,
    service: "dm-api",
    operation: "POST /dm",
    spanKind: "server",
    destination: null,
    version: "1.1.0",
  },
  {
    environment,
    service: "dm-api",
    operation: "SELECT",
    spanKind: "client",
    destination: null,
    version: "1.1.0",
  },
  {
    environment,
    service: "dm-api",
    operation: "publish",
    spanKind: "producer",
    destination: "dm",
    version: null,
  },
  {
    environment,
    service: "fanout",
    operation: "process",
    spanKind: "consumer",
    destination: "dm",
    version: null,
  },
  { environment, service: "web", operation: "page", spanKind: "browser", destination: null, version: null },
  // Another environment's service of the same name must never leak into this one's board.
  {
    environment: "elsewhere",
    service: "dm-api",
    operation: "POST /dm",
    spanKind: "server",
    destination: null,
    version: "1.0.0",
  },
];

/** One raw 10 s row per series at each offset, with numbers that differ by series and time. */
function rawRows(
  seriesIds: readonly number[],
  offsetsMs: readonly number[],
  scale: number,
): SeriesBucketRow[] {
  return offsetsMs.flatMap((offsetMs, timeIndex) =>
    seriesIds.map((seriesId, seriesIndex) => {
      const spans = scale * (3 + seriesIndex + timeIndex);
      return {
        seriesId,
        stepSeconds: 10,
        bucketStartMs: hour + offsetMs,
        spans,
        errors: (seriesIndex + timeIndex) % 3,
        durationSumMs: spans * (5 + seriesIndex),
        latencyBins: { [String(10 + seriesIndex)]: spans - 1, [String(20 + timeIndex)]: 1 },
        userRegisters: {},
      };
    }),
  );
}

interface ExpectedService {
  buckets: {
    bucketStartMs: number;
    requests: number;
    requestErrors: number;
    spans: number;
    errors: number;
    durationSumMs: number;
  }[];
  latencyBins: SketchBins | null;
}

/** What the series rows say, per service: the independent path the board's numbers must equal. */
async function fromSeries(
  handle: DbHandle,
  window: { stepSeconds: number; fromMs: number; toMs: number },
): Promise<Record<string, ExpectedService>> {
  const series = await readSeriesRange(handle, { environment, ...window });
  const entryKinds: ReadonlySet<string> = new Set(entrySpanKinds);
  const byService: Record<string, Map<number, ExpectedService["buckets"][number]>> = {};
  const bins: Record<string, SketchBins> = {};
  for (const one of series) {
    const entry = entryKinds.has(one.spanKind);
    const buckets = byService[one.service] ?? new Map();
    byService[one.service] = buckets;
    for (const point of one.points) {
      const bucket = buckets.get(point.bucketStartMs) ?? {
        bucketStartMs: point.bucketStartMs,
        requests: 0,
        requestErrors: 0,
        spans: 0,
        errors: 0,
        durationSumMs: 0,
      };
      bucket.spans += point.spans;
      bucket.errors += point.errors;
      bucket.durationSumMs += point.durationSumMs;
      if (entry) {
        bucket.requests += point.spans;
        bucket.requestErrors += point.errors;
        const merged = bins[one.service] ?? {};
        bins[one.service] = merged;
        for (const [key, count] of Object.entries(point.latencyBins))
          merged[key] = (merged[key] ?? 0) + count;
      }
      buckets.set(point.bucketStartMs, bucket);
    }
  }
  return Object.fromEntries(
    Object.entries(byService).map(([service, buckets]) => [
      service,
      {
        buckets: [...buckets.values()].sort((a, b) => a.bucketStartMs - b.bucketStartMs),
        latencyBins: bins[service] ?? null,
      },
    ]),
  );
}

async function fromBoardReader(
  handle: DbHandle,
  window: { stepSeconds: number; fromMs: number; toMs: number },
): Promise<Record<string, ExpectedService>> {
  const signals = await readServiceSignals(handle, { environment, ...window, withLatency: true });
  return Object.fromEntries(
    signals.map((one) => [one.service, { buckets: one.buckets, latencyBins: one.latencyBins }]),
  );
}

const windows = [
  { stepSeconds: 60, fromMs: hour - 3_600_000, toMs: hour + 3 * 3_600_000 },
  { stepSeconds: 60, fromMs: hour + 60_000, toMs: hour + 3_600_000 },
  { stepSeconds: 3600, fromMs: hour - 3_600_000, toMs: hour + 3 * 3_600_000 },
  { stepSeconds: 3600, fromMs: hour + 3_600_000, toMs: hour + 2 * 3_600_000 },
];

async function storedServiceRows(handle: DbHandle) {
  const rows = await handle.query<Record<string, unknown>>(
    `SELECT environment, service, step_seconds, (extract(epoch FROM bucket_start) * 1000)::bigint::text AS t,
       requests::text, request_errors::text, spans::text, errors::text, duration_sum_ms, request_latency_bins
     FROM service_buckets ORDER BY environment, service, step_seconds, bucket_start`,
  );
  // Bin counts may come back as JSON numbers of another precision; compare their values.
  return rows.map((row) => ({
    ...row,
    request_latency_bins: Object.fromEntries(
      Object.entries(row.request_latency_bins as SketchBins).map(([key, value]) => [key, Number(value)]),
    ),
  }));
}

describeEachDatabase("service signals (the health board's numbers)", ({ handle: db }) => {
  it("equal what the series rows say at every step, before, during and after folds, with late data", async () => {
    const handle = db();
    const seriesIds = await handle.transaction((query) => ensureSeriesIds(query, identities));
    const write = (list: SeriesBucketRow[]) =>
      handle.transaction((query) =>
        upsertIngestRows(query, {
          seriesBuckets: list,
          exemplars: [],
          edges: [],
          instanceVersions: [],
          services: [],
        }),
      );
    const expectBoardEqualsSeries = async () => {
      for (const window of windows) {
        const expected = await fromSeries(handle, window);
        expect(Object.keys(expected).length).toBeGreaterThan(0);
        expect({ window, services: await fromBoardReader(handle, window) }).toEqual({
          window,
          services: expected,
        });
      }
    };

    // Two hours of data across minutes; nothing folded yet: all of it is the raw tail.
    await write(rawRows(seriesIds, [0, 10_000, 70_000, 3_590_000, 3_600_000, 5_000_000], 1));
    await expectBoardEqualsSeries();
    // A fold of part of it, then of the rest.
    await foldRollups(handle, 2);
    await expectBoardEqualsSeries();
    while ((await foldRollups(handle)).bucketTimes > 0);
    await expectBoardEqualsSeries();
    // Late data into folded rows and new rows; then partly folded; then all.
    await write(rawRows(seriesIds, [10_000, 3_600_000, 3_650_000], 2));
    await expectBoardEqualsSeries();
    await foldRollups(handle, 1);
    await expectBoardEqualsSeries();
    while ((await foldRollups(handle)).bucketTimes > 0);
    await expectBoardEqualsSeries();

    // The other environment has its own rows, and no service of this one leaks into it.
    const elsewhere = await readServiceSignals(handle, {
      environment: "elsewhere",
      stepSeconds: 3600,
      fromMs: hour - 3_600_000,
      toMs: hour + 3 * 3_600_000,
    });
    expect(elsewhere.map((one) => one.service)).toEqual(["dm-api"]);

    // Rebuilding from the series rollups gives exactly what the fold kept.
    const kept = await storedServiceRows(handle);
    expect(await rebuildServiceBuckets(handle)).toBe(kept.length);
    expect(await storedServiceRows(handle)).toEqual(kept);
    // So does the migration that created the table, on a database that already had series rollups.
    const migration = await readFile(join(migrationsFolder, "0009_service_buckets.sql"), "utf8");
    const backfill = migration.split("--> statement-breakpoint").at(-1) ?? "";
    expect(backfill).toContain("INSERT INTO");
    await handle.query("DELETE FROM service_buckets");
    await handle.query(backfill);
    expect(await storedServiceRows(handle)).toEqual(kept);
  });

  it("reads only the named services, and nothing for a range without data", async () => {
    const handle = db();
    const one = await readServiceSignals(handle, {
      environment,
      services: ["fanout"],
      stepSeconds: 60,
      fromMs: hour - 3_600_000,
      toMs: hour + 3 * 3_600_000,
      withLatency: true,
    });
    expect(one.map((signals) => signals.service)).toEqual(["fanout"]);
    expect(one[0]?.buckets.every((bucket) => bucket.requests === bucket.spans)).toBe(true);
    expect(
      await readServiceSignals(handle, {
        environment,
        stepSeconds: 60,
        fromMs: hour + 10 * 3_600_000,
        toMs: hour + 11 * 3_600_000,
      }),
    ).toEqual([]);
  });
});
