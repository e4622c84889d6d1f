import { makeResource, makeSpan } from "@faultline/core/testing";
import { type DbHandle, listIncidents, recordChangeEvent } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import type { NormalizedSpan } from "@faultline/otlp";
import { expect, it } from "vitest";
import { IngestPipeline } from "../pipeline/ingest-pipeline.ts";
import { silentLogger } from "../receivers/ingest-logger.ts";
import { DetectionRunner } from "./detection-runner.ts";

// The runner between a real ingest pipeline and a real database: committed aggregates reach the
// engine, incidents are stored, and the stored incidents follow the engine's even when a write fails
// or a change is reported late. Event time is replayed history; the runner's wall clock is driven here.

const minute = 60_000;
const wallStartMs = Date.parse("2026-11-27T12:00:00Z");
const historyStartMs = wallStartMs - 3 * 3_600_000;
const deployAtMs = historyStartMs + 8 * minute;
const withdrawnAtMs = deployAtMs + 4 * minute;
const endMs = withdrawnAtMs + 6 * minute;

let spanSerial = 0;

/**
 * dm-api on four instances, 5 requests a second each; 1 request in 100 fails. From `deployAtMs` to
 * `withdrawnAtMs`, with a canary, instance 1 runs 2.0.0 and fails every other request; with a config
 * push, every instance fails one request in five on the version it ran before.
 */
function dmApiSpans(
  environment: string,
  fault: "canary" | "config",
  fromMs: number,
  toMs: number,
): NormalizedSpan[] {
  const spans: NormalizedSpan[] = [];
  for (let atMs = fromMs; atMs < toMs; atMs += 200) {
    for (let instance = 1; instance <= 4; instance += 1) {
      spanSerial += 1;
      const faulty = atMs >= deployAtMs && atMs < withdrawnAtMs;
      const canary = fault === "canary" && faulty && instance === 1;
      const request = Math.round((atMs - historyStartMs) / 200);
      const failed = canary
        ? request % 2 === 0
        : fault === "config" && faulty
          ? (request + instance) % 5 === 0
          : (request + 29 * instance) % 100 === 0;
      spans.push(
        makeSpan({
          resource: makeResource({
            serviceName: "dm-api",
            serviceVersion: canary ? "2.0.0" : "1.0.0",
            serviceInstanceId: `dm-api-${instance}`,
            environment,
          }),
          traceId: spanSerial.toString(16).padStart(32, "0"),
          startTimeMs: atMs,
          statusCode: failed ? "error" : "unset",
          statusMessage: failed ? "message store unavailable" : null,
          attributes: {
            httpMethod: "POST",
            httpRoute: "/v1/dm/messages",
            httpStatusCode: failed ? 500 : 200,
            errorType: failed ? "500" : null,
            userId: `u${spanSerial % 300}`,
          },
        }),
      );
    }
  }
  return spans;
}

/** A pipeline feeding a runner whose wall clock the test moves; ticks only when the test says so. */
function detectionBeside(db: DbHandle) {
  const clock = { nowMs: wallStartMs };
  const errors: string[] = [];
  const runner = new DetectionRunner({
    db,
    clock: () => clock.nowMs,
    tickMs: 3_600_000,
    logger: { ...silentLogger, error: (_obj, msg) => errors.push(msg ?? "") },
  });
  const pipeline = new IngestPipeline({
    db,
    clock: () => clock.nowMs,
    onCommitted: (batch) => runner.observe(batch),
  });
  return {
    runner,
    errors,
    /**
     * Sends the story 10 s of event time at a time, a detection step after each, then goes quiet. In
     * the slices `pausedIn` picks, instance 1's spans come in a second request after the sender
     * stalled for 5 s, as one exporter of a fleet can lag the others on a loaded machine.
     */
    async replay(environment: string, fault: "canary" | "config", pausedIn = (_fromMs: number) => false) {
      for (let fromMs = historyStartMs; fromMs < endMs; fromMs += 10_000) {
        const spans = dmApiSpans(environment, fault, fromMs, fromMs + 10_000);
        const paused = pausedIn(fromMs);
        const lagging = spans.filter((span) => paused && span.resource.serviceInstanceId === "dm-api-1");
        const first = await pipeline.exportSpans(spans.filter((span) => !lagging.includes(span)));
        expect(first.status).toBe("accepted");
        if (lagging.length > 0) {
          clock.nowMs += 5_000;
          await runner.tick();
          expect((await pipeline.exportSpans(lagging)).status).toBe("accepted");
        }
        clock.nowMs += 100;
        await runner.tick();
      }
      await this.quietTick();
    },
    /** A step after the sender has been quiet for longer than detection waits before closing everything. */
    async quietTick() {
      clock.nowMs += 20_000;
      await runner.tick();
    },
    async close() {
      await pipeline.close();
      await runner.close();
    },
  };
}

function recordDeploy(db: DbHandle, environment: string) {
  return recordChangeEvent(db.db, {
    environment,
    service: "dm-api",
    version: "2.0.0",
    previousVersion: "1.0.0",
    kind: "deploy",
    source: "api",
    startedAt: new Date(deployAtMs),
    finishedAt: null,
    scope: { percentage: 25 },
    description: "dm-api 2.0.0 canary",
    idempotencyKey: `test:${environment}:dm-api:2.0.0`,
  });
}

/** A config push carries no new version: telemetry cannot infer it, only a report names it. */
function recordConfigPush(db: DbHandle, environment: string) {
  return recordChangeEvent(db.db, {
    environment,
    service: "dm-api",
    version: null,
    previousVersion: null,
    kind: "config",
    source: "webhook",
    startedAt: new Date(deployAtMs - 5_000),
    finishedAt: null,
    scope: null,
    description: "message store pool size 64 → 4",
    idempotencyKey: `test:${environment}:dm-api:config`,
  });
}

const storedIncidents = (db: DbHandle, environment: string) =>
  listIncidents(db, { environment, fromMs: historyStartMs, toMs: endMs + 3_600_000 });

describeEachDatabase("DetectionRunner", ({ handle }) => {
  it("stores the incident and its cause from the deploy reported before the canary", async () => {
    const { id: deployId } = await recordDeploy(handle(), "reported");
    const detection = detectionBeside(handle());
    await detection.replay("reported", "canary");
    const incidents = await storedIncidents(handle(), "reported");
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      rootService: "dm-api",
      status: "resolved",
      causeChangeId: deployId,
    });
    expect(detection.errors).toEqual([]);
    await detection.close();
  });

  it("keeps the newest bucket open while the sender pauses, so spans sent after the pause still count", async () => {
    await recordDeploy(handle(), "steady");
    const steady = detectionBeside(handle());
    await steady.replay("steady", "canary");
    await steady.close();
    const reference = await storedIncidents(handle(), "steady");
    expect(reference).toHaveLength(1);
    await recordDeploy(handle(), "paused");
    const detection = detectionBeside(handle());
    // The canary's first half minute arrives late every time: closing its buckets in the pause would
    // hide its errors and move the onset.
    await detection.replay(
      "paused",
      "canary",
      (fromMs) => fromMs >= deployAtMs && fromMs < deployAtMs + 30_000,
    );
    const paused = await storedIncidents(handle(), "paused");
    expect(paused).toHaveLength(1);
    const outcome = (incident: (typeof paused)[number] | undefined) => ({
      startedAtMs: incident?.startedAtMs,
      endedAtMs: incident?.endedAtMs,
      status: incident?.status,
      affectedUsers: incident?.affectedUsers,
      suspects: incident?.suspects.map((suspect) => suspect.score),
    });
    expect(outcome(paused[0])).toEqual(outcome(reference[0]));
    expect(paused[0]?.startedAtMs).toBe(deployAtMs);
    await detection.close();
  });

  it("stores what detection found while incident writes failed, once they succeed again", async () => {
    const { id: deployId } = await recordDeploy(handle(), "refused");
    // A real failure of the database, not of a stand-in: every write to incidents raises.
    await handle().query(
      `CREATE FUNCTION refuse_incident_writes() RETURNS trigger LANGUAGE plpgsql
       AS $$ BEGIN RAISE EXCEPTION 'incident writes refused by the test'; END $$`,
    );
    await handle().query(
      `CREATE TRIGGER refuse_incident_writes BEFORE INSERT OR UPDATE ON incidents
       FOR EACH ROW EXECUTE FUNCTION refuse_incident_writes()`,
    );
    const detection = detectionBeside(handle());
    try {
      await detection.replay("refused", "canary");
    } finally {
      await handle().query("DROP TRIGGER refuse_incident_writes ON incidents");
      await handle().query("DROP FUNCTION refuse_incident_writes()");
    }
    expect(detection.errors.length).toBeGreaterThan(0);
    expect(await storedIncidents(handle(), "refused")).toEqual([]);

    // Nothing new arrives: the engine has nothing more to say, but what it said is still unstored.
    await detection.quietTick();
    const incidents = await storedIncidents(handle(), "refused");
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      rootService: "dm-api",
      status: "resolved",
      causeChangeId: deployId,
    });
    await detection.close();
  });

  it("names a change reported only after the incident had ended", async () => {
    const detection = detectionBeside(handle());
    await detection.replay("late", "config");
    const [unexplained] = await storedIncidents(handle(), "late");
    expect(unexplained).toMatchObject({ status: "resolved", causeChangeId: null });

    const { id: pushId } = await recordConfigPush(handle(), "late");
    await detection.quietTick();
    const incidents = await storedIncidents(handle(), "late");
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ id: unexplained?.id, causeChangeId: pushId });
    await detection.close();
  });
});
