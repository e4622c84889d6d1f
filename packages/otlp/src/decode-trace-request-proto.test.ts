import { describe, expect, it } from "vitest";
import {
  bytesField,
  type Chunk,
  concatBytes,
  fixed64Field,
  groupField,
  messageField,
  stringField,
  tag,
  varint,
  varintField,
} from "../test-support/proto-bytes.ts";
import { createRandom, RandomRequestBuilder, renderProto } from "../test-support/random-trace-request.ts";
import { decodeTraceRequestProto } from "./decode-trace-request-proto.ts";
import { defaultDecodeLimits, OtlpDecodeError } from "./normalized-span.ts";

const traceId = Uint8Array.from({ length: 16 }, (_, index) => index + 1);
const spanId = Uint8Array.from({ length: 8 }, (_, index) => 0xa0 + index);

function keyValue(key: string, value: Chunk[]): Chunk {
  return concatBytes([stringField(1, key), messageField(2, value)]);
}

function span(extra: Chunk[] = [], ids: { trace?: Uint8Array; span?: Uint8Array } = {}): Chunk {
  return messageField(2, [
    bytesField(1, ids.trace ?? traceId),
    bytesField(2, ids.span ?? spanId),
    stringField(5, "send dm"),
    fixed64Field(7, 1_750_000_000_000_000_000n),
    fixed64Field(8, 1_750_000_000_250_000_000n),
    ...extra,
  ]);
}

function request(spans: Chunk[], resourceAttributes: Chunk[] = []): Uint8Array {
  return messageField(1, [
    messageField(
      1,
      resourceAttributes.map((attribute) => messageField(1, [attribute])),
    ),
    messageField(2, spans),
  ]);
}

function expectDecodeError(bytes: Uint8Array): void {
  expect(() => decodeTraceRequestProto(bytes)).toThrow(OtlpDecodeError);
}

/** Decodes hostile input: it must either succeed or throw OtlpDecodeError, nothing else. */
function decodeOrDecodeError(bytes: Uint8Array): void {
  try {
    decodeTraceRequestProto(bytes);
  } catch (error) {
    if (!(error instanceof OtlpDecodeError)) throw error;
  }
}

describe("decodeTraceRequestProto", () => {
  it("decodes an empty body as an empty request", () => {
    expect(decodeTraceRequestProto(new Uint8Array(0))).toEqual({
      spans: [],
      rejected: { count: 0, reasons: [] },
    });
  });

  it("decodes a minimal span with defaults", () => {
    const [decoded] = decodeTraceRequestProto(request([span()])).spans;
    expect(decoded).toMatchObject({
      traceId: "0102030405060708090a0b0c0d0e0f10",
      spanId: "a0a1a2a3a4a5a6a7",
      parentSpanId: null,
      name: "send dm",
      kind: "unspecified",
      statusCode: "unset",
      statusMessage: null,
      startTimeMs: 1_750_000_000_000,
      durationMs: 250,
      links: [],
      exception: null,
    });
    expect(decoded?.resource.serviceName).toBe("unknown_service");
  });

  it("resolves resource fallbacks (k8s.pod.name, deprecated deployment.environment, os.name)", () => {
    const [decoded] = decodeTraceRequestProto(
      request(
        [span()],
        [
          keyValue("service.name", [stringField(1, "api")]),
          keyValue("k8s.pod.name", [stringField(1, "api-0")]),
          keyValue("host.name", [stringField(1, "node-1")]),
          keyValue("deployment.environment", [stringField(1, "staging")]),
          keyValue("os.name", [stringField(1, "iOS")]),
        ],
      ),
    ).spans;
    expect(decoded?.resource).toEqual({
      serviceName: "api",
      serviceVersion: null,
      serviceInstanceId: "api-0",
      environment: "staging",
      region: null,
      sdkLanguage: null,
      osType: "ios",
    });
  });

  it("reads status codes sent as int, string or double, and ignores useless shapes", () => {
    const [decoded] = decodeTraceRequestProto(
      request([
        span([
          messageField(9, [keyValue("http.status_code", [stringField(1, "502")])]),
          messageField(9, [keyValue("rpc.grpc.status_code", [varintField(3, 14)])]),
          messageField(9, [keyValue("http.response.status_code", [varintField(3, (1n << 63n) - 1n)])]),
        ]),
      ]),
    ).spans;
    expect(decoded?.attributes.httpStatusCode).toBe(502);
    expect(decoded?.attributes.rpcGrpcStatusCode).toBe(14);
  });

  it("rejects invalid spans individually and keeps the rest", () => {
    const zeroTrace = new Uint8Array(16);
    const result = decodeTraceRequestProto(
      request([
        span(),
        span([], { trace: zeroTrace }),
        span([], { trace: new Uint8Array(0) }),
        span([], { span: new Uint8Array(8) }),
        messageField(2, [bytesField(1, traceId), bytesField(2, spanId)]),
        span([fixed64Field(8, 1n)]),
      ]),
    );
    expect(result.spans).toHaveLength(1);
    expect(result.rejected.count).toBe(5);
    expect(result.rejected.reasons).toEqual([
      "span with empty or all-zero trace id",
      "span with empty or all-zero span id",
      "span with empty name",
      "span ending before it starts",
    ]);
  });

  it("counts a span without a name (but valid otherwise) as rejected", () => {
    const nameless = messageField(2, [
      bytesField(1, traceId),
      bytesField(2, spanId),
      fixed64Field(7, 5n),
      fixed64Field(8, 6n),
    ]);
    expect(decodeTraceRequestProto(request([nameless])).rejected).toEqual({
      count: 1,
      reasons: ["span with empty name"],
    });
  });

  it.each([
    ["trace_id of 15 bytes", span([], { trace: new Uint8Array(15).fill(1) })],
    ["trace_id of 17 bytes", span([], { trace: new Uint8Array(17).fill(1) })],
    ["span_id of 7 bytes", span([], { span: new Uint8Array(7).fill(1) })],
    ["parent_span_id of 9 bytes", span([bytesField(4, new Uint8Array(9).fill(1))])],
    [
      "link trace_id of 3 bytes",
      span([messageField(13, [bytesField(1, new Uint8Array(3).fill(1)), bytesField(2, spanId)])]),
    ],
    ["name sent as a varint", span([varintField(5, 3)])],
    ["start time sent as a varint", span([varintField(7, 3)])],
  ])("refuses the whole request for a %s", (_, badSpan) => {
    expectDecodeError(request([badSpan]));
  });

  it("treats an all-zero parent span id as a root span", () => {
    const [decoded] = decodeTraceRequestProto(request([span([bytesField(4, new Uint8Array(8))])])).spans;
    expect(decoded?.parentSpanId).toBeNull();
  });

  it.each([
    ["a truncated varint", Uint8Array.from([0x0a, 0xff])],
    ["a length beyond the buffer", concatBytes([tag(1, 2), varint(0x7fffffff), Uint8Array.from([1, 2, 3])])],
    ["a length of 2^32 + 1", concatBytes([tag(1, 2), varint(2 ** 32 + 1), Uint8Array.from([1])])],
    ["an 11-byte varint", concatBytes([tag(100, 0), new Uint8Array(10).fill(0xff), Uint8Array.from([1])])],
    ["wire type 6", Uint8Array.from([0x0e])],
    ["wire type 7", Uint8Array.from([0x0f])],
    ["a stray end-group tag", tag(5, 4)],
    ["field number 0", Uint8Array.from([0x00, 0x01])],
    ["an unterminated group", concatBytes([tag(100, 3), varintField(1, 1)])],
    ["a mismatched end group", concatBytes([tag(100, 3), tag(101, 4)])],
    [
      "groups nested 100 deep",
      concatBytes([
        ...Array.from({ length: 100 }, (_, index) => tag(200 + index, 3)),
        ...Array.from({ length: 100 }, (_, index) => tag(299 - index, 4)),
      ]),
    ],
    ["a sub-message overrunning its parent", messageField(1, [tag(2, 2), varint(50)])],
  ])("throws OtlpDecodeError on %s", (_, bytes) => {
    expectDecodeError(bytes);
  });

  it("skips unknown fields of every wire type, including nested groups", () => {
    const unknown = [
      varintField(99, -1),
      fixed64Field(98, 7n),
      concatBytes([tag(97, 5), Uint8Array.from([1, 2, 3, 4])]),
      stringField(96, "future"),
      groupField(95, [varintField(1, 1), groupField(94, [stringField(2, "x")])]),
    ];
    const result = decodeTraceRequestProto(concatBytes([...unknown, request([span(unknown)]), ...unknown]));
    expect(result.spans).toHaveLength(1);
  });

  it("maps unknown enum numbers and negative varints to unspecified/unset", () => {
    const [decoded] = decodeTraceRequestProto(
      request([span([varintField(6, -1), messageField(15, [varintField(3, 7)])])]),
    ).spans;
    expect(decoded?.kind).toBe("unspecified");
    expect(decoded?.statusCode).toBe("unset");
  });

  it("keeps the exact nanoseconds of times near 2^63 and 2^64", () => {
    const start = (1n << 63n) + 1n;
    const end = (1n << 64n) - 1n;
    const [decoded] = decodeTraceRequestProto(
      request([span([fixed64Field(7, start), fixed64Field(8, end)])]),
    ).spans;
    expect(decoded?.startTimeUnixNano).toBe(start);
    expect(decoded?.endTimeUnixNano).toBe(end);
    expect(decoded?.durationMs).toBe(Number(end - start) / 1e6);
  });

  it("reads only maxAttributes of 10k attributes and cuts a 10 MB string", () => {
    const many = Array.from({ length: 10_000 }, (_, index) =>
      messageField(9, [keyValue(`attr.${index}`, [stringField(1, "v")])]),
    );
    const huge = "x".repeat(10 * 1024 * 1024);
    const [decoded] = decodeTraceRequestProto(
      request([span([messageField(9, [keyValue("http.route", [stringField(1, huge)])]), ...many])]),
    ).spans;
    expect(decoded?.attributes.httpRoute).toHaveLength(defaultDecodeLimits.maxStringLength);
    const late = decodeTraceRequestProto(
      request([span([...many, messageField(9, [keyValue("http.route", [stringField(1, "/late")])])])]),
    ).spans[0];
    expect(late?.attributes.httpRoute).toBeNull();
  });

  it("cuts strings without splitting a surrogate pair", () => {
    const limits = { ...defaultDecodeLimits, maxStringLength: 4 };
    const [decoded] = decodeTraceRequestProto(request([span([stringField(5, "abc😀def")])]), limits).spans;
    expect(decoded?.name).toBe("abc");
  });

  it("survives a 3000-deep AnyValue nesting bomb in a known attribute", () => {
    let value = stringField(1, "leaf");
    for (let depth = 0; depth < 3000; depth += 1) value = messageField(5, [messageField(1, [value])]);
    const [decoded] = decodeTraceRequestProto(
      request([span([messageField(9, [keyValue("http.route", [value])])])]),
    ).spans;
    expect(decoded?.attributes.httpRoute).toBeNull();
  });

  it("decodes invalid UTF-8 with replacement characters", () => {
    const [decoded] = decodeTraceRequestProto(
      request([span([bytesField(5, Uint8Array.from([0x61, 0xff, 0xfe, 0x62, 0x00]))])]),
    ).spans;
    expect(decoded?.name).toBe("a\ufffd\ufffdb\u0000");
  });

  it("keeps __proto__ and constructor keys inert", () => {
    const [decoded] = decodeTraceRequestProto(
      request(
        [span([messageField(9, [keyValue("__proto__", [stringField(1, "polluted")])])])],
        [keyValue("constructor", [stringField(1, "x")]), keyValue("__proto__", [stringField(1, "y")])],
      ),
    ).spans;
    expect(Object.keys(decoded?.attributes ?? {})).toHaveLength(16);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("counts a million empty spans as rejected without keeping them", () => {
    const emptySpans = new Uint8Array(2_000_000);
    for (let index = 0; index < emptySpans.length; index += 2) emptySpans[index] = 0x12;
    const bytes = concatBytes([
      tag(1, 2),
      varint(emptySpans.length + 4),
      tag(2, 2),
      varint(emptySpans.length),
      emptySpans,
    ]);
    const result = decodeTraceRequestProto(bytes);
    expect(result.spans).toHaveLength(0);
    expect(result.rejected.count).toBe(1_000_000);
  });

  it("never throws anything but OtlpDecodeError on truncations and bit flips of valid requests", () => {
    const random = createRandom(42);
    for (let seed = 1; seed <= 40; seed += 1) {
      const builder = new RandomRequestBuilder(createRandom(seed));
      const bytes = renderProto(builder.request(), builder);
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 97))) {
        decodeOrDecodeError(bytes.subarray(0, cut));
      }
      for (let flip = 0; flip < 50 && bytes.length > 0; flip += 1) {
        const mutated = Uint8Array.from(bytes);
        const at = Math.floor(random() * mutated.length);
        mutated[at] = Math.floor(random() * 256);
        decodeOrDecodeError(mutated);
      }
    }
  });

  it("never throws anything but OtlpDecodeError on random garbage", () => {
    const random = createRandom(7);
    for (let sample = 0; sample < 3000; sample += 1) {
      const garbage = Uint8Array.from({ length: 1 + Math.floor(random() * 200) }, () =>
        Math.floor(random() * 256),
      );
      decodeOrDecodeError(garbage);
    }
  });
});
