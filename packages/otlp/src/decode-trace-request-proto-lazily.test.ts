import { describe, expect, it } from "vitest";
import {
  createRandom,
  RandomRequestBuilder,
  renderProto,
  tightDecodeLimits,
} from "../test-support/random-trace-request.ts";
import { decodeTraceRequestProto, decodeTraceRequestProtoLazily } from "./decode-trace-request-proto.ts";
import { defaultDecodeLimits, type NormalizedSpan, OtlpDecodeError } from "./normalized-span.ts";

/** Every field of a span view read into a plain object, the way a consumer of the view would. */
function readAll(span: NormalizedSpan): NormalizedSpan {
  const a = span.attributes;
  return {
    resource: span.resource,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startTimeUnixNano,
    endTimeUnixNano: span.endTimeUnixNano,
    startTimeMs: span.startTimeMs,
    durationMs: span.durationMs,
    statusCode: span.statusCode,
    statusMessage: span.statusMessage,
    links: span.links.map((link) => ({ traceId: link.traceId, spanId: link.spanId })),
    attributes: {
      httpMethod: a.httpMethod,
      httpRoute: a.httpRoute,
      httpStatusCode: a.httpStatusCode,
      rpcSystem: a.rpcSystem,
      rpcService: a.rpcService,
      rpcMethod: a.rpcMethod,
      rpcGrpcStatusCode: a.rpcGrpcStatusCode,
      messagingSystem: a.messagingSystem,
      messagingDestination: a.messagingDestination,
      messagingOperationType: a.messagingOperationType,
      serverAddress: a.serverAddress,
      peerService: a.peerService,
      errorType: a.errorType,
      userId: a.userId,
      sessionId: a.sessionId,
      platform: a.platform,
    },
    exception: span.exception,
  };
}

describe("decodeTraceRequestProtoLazily", () => {
  it("reads the same spans, fields and rejections as decodeTraceRequestProto (seeded random requests)", () => {
    let spansCompared = 0;
    for (let seed = 1; seed <= 300; seed += 1) {
      const builder = new RandomRequestBuilder(createRandom(seed));
      const limits = seed % 3 === 0 ? tightDecodeLimits : defaultDecodeLimits;
      const bytes = renderProto(builder.request(), builder);
      const eager = decodeTraceRequestProto(bytes, limits);
      const lazy = decodeTraceRequestProtoLazily(bytes, limits);
      expect(lazy.rejected, `seed ${seed}`).toEqual(eager.rejected);
      expect(lazy.spans.length).toBe(eager.spans.length);
      // Twice: a sequence can be iterated again, each time from the first span.
      for (let pass = 0; pass < 2; pass += 1) {
        let index = 0;
        for (const span of lazy.spans) {
          expect(readAll(span), `seed ${seed}, span ${index}`).toEqual(eager.spans[index]);
          index += 1;
        }
        expect(index).toBe(eager.spans.length);
      }
      spansCompared += eager.spans.length;
    }
    expect(spansCompared).toBeGreaterThan(500);
  });

  it("throws on a malformed request before yielding any span", () => {
    let seed = 1;
    let bytes: Uint8Array = new Uint8Array(0);
    do {
      const builder = new RandomRequestBuilder(createRandom(seed));
      bytes = renderProto(builder.request(), builder);
      seed += 1;
    } while (decodeTraceRequestProto(bytes).spans.length === 0);
    // Valid spans, then a resource_spans field whose length runs past the end of the body.
    const malformed = new Uint8Array([...bytes, 0x0a, 0x05, 0x0a]);
    expect(decodeTraceRequestProto(bytes).spans.length).toBeGreaterThan(0);
    expect(() => decodeTraceRequestProtoLazily(malformed)).toThrow(OtlpDecodeError);
  });
});
