import { expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import { type IncidentRecord, listIncidents, saveIncident } from "./incident-repository.ts";

const detected: IncidentRecord = {
  id: "inc-identity-1",
  environment: "production",
  title: "identity errors",
  status: "open",
  severity: "sev2",
  signal: "error_rate",
  rootService: "identity",
  startedAtMs: Date.parse("2026-12-06T10:00:00Z"),
  detectedAtMs: Date.parse("2026-12-06T10:00:20Z"),
  endedAtMs: null,
  services: ["identity", "dm-api"],
  surfaces: ["web"],
  affectedUsers: 40,
  causeChangeId: null,
  suspects: [],
  events: [{ atMs: Date.parse("2026-12-06T10:00:20Z"), kind: "opened", message: "opened" }],
};
const window = {
  environment: "production",
  fromMs: Date.parse("2026-12-06T00:00:00Z"),
  toMs: Date.parse("2026-12-07T00:00:00Z"),
};

describeEachDatabase("saveIncident and what people set", ({ handle: db }) => {
  const setByPerson = (column: "status" | "severity", value: string) =>
    db().query(`UPDATE incidents SET ${column} = $1, ${column}_set_by = 'ana' WHERE id = $2`, [
      value,
      detected.id,
    ]);
  const stored = async () => {
    const [incident] = await listIncidents(db(), window);
    return incident;
  };

  it("keeps an acknowledgement while detection still sees the incident open, and resolves it on recovery", async () => {
    await saveIncident(db(), detected);
    await setByPerson("status", "acknowledged");
    await saveIncident(db(), { ...detected, affectedUsers: 90 });
    expect(await stored()).toMatchObject({ status: "acknowledged", affectedUsers: 90 });
    await saveIncident(db(), {
      ...detected,
      status: "resolved",
      endedAtMs: Date.parse("2026-12-06T10:20:00Z"),
    });
    expect((await stored())?.status).toBe("resolved");
  });

  it("reopens an incident a person resolved when detection sees the failure flare up again", async () => {
    await saveIncident(db(), { ...detected, id: "inc-2" });
    await db().query("UPDATE incidents SET status = 'resolved', status_set_by = 'ana' WHERE id = 'inc-2'");
    await saveIncident(db(), { ...detected, id: "inc-2", affectedUsers: 50 });
    const afterSameView = await listIncidents(db(), window);
    expect(afterSameView.find((incident) => incident.id === "inc-2")?.status).toBe("resolved");
    await saveIncident(db(), {
      ...detected,
      id: "inc-2",
      status: "resolved",
      endedAtMs: detected.startedAtMs + 60_000,
    });
    await saveIncident(db(), { ...detected, id: "inc-2", status: "open" });
    const reopened = await listIncidents(db(), window);
    expect(reopened.find((incident) => incident.id === "inc-2")?.status).toBe("open");
  });

  it("never changes a severity a person set", async () => {
    await saveIncident(db(), { ...detected, id: "inc-3" });
    await db().query("UPDATE incidents SET severity = 'sev1', severity_set_by = 'ana' WHERE id = 'inc-3'");
    await saveIncident(db(), { ...detected, id: "inc-3", severity: "sev3" });
    const incidents = await listIncidents(db(), window);
    expect(incidents.find((incident) => incident.id === "inc-3")?.severity).toBe("sev1");
  });
});
