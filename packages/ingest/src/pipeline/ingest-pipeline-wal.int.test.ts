import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DbHandle, readSeriesRange } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { generateWorkload, workloadEnvironment } from "../../bench/messaging-workload.ts";
import { IngestPipeline } from "./ingest-pipeline.ts";

// The write-ahead log path: a 2xx after the log sync, aggregates written by checkpoints, replay of what
// no checkpoint committed, and no request counted twice whichever way it comes back.

async function storedSpans(db: DbHandle): Promise<number> {
  const nowMs = Date.now();
  const series = await readSeriesRange(db, {
    environment: workloadEnvironment,
    stepSeconds: 10,
    fromMs: nowMs - 3 * 3_600_000,
    toMs: nowMs + 3_600_000,
  });
  return series.flatMap((one) => one.points).reduce((sum, point) => sum + point.spans, 0);
}

describeEachDatabase("IngestPipeline with a write-ahead log", ({ handle }) => {
  let walDir = "";
  const pipelines: IngestPipeline[] = [];
  // The database is shared by the file's tests: each counts what it added.
  let storedBefore = 0;
  const added = async (): Promise<number> => (await storedSpans(handle())) - storedBefore;
  beforeEach(async () => {
    walDir = await mkdtemp(join(tmpdir(), "faultline-wal-test-"));
    storedBefore = await storedSpans(handle());
  });
  afterEach(async () => {
    for (const pipeline of pipelines.splice(0)) await pipeline.close();
    await rm(walDir, { recursive: true, force: true });
  });
  /** A long checkpoint interval: only flushAcknowledged and close checkpoint, so tests decide when. */
  const open = async (db: DbHandle = handle(), directory = walDir): Promise<IngestPipeline> => {
    const pipeline = new IngestPipeline({ db, writeAheadLogDir: directory, checkpointIntervalMs: 3_600_000 });
    pipelines.push(pipeline);
    await pipeline.start();
    return pipeline;
  };
  const workload = () => generateWorkload({ count: 4, nowMs: Date.now(), withJson: false });

  it("refuses requests until started, then acknowledges from the log and checkpoints on demand", async () => {
    const pipeline = new IngestPipeline({
      db: handle(),
      writeAheadLogDir: walDir,
      checkpointIntervalMs: 3_600_000,
    });
    pipelines.push(pipeline);
    expect(pipeline.isOverloaded()).toBe(true);
    await pipeline.start();
    expect(pipeline.isOverloaded()).toBe(false);
    const requests = workload();
    const outcomes = await Promise.all(
      requests.map((request) => pipeline.exportTraces({ body: request.proto, encoding: "proto" })),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(requests.map(() => "accepted"));
    // Acknowledged, shared one log sync, nothing in the database yet.
    expect(pipeline.stats.logSyncs).toBe(1);
    expect(pipeline.stats.commits).toBe(0);
    expect(await added()).toBe(0);
    expect(pipeline.hasPendingWork()).toBe(true);
    await pipeline.flushAcknowledged();
    expect(pipeline.stats.commits).toBe(1);
    expect(await added()).toBe(4 * 512);
    // The checkpoint trimmed the log down to the segment appends go to now.
    expect(await readdir(walDir)).toHaveLength(1);
    // Nothing pending: another flush commits nothing.
    await pipeline.flushAcknowledged();
    expect(pipeline.stats.commits).toBe(1);
  });

  it("replays acknowledged requests no checkpoint committed, and recognises their retries", async () => {
    const requests = workload();
    const crashed = await open();
    for (const request of requests) await crashed.exportTraces({ body: request.proto, encoding: "proto" });
    // A crash: the first pipeline is abandoned without a checkpoint (its log file stays as written).
    pipelines.splice(pipelines.indexOf(crashed), 1);

    const restarted = await open();
    expect(restarted.stats.recoveredSpans).toBe(4 * 512);
    // Start-up checkpointed what it replayed, before taking traffic.
    expect(await added()).toBe(4 * 512);
    const retry = await restarted.exportTraces({
      body: requests[0]?.proto ?? new Uint8Array(),
      encoding: "proto",
    });
    expect(retry.status).toBe("accepted");
    expect(restarted.stats.duplicates).toBe(1);
    await restarted.flushAcknowledged();
    expect(await added()).toBe(4 * 512);
  });

  it("drops, at the checkpoint, a retried request that an earlier process already committed", async () => {
    const [first, second] = workload();
    if (!first || !second) throw new Error("workload too small");
    const earlier = await open();
    await earlier.exportTraces({ body: first.proto, encoding: "proto" });
    await earlier.close();
    pipelines.splice(pipelines.indexOf(earlier), 1);

    // A new process with an empty log (another replica, or its log moved): only the database knows.
    const otherDir = await mkdtemp(join(tmpdir(), "faultline-wal-test-"));
    try {
      const later = await open(handle(), otherDir);
      await later.exportTraces({ body: first.proto, encoding: "proto" });
      await later.exportTraces({ body: second.proto, encoding: "proto" });
      await later.flushAcknowledged();
      expect(later.stats.duplicates).toBe(1);
      expect(later.stats.acceptedSpans).toBe(512);
      expect(await added()).toBe(2 * 512);
      await later.close();
      pipelines.splice(pipelines.indexOf(later), 1);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it("answers 503 once too much is acknowledged but not checkpointed, and recovers after a checkpoint", async () => {
    const pipeline = new IngestPipeline({
      db: handle(),
      writeAheadLogDir: walDir,
      checkpointIntervalMs: 3_600_000,
      maxUncheckpointedSpans: 1024,
    });
    pipelines.push(pipeline);
    await pipeline.start();
    const [a, b, c] = workload();
    if (!a || !b || !c) throw new Error("workload too small");
    await pipeline.exportTraces({ body: a.proto, encoding: "proto" });
    expect(pipeline.isOverloaded()).toBe(false);
    await pipeline.exportTraces({ body: b.proto, encoding: "proto" });
    expect(pipeline.isOverloaded()).toBe(true);
    await pipeline.flushAcknowledged();
    expect(pipeline.isOverloaded()).toBe(false);
    await pipeline.exportTraces({ body: c.proto, encoding: "proto" });
    await pipeline.flushAcknowledged();
    expect(await added()).toBe(3 * 512);
  });

  it("keeps browser spans handed over decoded (Faro) through the log as well", async () => {
    const crashed = await open();
    const spans = (await import("@faultline/otlp")).decodeTraceRequestProto(
      workload()[0]?.proto ?? new Uint8Array(),
    ).spans;
    const outcome = await crashed.exportSpans(spans, "faro:one");
    expect(outcome.status).toBe("accepted");
    pipelines.splice(pipelines.indexOf(crashed), 1);
    await open();
    expect(await added()).toBe(512);
  });

  it("logs decoded spans as the request body they came from, when given it, and replays that body", async () => {
    const crashed = await open();
    const body = workload()[0]?.proto ?? new Uint8Array();
    const spans = (await import("@faultline/otlp")).decodeTraceRequestProto(body).spans;
    const outcome = await crashed.exportSpans(spans, "decoded-elsewhere:one", { encoding: "proto", body });
    expect(outcome.status).toBe("accepted");
    pipelines.splice(pipelines.indexOf(crashed), 1);
    // The log holds the body as received (plus framing), not the spans' JSON, which is about twice as big.
    const [segment] = await readdir(walDir);
    const logged = (await stat(join(walDir, segment ?? ""))).size;
    expect(logged).toBeGreaterThanOrEqual(body.length);
    expect(logged).toBeLessThan(body.length + 1_024);
    await open();
    expect(await added()).toBe(512);
  });
});
