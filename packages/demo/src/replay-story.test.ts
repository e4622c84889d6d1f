import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { replayStory } from "./replay-story.ts";

// A receiver that takes deploys but refuses every trace export with 400 (not retryable): the OTLP
// exporter gives up on each batch, which an SDK only reports as a diagnostic.
let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function refusingReceiver(): Promise<{ url: string; traceRequests: () => number }> {
  let traceRequests = 0;
  server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      if (request.url === "/v1/traces") {
        traceRequests += 1;
        response.writeHead(400, { "content-type": "application/json" }).end('{"code":3,"message":"refused"}');
        return;
      }
      response.writeHead(201, { "content-type": "application/json" }).end('{"id":"chg_1"}');
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, traceRequests: () => traceRequests };
}

describe("replayStory", () => {
  it("fails, saying how many spans were lost, when the receiver never acknowledged them", async () => {
    const receiver = await refusingReceiver();
    const replay = replayStory({
      story: "dm-canary",
      apiUrl: receiver.url,
      otlpHttpUrl: receiver.url,
      browser: false,
      warmupSeconds: 20,
      endMs: Date.parse("2026-11-27T10:00:00Z"),
    });
    await expect(replay).rejects.toThrow(/never acknowledged \d+ spans of the dm-canary replay/);
    expect(receiver.traceRequests()).toBeGreaterThan(0);
  }, 60_000);
});
