import { describe, expect, it } from "vitest";
import { ExportTraceServiceRequestType } from "../test-support/otlp-proto-root.ts";
import {
  createRandom,
  RandomRequestBuilder,
  renderJson,
  renderProto,
  tightDecodeLimits,
} from "../test-support/random-trace-request.ts";
import { normalizeReference } from "../test-support/reference-normalizer.ts";
import { decodeTraceRequestJson } from "./decode-trace-request-json.ts";
import { decodeTraceRequestProto } from "./decode-trace-request-proto.ts";
import { defaultDecodeLimits } from "./normalized-span.ts";

const requestCount = 600;
// Split into chunks so each test stays well inside the timeout on a loaded 2-core machine.
const chunkSize = 100;
const chunks = Array.from({ length: requestCount / chunkSize }, (_, index) => index * chunkSize + 1);

describe("hand decoders agree with protobufjs + a reference normalizer", () => {
  it.each(chunks)(`on seeded random requests ${"%i"}..+${chunkSize - 1} (protobuf and JSON)`, (firstSeed) => {
    let spansCompared = 0;
    let rejectedCompared = 0;
    for (let seed = firstSeed; seed < firstSeed + chunkSize; seed += 1) {
      const builder = new RandomRequestBuilder(createRandom(seed));
      const limits = seed % 3 === 0 ? tightDecodeLimits : defaultDecodeLimits;
      const model = builder.request();
      const protoBytes = renderProto(model, builder);
      const expected = normalizeReference(ExportTraceServiceRequestType.decode(protoBytes), limits);

      const fromProto = decodeTraceRequestProto(protoBytes, limits);
      expect(fromProto, `protobuf, seed ${seed}`).toEqual(expected);

      const fromJson = decodeTraceRequestJson(renderJson(model, builder), limits);
      expect(fromJson, `JSON, seed ${seed}`).toEqual(expected);

      spansCompared += expected.spans.length;
      rejectedCompared += expected.rejected.count;
    }
    // Guard against a generator that silently stops producing interesting data.
    expect(spansCompared).toBeGreaterThan(chunkSize * 3);
    expect(rejectedCompared).toBeGreaterThan(50 / chunks.length);
  });
});
