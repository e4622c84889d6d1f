import { request as httpRequest } from "node:http";
import { type DbHandle, readSeriesRange } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { afterEach, expect, it } from "vitest";
import { generateWorkload, workloadEnvironment } from "../../bench/messaging-workload.ts";
import { sendRequests } from "../../bench/otlp-load-client.ts";
import { IngestPipeline } from "../pipeline/ingest-pipeline.ts";
import { createOtlpHttpServer, type OtlpHttpServer } from "../receivers/otlp-http-server.ts";
import type { TraceSink } from "../receivers/trace-sink.ts";

// Flow control: with a tiny queue and commits held back, a burst gets 503 + Retry-After instead of
// growing memory; once commits flow again, every retried request is accepted and counted once.

const maxPendingSpans = 1024;

/** A database whose transactions wait until `open()`, so the queue fills deterministically. */
function gatedDb(handle: DbHandle): { db: DbHandle; open(): void } {
  let open = (): void => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    db: { ...handle, transaction: async (work) => gate.then(() => handle.transaction(work)) },
    open: () => open(),
  };
}

function post(url: string, body: Uint8Array): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/x-protobuf", "content-length": body.length },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const retryAfter = res.headers["retry-after"];
          resolve({ status: res.statusCode ?? 0, retryAfter });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describeEachDatabase("ingest overload", ({ handle }) => {
  let server: OtlpHttpServer | undefined;
  afterEach(async () => {
    await server?.close(1_000);
    server = undefined;
  });

  it("answers a burst over the queue bound with 503 + Retry-After, then accepts every retry once", async () => {
    const gated = gatedDb(handle());
    const pipeline = new IngestPipeline({ db: gated.db, maxPendingSpans });
    let accepted = 0;
    let onAccepted = (): void => {};
    // Delegates to the pipeline; counts requests it took in, so the test waits on that event.
    const sink: TraceSink = {
      isOverloaded: () => pipeline.isOverloaded(),
      exportTraces: (request) => {
        const outcome = pipeline.exportTraces(request);
        accepted += 1;
        onAccepted();
        return outcome;
      },
    };
    server = createOtlpHttpServer({ sink });
    const url = `http://127.0.0.1:${await server.listen(0)}/v1/traces`;
    const workload = generateWorkload({ count: 12, nowMs: Date.now(), withJson: false });
    const [first, second, ...burst] = workload;
    if (!first || !second) throw new Error("workload too small");

    // Two 512-span requests fill the 1024-span queue; their commits are held at the gate.
    const filled = new Promise<void>((resolve) => {
      onAccepted = () => {
        if (accepted === 2) resolve();
      };
    });
    const held = [post(url, first.proto), post(url, second.proto)];
    await filled;
    expect(pipeline.isOverloaded()).toBe(true);

    const answers = await Promise.all(burst.map((request) => post(url, request.proto)));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(answer.retryAfter)).toBeLessThanOrEqual(5);
    }
    // Nothing past the bound was taken in while the queue was full.
    expect(accepted).toBe(2);

    gated.open();
    expect((await Promise.all(held)).map((answer) => answer.status)).toEqual([200, 200]);
    // An exporter's retries, honouring Retry-After; several at once, so some meet a full queue again.
    const retried = await sendRequests(
      burst.map((request) => ({ body: request.proto, spans: request.spans })),
      { url, contentType: "application/x-protobuf", concurrency: burst.length },
    );
    expect(retried.otherStatuses).toEqual([]);
    expect(retried.acked.every(Boolean)).toBe(true);
    await pipeline.close();

    const totalSpans = workload.reduce((sum, request) => sum + request.spans, 0);
    expect(pipeline.stats.acceptedSpans).toBe(totalSpans);
    expect(pipeline.stats.duplicates).toBe(0);
    const nowMs = Date.now();
    const stored = await readSeriesRange(handle(), {
      environment: workloadEnvironment,
      stepSeconds: 3600,
      fromMs: nowMs - 3 * 3_600_000,
      toMs: nowMs + 3_600_000,
    });
    const storedSpans = stored.reduce(
      (sum, series) => sum + series.points.reduce((seriesSum, point) => seriesSum + point.spans, 0),
      0,
    );
    expect(storedSpans).toBe(totalSpans);
  });
});
