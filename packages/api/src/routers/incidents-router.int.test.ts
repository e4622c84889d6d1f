import { latencyBinKeyOf } from "@faultline/core";
import { type DbHandle, rebuildServiceBuckets, recordChangeEvent, saveIncident } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { TRPCError } from "@trpc/server";
import { expect, it } from "vitest";
import { appRouter } from "../app-router.ts";
import { createContext } from "../create-context.ts";
import { createCallerFactory } from "../trpc.ts";

const minute = 60_000;
const onset = Date.parse("2026-12-06T10:00:00Z");
const now = onset + 20 * minute;
const createCaller = createCallerFactory(appRouter);

/**
 * Entry spans of one service, 120 a minute, stored like ingest and the rollup fold leave them: raw 10 s
 * buckets and their 60 s and hourly rollups (the services' rollups follow from rebuildServiceBuckets
 * once all are seeded). A quarter fail from minute 0 when `failing`; the version changes from 1.0.0 to
 * 1.1.0 at minute 0.
 */
async function seedTraffic(db: DbHandle, service: string, failing: boolean) {
  for (const [version, from, to] of [
    ["1.0.0", -40, 0],
    ["1.1.0", 0, 20],
  ] as const) {
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO series (environment, service, operation, span_kind, destination, version)
       VALUES ('production', $1, 'POST /send', 'server', NULL, $2) RETURNING id`,
      [service, version],
    );
    const errors = failing && version === "1.1.0" ? 0.25 : 0;
    await db.query(
      `INSERT INTO series_buckets (series_id, step_seconds, bucket_start, spans, errors, duration_sum_ms,
         latency_bins, user_registers, folded_spans, folded_errors, folded_duration_sum_ms)
       SELECT $1, step.seconds, timestamptz 'epoch' + t * interval '1 millisecond', 2 * step.seconds,
         ($4::float8 * 2 * step.seconds)::bigint, 100 * step.seconds, jsonb_build_object($5::text, 2 * step.seconds), '{}',
         CASE WHEN step.seconds = 10 THEN 20 ELSE 0 END, CASE WHEN step.seconds = 10 THEN ($4::float8 * 20)::bigint ELSE 0 END,
         CASE WHEN step.seconds = 10 THEN 1000 ELSE 0 END
       FROM (VALUES (10), (60)) AS step(seconds),
         generate_series($2::bigint, $3::bigint - 1, step.seconds * 1000) AS t`,
      [row?.id, onset + from * minute, onset + to * minute, errors, latencyBinKeyOf(50)],
    );
    // The hourly rollup: each version's minutes fall in one hour (09:20–10:00, 10:00–10:20).
    const spans = 120 * (to - from);
    await db.query(
      `INSERT INTO series_buckets (series_id, step_seconds, bucket_start, spans, errors, duration_sum_ms,
         latency_bins, user_registers)
       VALUES ($1, 3600, date_trunc('hour', timestamptz 'epoch' + $2::bigint * interval '1 millisecond'), $3::bigint, $4,
         $3::bigint * 50, jsonb_build_object($5::text, $3::bigint), '{}')`,
      [row?.id, onset + from * minute, spans, Math.round(spans * errors), latencyBinKeyOf(50)],
    );
  }
}

describeEachDatabase("incidents, services and changes routers", ({ handle: db }) => {
  const caller = (user?: string) =>
    createCaller(
      createContext({
        db: db(),
        clock: () => now,
        config: { traceUrlTemplate: "https://jaeger.example/trace/{traceId}" },
        headers: user === undefined ? {} : { "x-faultline-user": encodeURIComponent(user) },
      }),
    );

  // One story for the whole block (the database is shared by its tests): seeded by the first that asks.
  let seeded: Promise<string> | undefined;
  const seed = () => {
    seeded ??= seedStory();
    return seeded;
  };
  const seedStory = async () => {
    await seedTraffic(db(), "dm-api", true);
    await seedTraffic(db(), "quiet", false);
    await rebuildServiceBuckets(db());
    const { id: changeId } = await recordChangeEvent(db().db, {
      environment: "production",
      service: "dm-api",
      version: "1.1.0",
      previousVersion: "1.0.0",
      kind: "deploy",
      source: "api",
      startedAt: new Date(onset - 10_000),
      idempotencyKey: "dm-api-1.1.0",
    });
    const base = {
      environment: "production",
      signal: "error_rate" as const,
      endedAtMs: null,
      surfaces: ["web", "ios"],
      events: [{ atMs: onset + 30_000, kind: "opened", message: "opened" }],
    };
    await saveIncident(db(), {
      ...base,
      id: "inc-big",
      title: "DMs failing",
      status: "open",
      severity: "sev1",
      rootService: "dm-api",
      startedAtMs: onset,
      detectedAtMs: onset + 30_000,
      services: ["dm-api"],
      affectedUsers: 12_000,
      causeChangeId: changeId,
      suspects: [{ changeId, score: 0.97, evidence: ["errors 25% on 1.1.0 vs 0% on 1.0.0"] }],
    });
    await saveIncident(db(), {
      ...base,
      id: "inc-small",
      title: "slow profile",
      status: "open",
      severity: "sev3",
      rootService: "quiet",
      startedAtMs: onset + 5 * minute,
      detectedAtMs: onset + 6 * minute,
      services: ["quiet"],
      affectedUsers: 3,
      causeChangeId: null,
      suspects: [],
    });
    return changeId;
  };

  it("lists incidents by impact with cause, time to detect, sparkline and change markers", async () => {
    const changeId = await seed();
    const { incidents } = await caller().incidents.list();
    expect(incidents.map((incident) => incident.id)).toEqual(["inc-big", "inc-small"]);
    const [big] = incidents;
    expect(big).toMatchObject({
      timeToDetectMs: 30_000,
      cause: { score: 0.97, change: { id: changeId, version: "1.1.0" } },
    });
    expect(big?.changes.map((change) => change.id)).toEqual([changeId]);
    const rates = big?.sparkline?.points.map((point) => point.errorRate) ?? [];
    expect(rates).toContain(0);
    expect(rates).toContain(0.25);
  });

  it("returns the timeline with the old version against the new and the incident window", async () => {
    await seed();
    const timeline = await caller().incidents.timeline({ id: "inc-big" });
    expect(timeline.incidentWindow).toEqual({ fromMs: onset, toMs: null });
    expect(timeline.services[0]?.points.length).toBeGreaterThan(10);
    expect(timeline.services[0]?.points.length).toBeLessThanOrEqual(1000);
    expect(timeline.versions?.series.map((one) => [one.version, one.isNew])).toEqual([
      ["1.0.0", false],
      ["1.1.0", true],
    ]);
    const newRates = timeline.versions?.series
      .find((one) => one.isNew)
      ?.points.map((point) => point.errorRate);
    expect(new Set(newRates)).toEqual(new Set([0.25]));
  });

  it("acts as the person named in the request header and refuses anonymous actions", async () => {
    await seed();
    await expect(caller().incidents.acknowledge({ id: "inc-big" })).rejects.toThrow(/who is acting/);
    const result = await caller("Zoë O'Neil").incidents.acknowledge({ id: "inc-big" });
    expect(result).toMatchObject({
      changed: true,
      incident: { status: "acknowledged", acknowledgedBy: "Zoë O'Neil" },
    });
    await caller("bo").incidents.addNote({ id: "inc-big", message: "rolled back", atMs: onset + 2 * minute });
    await caller("bo").incidents.setSeverity({ id: "inc-big", severity: "sev2" });
    const detail = await caller().incidents.get({ id: "inc-big" });
    expect(detail.incident).toMatchObject({ severity: "sev2", severitySetBy: "bo", status: "acknowledged" });
    expect(detail.events.map((event) => [event.kind, event.author])).toEqual([
      ["opened", null],
      ["note", "bo"],
      ["status_changed", "Zoë O'Neil"],
      ["severity_changed", "bo"],
    ]);
    await expect(caller("bo").incidents.addNote({ id: "inc-big", message: "   " })).rejects.toThrow(
      /note needs text/,
    );
    const missing = caller("bo").incidents.resolve({ id: "nope" });
    await expect(missing).rejects.toBeInstanceOf(TRPCError);
    await expect(missing).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("serves the health board and the changes list with error rates before and after", async () => {
    const changeId = await seed();
    const board = await caller().services.board({ range: "1h" });
    const byName = Object.fromEntries(board.services.map((row) => [row.service, row]));
    // The board reads minutes; its hour ends with the minute holding now, so it starts 39 minutes
    // before onset: 59 minutes of 120 spans, 600 of them failed (a quarter of the 20 since onset).
    expect(byName["dm-api"]?.errorRate).toBeCloseTo(600 / (59 * 120), 5);
    // One cell a minute, 09:21–10:20: clean before onset, a quarter failing after, none in the
    // minute holding now (no spans yet).
    const cells = byName["dm-api"]?.sparkline.values ?? [];
    expect(cells).toHaveLength(60);
    expect(cells.slice(0, 39)).toEqual(Array(39).fill(0));
    expect(cells.slice(39, 59)).toEqual(Array(20).fill(0.25));
    expect(cells.at(-1)).toBeNull();
    expect(byName.quiet?.errorRate).toBe(0);
    expect(byName["dm-api"]?.p95Ms).toBeCloseTo(50, -1);
    expect(board.changes.map((change) => change.id)).toEqual([changeId]);
    const { changes } = await caller().changes.list({ range: "24h", kind: "deploy" });
    expect(changes).toHaveLength(1);
    // After = the 90 buckets from the change (10 s before onset): one clean, 89 a quarter failing.
    expect(changes[0]).toMatchObject({ id: changeId, errorRateBefore: 0 });
    expect(changes[0]?.errorRateAfter).toBeCloseTo((0.25 * 89) / 90, 4);
    expect((await caller().changes.list({ range: "24h", kind: "config" })).changes).toEqual([]);
  });

  it("rejects malformed input with a client error", async () => {
    await expect(
      caller("bo").incidents.setSeverity({ id: "inc-big", severity: "sev9" as "sev1" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(caller().services.board({ range: "2h" as "1h" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });
});
