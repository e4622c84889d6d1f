import { describe, expect, it } from "vitest";
import {
  type ExistingChangeEvent,
  type InstanceVersionSighting,
  inferVersionChanges,
  type VersionChangeAction,
} from "./infer-version-changes.ts";

const t0 = Date.parse("2026-11-27T10:00:00Z");
const sec = 1000;
const min = 60 * sec;
const threshold = 2 * min;

/** A fleet simulator: instances report their version every 10 s while they run. */
class Fleet {
  private readonly rows = new Map<string, InstanceVersionSighting>();

  run(instanceId: string, version: string, fromMs: number, toMs: number): this {
    for (let at = fromMs; at <= toMs; at += 10 * sec) this.see(instanceId, version, at);
    return this;
  }

  see(instanceId: string, version: string, atMs: number): void {
    const key = `${instanceId}\u0000${version}`;
    const row = this.rows.get(key);
    if (row) row.lastSeenMs = Math.max(row.lastSeenMs, atMs);
    else {
      this.rows.set(key, {
        environment: "production",
        service: "dm-api",
        instanceId,
        version,
        firstSeenMs: atMs,
        lastSeenMs: atMs,
      });
    }
  }

  /** The rows as the database would hold them at `nowMs` (nothing reported after it). */
  at(nowMs: number): InstanceVersionSighting[] {
    return [...this.rows.values()]
      .filter((row) => row.firstSeenMs <= nowMs)
      .map((row) => ({ ...row, lastSeenMs: Math.min(row.lastSeenMs, nowMs) }));
  }
}

/** Plays the pipeline: calls the inference every `stepMs` and applies its actions to a store. */
function replay(
  fleet: Fleet,
  untilMs: number,
  options: { stepMs?: number; existing?: ExistingChangeEvent[] } = {},
): { store: ExistingChangeEvent[]; actions: VersionChangeAction[] } {
  const store: ExistingChangeEvent[] = [...(options.existing ?? [])];
  const all: VersionChangeAction[] = [];
  for (let now = t0; now <= untilMs; now += options.stepMs ?? 10 * sec) {
    const actions = inferVersionChanges({
      environment: "production",
      service: "dm-api",
      sightings: fleet.at(now),
      existing: store,
      nowMs: now,
      idleThresholdMs: threshold,
    });
    all.push(...actions);
    for (const action of actions) {
      if (action.type === "create") {
        const c = action.change;
        store.push({
          id: action.change.idempotencyKey,
          kind: c.kind,
          source: "telemetry",
          version: c.version,
          previousVersion: c.previousVersion,
          startedAtMs: c.startedAtMs,
          finishedAtMs: c.finishedAtMs,
          progress: c.progress,
        });
        continue;
      }
      const event = store.find((e) => e.id === action.id);
      if (!event) throw new Error(`update of unknown event ${action.id}`);
      Object.assign(event, action.set);
    }
  }
  return { store, actions: all };
}

describe("inferVersionChanges", () => {
  it("turns a rollout over a few minutes into exactly one deploy with start, finish and progress", () => {
    const fleet = new Fleet();
    // Four instances on 1.0; from minute 10 one new pod on 1.1 per minute replaces one old pod.
    for (let i = 0; i < 4; i++) {
      fleet.run(`old-${i}`, "1.0", t0, t0 + 10 * min + i * min);
      fleet.run(`new-${i}`, "1.1", t0 + 10 * min + i * min, t0 + 30 * min);
    }
    const midway = replay(fleet, t0 + 11 * min + 30 * sec);
    expect(midway.store).toHaveLength(1);
    expect(midway.store[0]).toMatchObject({ version: "1.1", finishedAtMs: null });
    // old-0 is gone by now but within the idle threshold, so 2 of 6 live instances run 1.1 (newest).
    expect(midway.store[0]?.progress).toBeCloseTo(2 / 6, 3);

    const { store, actions } = replay(fleet, t0 + 30 * min);
    expect(actions.filter((a) => a.type === "create")).toHaveLength(1);
    expect(store).toEqual([
      {
        id: `telemetry:production:dm-api:1.1:${t0 + 10 * min}`,
        kind: "deploy",
        source: "telemetry",
        version: "1.1",
        previousVersion: "1.0",
        startedAtMs: t0 + 10 * min,
        finishedAtMs: t0 + 13 * min,
        progress: 1,
      },
    ]);
  });

  it("is idempotent: a repeat call with the stored result returns no actions", () => {
    const fleet = new Fleet().run("a", "1.0", t0, t0 + 5 * min).run("b", "1.1", t0 + 5 * min, t0 + 20 * min);
    const { store } = replay(fleet, t0 + 20 * min);
    expect(
      inferVersionChanges({
        environment: "production",
        service: "dm-api",
        sightings: fleet.at(t0 + 20 * min),
        existing: store,
        nowMs: t0 + 20 * min,
        idleThresholdMs: threshold,
      }),
    ).toEqual([]);
  });

  it("reports a canary on 1 of 12 instances as an unfinished deploy at 1/12 progress", () => {
    const fleet = new Fleet();
    for (let i = 0; i < 11; i++) fleet.run(`pod-${i}`, "2.0", t0, t0 + 30 * min);
    fleet.run("pod-11", "2.0", t0, t0 + 5 * min);
    fleet.run("canary", "2.1", t0 + 5 * min, t0 + 30 * min);
    const { store } = replay(fleet, t0 + 30 * min, { stepMs: min });
    expect(store).toHaveLength(1);
    expect(store[0]).toMatchObject({
      kind: "deploy",
      version: "2.1",
      previousVersion: "2.0",
      finishedAtMs: null,
    });
    expect(store[0]?.progress).toBeCloseTo(1 / 12, 4);
  });

  it("finishes a withdrawn canary at its last sighting with the share it reached", () => {
    const fleet = new Fleet();
    for (let i = 0; i < 3; i++) fleet.run(`pod-${i}`, "2.0", t0, t0 + 30 * min);
    fleet.run("canary", "2.1", t0 + 5 * min, t0 + 10 * min);
    const { store } = replay(fleet, t0 + 30 * min, { stepMs: min });
    expect(store).toEqual([
      expect.objectContaining({ version: "2.1", finishedAtMs: t0 + 10 * min, progress: 0.25 }),
    ]);
  });

  it("recognizes a return to a previously running version as a rollback", () => {
    const fleet = new Fleet();
    fleet.run("a-1", "1.0", t0, t0 + 10 * min).run("a-2", "1.0", t0, t0 + 10 * min);
    fleet.run("b-1", "1.1", t0 + 9 * min, t0 + 20 * min).run("b-2", "1.1", t0 + 9 * min, t0 + 20 * min);
    fleet.run("c-1", "1.0", t0 + 19 * min, t0 + 40 * min).run("c-2", "1.0", t0 + 19 * min, t0 + 40 * min);
    const { store } = replay(fleet, t0 + 40 * min, { stepMs: 30 * sec });
    expect(
      store.map(({ kind, version, previousVersion, startedAtMs, finishedAtMs, progress }) => ({
        kind,
        version,
        previousVersion,
        startedAtMs,
        finishedAtMs,
        progress,
      })),
    ).toEqual([
      {
        kind: "deploy",
        version: "1.1",
        previousVersion: "1.0",
        startedAtMs: t0 + 9 * min,
        finishedAtMs: t0 + 10 * min,
        progress: 1,
      },
      {
        kind: "rollback",
        version: "1.0",
        previousVersion: "1.1",
        startedAtMs: t0 + 19 * min,
        finishedAtMs: t0 + 20 * min,
        progress: 1,
      },
    ]);
  });

  it("merges with a reported deploy of the same version instead of duplicating it", () => {
    const fleet = new Fleet().run("a", "1.0", t0, t0 + 6 * min).run("b", "1.1", t0 + 5 * min, t0 + 20 * min);
    const reported: ExistingChangeEvent = {
      id: "chg_reported",
      kind: "deploy",
      source: "api",
      version: "1.1",
      previousVersion: null,
      startedAtMs: t0 + 4 * min + 30 * sec,
      finishedAtMs: null,
      progress: null,
    };
    const { store, actions } = replay(fleet, t0 + 20 * min, { stepMs: min, existing: [reported] });
    expect(actions.some((a) => a.type === "create")).toBe(false);
    expect(store).toEqual([{ ...reported, previousVersion: "1.0", finishedAtMs: t0 + 6 * min, progress: 1 }]);
  });

  it("keeps what a report says and never merges a config change carrying the running version", () => {
    const fleet = new Fleet().run("a", "1.0", t0, t0 + 6 * min).run("b", "1.1", t0 + 5 * min, t0 + 20 * min);
    const config: ExistingChangeEvent = {
      id: "chg_config",
      kind: "config",
      source: "api",
      version: "1.1",
      previousVersion: null,
      startedAtMs: t0 + 5 * min,
      finishedAtMs: null,
      progress: null,
    };
    const finishedReport: ExistingChangeEvent = {
      ...config,
      id: "chg_deploy",
      kind: "deploy",
      source: "webhook",
      previousVersion: "0.9",
      finishedAtMs: t0 + 7 * min,
      progress: 0.5,
    };
    const actions = inferVersionChanges({
      environment: "production",
      service: "dm-api",
      sightings: fleet.at(t0 + 20 * min),
      existing: [config, finishedReport],
      nowMs: t0 + 20 * min,
      idleThresholdMs: threshold,
    });
    expect(actions).toEqual([]);
    const withoutDeploy = inferVersionChanges({
      environment: "production",
      service: "dm-api",
      sightings: fleet.at(t0 + 20 * min),
      existing: [config],
      nowMs: t0 + 20 * min,
      idleThresholdMs: threshold,
    });
    expect(withoutDeploy).toHaveLength(1);
    expect(withoutDeploy[0]?.type).toBe("create");
  });

  it("creates nothing for an idle service coming back on the same version, a deploy on a new one", () => {
    const same = new Fleet().run("a", "1.0", t0, t0 + 5 * min).run("b", "1.0", t0 + 60 * min, t0 + 70 * min);
    expect(replay(same, t0 + 70 * min, { stepMs: min }).store).toEqual([]);

    const changed = new Fleet()
      .run("a", "1.0", t0, t0 + 5 * min)
      .run("b", "1.1", t0 + 60 * min, t0 + 70 * min);
    expect(replay(changed, t0 + 70 * min, { stepMs: min }).store).toEqual([
      expect.objectContaining({
        kind: "deploy",
        version: "1.1",
        previousVersion: "1.0",
        startedAtMs: t0 + 60 * min,
        finishedAtMs: t0 + 60 * min,
        progress: 1,
      }),
    ]);
  });

  it("does not take the versions already running when watching starts, or missing versions, for a deploy", () => {
    const fleet = new Fleet().run("a", "1.0", t0, t0 + 10 * min).run("b", "0.9", t0, t0 + 10 * min);
    fleet.run("c", "", t0 + 3 * min, t0 + 10 * min);
    expect(replay(fleet, t0 + 10 * min, { stepMs: min }).store).toEqual([]);
  });

  it("does not finish a rollout just because the whole service went quiet", () => {
    const fleet = new Fleet().run("a", "1.0", t0, t0 + 10 * min).run("b", "1.1", t0 + 5 * min, t0 + 10 * min);
    const { store } = replay(fleet, t0 + 60 * min, { stepMs: min });
    expect(store).toEqual([expect.objectContaining({ version: "1.1", finishedAtMs: null, progress: 0.5 })]);
  });

  it("gives the same answer whatever the order of its input, and ignores other services", () => {
    const fleet = new Fleet();
    for (let i = 0; i < 5; i++) {
      fleet.run(`o${i}`, "1.0", t0, t0 + (10 + i) * min);
      fleet.run(`n${i}`, "1.1", t0 + (10 + i) * min, t0 + 30 * min);
    }
    const rows = fleet.at(t0 + 30 * min);
    const noise: InstanceVersionSighting = {
      ...(rows[0] as InstanceVersionSighting),
      service: "other",
      version: "9",
    };
    const run = (sightings: InstanceVersionSighting[]) =>
      inferVersionChanges({
        environment: "production",
        service: "dm-api",
        sightings,
        existing: [],
        nowMs: t0 + 30 * min,
        idleThresholdMs: threshold,
      });
    const forward = run(rows);
    expect(run([...rows].reverse().concat(noise))).toEqual(forward);
    expect(forward).toHaveLength(1);
  });
});
