import { describe, expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import { recordChangeEvent } from "./change-event-repository.ts";
import { applyIncidentAction } from "./incident-actions.ts";
import { type IncidentRecord, saveIncident } from "./incident-repository.ts";
import { enqueueIncidentActionNotification, incidentChangeNotifications } from "./notification-outbox.ts";

const t0 = Date.parse("2026-12-06T10:00:00Z");

function incident(id: string, overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id,
    environment: "production",
    title: "identity errors",
    status: "open",
    severity: "sev3",
    signal: "error_rate",
    rootService: "identity",
    startedAtMs: t0,
    detectedAtMs: t0 + 20_000,
    endedAtMs: null,
    services: ["identity", "dm-api"],
    surfaces: ["web", "ios"],
    affectedUsers: 40,
    causeChangeId: null,
    suspects: [],
    events: [{ atMs: t0 + 20_000, kind: "opened", message: "opened" }],
    ...overrides,
  };
}

describe("incidentChangeNotifications", () => {
  const context = { detectedAtMs: 100, endedAtMs: null, events: [] };
  it("pages a new incident once as opened, and a de-escalation not at all", () => {
    expect(
      incidentChangeNotifications(null, { status: "open", severity: "sev2", causeChangeId: "c1" }, context),
    ).toEqual([{ kind: "opened", eventKey: "opened", eventAtMs: 100 }]);
    expect(
      incidentChangeNotifications(
        { status: "open", severity: "sev1", causeChangeId: null },
        { status: "open", severity: "sev2", causeChangeId: null },
        context,
      ),
    ).toEqual([]);
  });

  it("does not page a recovery of an incident a person already resolved", () => {
    expect(
      incidentChangeNotifications(
        { status: "resolved", severity: "sev2", causeChangeId: null },
        { status: "resolved", severity: "sev2", causeChangeId: null },
        { ...context, endedAtMs: 500 },
      ),
    ).toEqual([]);
  });

  it("takes each change's event time from the incident's timeline", () => {
    const changes = incidentChangeNotifications(
      { status: "open", severity: "sev3", causeChangeId: null },
      { status: "open", severity: "sev1", causeChangeId: "config-push" },
      {
        detectedAtMs: 100,
        endedAtMs: null,
        events: [
          { atMs: 300, kind: "severity_changed" },
          { atMs: 200, kind: "suspects_changed" },
          { atMs: 250, kind: "suspects_changed" },
        ],
      },
    );
    expect(changes).toEqual([
      { kind: "escalated", eventKey: "severity:sev1", eventAtMs: 300 },
      { kind: "cause_changed", eventKey: "cause:config-push", eventAtMs: 250 },
    ]);
  });
});

describeEachDatabase("notification outbox", ({ handle, db }) => {
  const outbox = (incidentId: string) =>
    handle().query<{ kind: string; event_key: string; event_ms: number; snapshot: Record<string, unknown> }>(
      `SELECT kind, event_key, (extract(epoch FROM event_at) * 1000)::float8 AS event_ms, snapshot
       FROM notification_events WHERE incident_id = $1 ORDER BY id`,
      [incidentId],
    );

  it("records opened, escalation, cause found and resolved in the save that made each change, once each", async () => {
    const change = await recordChangeEvent(db(), {
      environment: "production",
      service: "identity",
      kind: "config",
      source: "api",
      startedAt: new Date(t0 - 60_000),
      description: "session TTL config push",
      idempotencyKey: "identity-config-push",
    });
    await saveIncident(handle(), incident("inc-a"));
    await saveIncident(handle(), incident("inc-a", { affectedUsers: 50 }));
    expect((await outbox("inc-a")).map((row) => row.event_key)).toEqual(["opened"]);

    const escalated = incident("inc-a", {
      severity: "sev1",
      causeChangeId: change.id,
      suspects: [{ changeId: change.id, score: 0.9, evidence: ["errors began 60 s after the push"] }],
      events: [
        { atMs: t0 + 20_000, kind: "opened", message: "opened" },
        { atMs: t0 + 40_000, kind: "severity_changed", message: "sev3 → sev1" },
        { atMs: t0 + 30_000, kind: "suspects_changed", message: "top suspect" },
      ],
    });
    await saveIncident(handle(), escalated);
    await saveIncident(handle(), { ...escalated, affectedUsers: 60 });
    await saveIncident(handle(), { ...escalated, status: "resolved", endedAtMs: t0 + 600_000 });
    const rows = await outbox("inc-a");
    expect(rows.map((row) => [row.kind, row.event_key, row.event_ms])).toEqual([
      ["opened", "opened", t0 + 20_000],
      ["escalated", "severity:sev1", t0 + 40_000],
      ["cause_changed", `cause:${change.id}`, t0 + 30_000],
      ["resolved", `resolved@${t0 + 600_000}`, t0 + 600_000],
    ]);
    expect(rows[2]?.snapshot).toMatchObject({
      severity: "sev1",
      rootService: "identity",
      surfaces: ["web", "ios"],
      cause: { changeId: change.id, kind: "config", evidence: ["errors began 60 s after the push"] },
      topSuspect: { changeId: change.id },
    });
    expect(rows[0]?.snapshot).toMatchObject({ severity: "sev3", cause: null, topSuspect: null });
  });

  it("rolls the page back with a change that fails", async () => {
    await expect(
      saveIncident(handle(), {
        ...incident("inc-b"),
        // A non-finite time makes the timeline insert fail after the incident row was written.
        events: [{ atMs: Number.NaN, kind: "opened", message: "x" }],
      }),
    ).rejects.toThrow();
    expect(await outbox("inc-b")).toEqual([]);
  });

  it("records a person's acknowledgement inside their transaction, once per action", async () => {
    await saveIncident(handle(), incident("inc-c"));
    const action = { incidentId: "inc-c", action: "acknowledged" as const, actor: "ana", atMs: t0 + 90_000 };
    await handle().transaction((query) => enqueueIncidentActionNotification(query, action));
    await handle().transaction((query) => enqueueIncidentActionNotification(query, action));
    const rows = await outbox("inc-c");
    expect(rows.map((row) => row.kind)).toEqual(["opened", "acknowledged"]);
  });

  it("pages a person's acknowledge and resolve from the UI, and nothing for an action that changes nothing", async () => {
    await saveIncident(handle(), incident("inc-d"));
    const act = (kind: "acknowledge" | "resolve", nowMs: number) =>
      applyIncidentAction(handle(), { incidentId: "inc-d", actor: "ana", nowMs, action: { kind } });
    await act("acknowledge", t0 + 60_000);
    await act("acknowledge", t0 + 61_000);
    await act("resolve", t0 + 120_000);
    const rows = await outbox("inc-d");
    expect(rows.map((row) => [row.kind, row.event_ms])).toEqual([
      ["opened", t0 + 20_000],
      ["acknowledged", t0 + 60_000],
      ["resolved", t0 + 120_000],
    ]);
    expect(rows[1]?.snapshot).toMatchObject({ status: "acknowledged", acknowledgedBy: "ana" });
    // Detection later seeing the recovery does not page again: people already see it resolved.
    await saveIncident(handle(), { ...incident("inc-d"), status: "resolved", endedAtMs: t0 + 300_000 });
    expect(await outbox("inc-d")).toHaveLength(3);
  });
});
