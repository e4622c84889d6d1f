import { describeEachDatabase } from "@faultline/db/testing";
import { expect, it } from "vitest";
import { generateWorkload } from "../../bench/messaging-workload.ts";
import { IngestPipeline } from "../pipeline/ingest-pipeline.ts";

// Group commit is what keeps durability from costing throughput: requests that arrive together must
// share one transaction. The benchmark found every request committing alone on PGlite (which holds the
// event loop for a whole transaction, so the first request's commit always started before the others
// were taken in); these requests are all handed over in one turn and must make a single commit.

describeEachDatabase("group commit", ({ handle }) => {
  it("commits requests that arrive in the same event-loop turn together", async () => {
    const pipeline = new IngestPipeline({ db: handle() });
    const workload = generateWorkload({ count: 8, nowMs: Date.now(), withJson: false });
    const outcomes = await Promise.all(
      workload.map((request) => pipeline.exportTraces({ body: request.proto, encoding: "proto" })),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(workload.map(() => "accepted"));
    expect(pipeline.stats.commits).toBe(1);
    expect(pipeline.stats.acceptedSpans).toBe(8 * 512);
    await pipeline.close();
  });
});
