import { expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import { listChangeEvents, type NewChangeEvent, recordChangeEvent } from "./change-event-repository.ts";

const identityConfigPush: NewChangeEvent = {
  environment: "production",
  service: "identity",
  version: null,
  kind: "config",
  source: "api",
  startedAt: new Date("2026-11-27T10:05:00Z"),
  description: "session-validation: require audience claim",
  scope: { percentage: 100 },
  idempotencyKey: "api:identity:config:2026-11-27T10:05:00Z",
};

describeEachDatabase("change event repository", ({ db }) => {
  it("stores a change once per idempotency key and returns the first id on repeats", async () => {
    const first = await recordChangeEvent(db(), identityConfigPush);
    const repeat = await recordChangeEvent(db(), { ...identityConfigPush, description: "changed text" });
    expect(first.created).toBe(true);
    expect(repeat).toEqual({ id: first.id, created: false });

    const stored = await listChangeEvents(db(), {
      environment: "production",
      from: new Date("2026-11-27T10:00:00Z"),
      to: new Date("2026-11-27T11:00:00Z"),
    });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: first.id,
      kind: "config",
      description: "session-validation: require audience claim",
      scope: { percentage: 100 },
    });
  });

  it("lists changes by time range and service, oldest first", async () => {
    const at = (iso: string) => new Date(iso);
    for (const [service, startedAt] of [
      ["dm-api", "2026-11-28T09:00:00Z"],
      ["identity", "2026-11-28T08:00:00Z"],
      ["dm-api", "2026-11-28T07:00:00Z"],
      ["dm-api", "2026-11-28T12:00:00Z"],
    ] as const) {
      await recordChangeEvent(db(), {
        ...identityConfigPush,
        service,
        kind: "deploy",
        startedAt: at(startedAt),
        idempotencyKey: `${service}@${startedAt}`,
      });
    }
    const dmApi = await listChangeEvents(db(), {
      environment: "production",
      service: "dm-api",
      from: at("2026-11-28T00:00:00Z"),
      to: at("2026-11-28T12:00:00Z"),
    });
    expect(dmApi.map((change) => change.startedAt.toISOString())).toEqual([
      "2026-11-28T07:00:00.000Z",
      "2026-11-28T09:00:00.000Z",
    ]);
  });
});
