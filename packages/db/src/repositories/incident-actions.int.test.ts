import { expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import { applyIncidentAction } from "./incident-actions.ts";
import { type IncidentRecord, saveIncident } from "./incident-repository.ts";

const t0 = Date.parse("2026-12-06T10:00:00Z");
const detected: IncidentRecord = {
  id: "inc-1",
  environment: "production",
  title: "identity errors",
  status: "open",
  severity: "sev2",
  signal: "error_rate",
  rootService: "identity",
  startedAtMs: t0,
  detectedAtMs: t0 + 20_000,
  endedAtMs: null,
  services: ["identity"],
  surfaces: ["web"],
  affectedUsers: 40,
  causeChangeId: null,
  suspects: [],
  events: [{ atMs: t0 + 20_000, kind: "opened", message: "opened" }],
};

describeEachDatabase("applyIncidentAction", ({ handle: db }) => {
  const events = (id: string) =>
    db().query<{ kind: string; message: string; author: string | null; at_ms: number }>(
      `SELECT kind, message, author, (extract(epoch FROM at) * 1000)::float8 AS at_ms FROM incident_events
       WHERE incident_id = $1 ORDER BY at, id`,
      [id],
    );
  const act = (
    id: string,
    action: Parameters<typeof applyIncidentAction>[1]["action"],
    actor = "ana",
    nowMs = t0 + 60_000,
  ) => applyIncidentAction(db(), { incidentId: id, actor, nowMs, action });

  it("acknowledges once, recording who and when in the row and as an authored event", async () => {
    await saveIncident(db(), detected);
    const first = await act("inc-1", { kind: "acknowledge" });
    expect(first).toMatchObject({
      outcome: "applied",
      incident: {
        status: "acknowledged",
        statusSetBy: "ana",
        acknowledgedBy: "ana",
        acknowledgedAtMs: t0 + 60_000,
      },
    });
    const again = await act("inc-1", { kind: "acknowledge" }, "bo");
    expect(again).toMatchObject({ outcome: "unchanged", incident: { acknowledgedBy: "ana" } });
    const written = await events("inc-1");
    expect(written.filter((event) => event.author !== null)).toEqual([
      { kind: "status_changed", message: "Acknowledged by ana", author: "ana", at_ms: t0 + 60_000 },
    ]);
  });

  it("keeps person-owned fields and notes when detection saves its view again", async () => {
    await saveIncident(db(), { ...detected, id: "inc-2" });
    await act("inc-2", { kind: "set_severity", severity: "sev1" });
    await act("inc-2", { kind: "assign", assignee: "bo" });
    await act("inc-2", { kind: "note", message: "restarted identity pods", atMs: t0 + 30_000 });
    await saveIncident(db(), { ...detected, id: "inc-2", severity: "sev3", affectedUsers: 80 });
    const [row] = await db().query<{ severity: string; severity_set_by: string; assignee: string }>(
      "SELECT severity, severity_set_by, assignee FROM incidents WHERE id = 'inc-2'",
    );
    expect(row).toEqual({ severity: "sev1", severity_set_by: "ana", assignee: "bo" });
    const written = await events("inc-2");
    // The note backdated to +30 s sits between detection's "opened" (+20 s) and the later actions.
    expect(written.map((event) => [event.kind, event.author])).toEqual([
      ["opened", null],
      ["note", "ana"],
      ["severity_changed", "ana"],
      ["assigned", "ana"],
    ]);
    expect(written[1]).toMatchObject({ message: "restarted identity pods", at_ms: t0 + 30_000 });
  });

  it("resolves and reopens, but refuses to acknowledge a resolved incident", async () => {
    await saveIncident(db(), { ...detected, id: "inc-3" });
    expect(await act("inc-3", { kind: "resolve" })).toMatchObject({
      incident: { status: "resolved", statusSetBy: "ana" },
    });
    expect(await act("inc-3", { kind: "acknowledge" })).toEqual({
      outcome: "rejected",
      reason: "the incident is resolved; reopen it first",
    });
    expect(await act("inc-3", { kind: "set_status", status: "open" })).toMatchObject({
      incident: { status: "open" },
    });
    expect((await events("inc-3")).map((event) => event.message).slice(1)).toEqual([
      "Resolved by ana",
      "Reopened by ana",
    ]);
  });

  it("rejects anonymous actions, empty or future notes, and unknown incidents without writing", async () => {
    await saveIncident(db(), { ...detected, id: "inc-4" });
    expect(await act("inc-4", { kind: "acknowledge" }, "  ")).toMatchObject({ outcome: "rejected" });
    expect(await act("inc-4", { kind: "note", message: "   " })).toMatchObject({ outcome: "rejected" });
    expect(await act("inc-4", { kind: "note", message: "later", atMs: t0 + 3_600_000 })).toMatchObject({
      outcome: "rejected",
    });
    expect(await act("missing", { kind: "acknowledge" })).toEqual({ outcome: "not_found" });
    expect(await events("inc-4")).toHaveLength(1);
  });
});
