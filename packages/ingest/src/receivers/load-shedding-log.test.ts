import { describe, expect, it } from "vitest";
import { silentLogger } from "./ingest-logger.ts";
import { LoadSheddingLog } from "./load-shedding-log.ts";

describe("LoadSheddingLog", () => {
  it("logs the first refusal at once, then at most once per interval with the count since", () => {
    const lines: object[] = [];
    let nowMs = 1_000_000;
    const log = new LoadSheddingLog(
      { ...silentLogger, warn: (obj) => lines.push(obj) },
      "otlp/http",
      10_000,
      () => nowMs,
    );
    log.refused(1);
    for (let index = 0; index < 50; index += 1) {
      nowMs += 100;
      log.refused(2);
    }
    expect(lines).toEqual([{ transport: "otlp/http", refused: 1, sinceMs: null, retryAfterSeconds: 1 }]);
    nowMs += 5_000;
    log.refused(2);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({ transport: "otlp/http", refused: 51, sinceMs: 10_000, retryAfterSeconds: 2 });
  });
});
