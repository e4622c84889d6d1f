import { expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import { listChangeEvents, type NewChangeEvent, recordChangeEvent } from "./change-event-repository.ts";
import { updateChangeEvent } from "./update-change-event.ts";

const startedDeploy: NewChangeEvent = {
  environment: "production",
  service: "dm-api",
  version: "3.42.0",
  kind: "deploy",
  source: "webhook",
  startedAt: new Date("2026-11-27T10:00:00Z"),
  idempotencyKey: "github:acme/dm-api:deployment:1",
};

describeEachDatabase("updateChangeEvent", ({ db }) => {
  it("marks a started change finished once; a later finish does not overwrite the first", async () => {
    const { id } = await recordChangeEvent(db(), startedDeploy);
    const first = await updateChangeEvent(
      db(),
      { idempotencyKey: startedDeploy.idempotencyKey },
      { finishedAt: new Date("2026-11-27T10:04:00Z"), outcome: "failure" },
      { onlyIfUnfinished: true },
    );
    const second = await updateChangeEvent(
      db(),
      { idempotencyKey: startedDeploy.idempotencyKey },
      { finishedAt: new Date("2026-11-27T10:09:00Z"), outcome: "success" },
      { onlyIfUnfinished: true },
    );
    expect(first).toEqual({ id, updated: true });
    expect(second).toEqual({ id, updated: false });
    const [stored] = await listChangeEvents(db(), {
      environment: "production",
      from: new Date("2026-11-27T00:00:00Z"),
      to: new Date("2026-11-28T00:00:00Z"),
    });
    expect(stored).toMatchObject({ finishedAt: new Date("2026-11-27T10:04:00Z"), outcome: "failure" });
  });

  it("updates by id and answers null for an unknown target", async () => {
    const { id } = await recordChangeEvent(db(), { ...startedDeploy, idempotencyKey: "telemetry:x" });
    const updated = await updateChangeEvent(
      db(),
      { id },
      { previousVersion: "3.41.0", scope: { percentage: 50 } },
    );
    expect(updated).toEqual({ id, updated: true });
    expect(await updateChangeEvent(db(), { id: "chg_missing" }, { previousVersion: "1" })).toBeNull();
    expect(await updateChangeEvent(db(), { idempotencyKey: "nope" }, {})).toBeNull();
  });
});
