import { describe, expect, it } from "vitest";
import { decodeParsedTraceRequestJson } from "./decode-parsed-trace-request-json.ts";
import { decodeTraceRequestJson } from "./decode-trace-request-json.ts";
import { type DecodeResult, defaultDecodeLimits, OtlpDecodeError } from "./normalized-span.ts";
import { scanTraceRequestJson } from "./scan-trace-request-json.ts";

const encoder = new TextEncoder();

/**
 * Decodes `body` through the public decoder as UTF-8 bytes (the scanner first) and through the
 * JSON.parse path alone, checks that both give the same spans or the same error, and returns or throws
 * that outcome.
 */
function decode(body: string | Uint8Array): DecodeResult {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const attempt = (run: () => DecodeResult): DecodeResult | Error => {
    try {
      return run();
    } catch (error) {
      return error as Error;
    }
  };
  const reference = attempt(() => decodeParsedTraceRequestJson(body, defaultDecodeLimits));
  const fromBytes = attempt(() => decodeTraceRequestJson(bytes));
  if (reference instanceof Error) {
    expect(fromBytes).toBeInstanceOf(OtlpDecodeError);
    expect((fromBytes as Error).message).toBe(reference.message);
    throw reference;
  }
  expect(fromBytes).toEqual(reference);
  return reference;
}

/** Whether the single-pass scanner decodes `body` itself (rather than handing it to JSON.parse). */
function scannerTakes(body: string): boolean {
  return scanTraceRequestJson(encoder.encode(body), defaultDecodeLimits) !== null;
}

const traceId = "5B8EFFF798038103D269B633813FC60C";
const spanId = "EEE19B7EC3C1B174";

function requestWith(span: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "web" } }] },
        scopeSpans: [{ scope: { name: "s" }, spans: [{ traceId, spanId, name: "GET /", ...span }] }],
      },
    ],
    ...extra,
  });
}

function expectDecodeError(body: string | Uint8Array): void {
  expect(() => decode(body)).toThrow(OtlpDecodeError);
}

describe("decodeTraceRequestJson", () => {
  it("accepts {} and an empty resourceSpans as an empty request", () => {
    expect(decodeTraceRequestJson("{}").spans).toEqual([]);
    expect(decode("{}").spans).toEqual([]);
    expect(decode(new TextEncoder().encode('{"resourceSpans":[]}')).spans).toEqual([]);
  });

  it("decodes upper-case hex ids to lower case and keeps exact nanoseconds from strings", () => {
    const [span] = decode(
      requestWith({
        startTimeUnixNano: "1544712660300000001",
        endTimeUnixNano: "1544712661300000002",
        kind: 2,
      }),
    ).spans;
    expect(span?.traceId).toBe(traceId.toLowerCase());
    expect(span?.spanId).toBe(spanId.toLowerCase());
    expect(span?.startTimeUnixNano).toBe(1544712660300000001n);
    expect(span?.endTimeUnixNano).toBe(1544712661300000002n);
    expect(span?.kind).toBe("server");
    expect(span?.resource.serviceName).toBe("web");
  });

  it("accepts int64 as numbers, snake_case keys, enum names and a BOM", () => {
    const body = `\ufeff${JSON.stringify({
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: traceId,
                  span_id: spanId,
                  parent_span_id: "00000000000000ff",
                  name: "consume",
                  kind: "SPAN_KIND_CONSUMER",
                  start_time_unix_nano: 1544712660000000000,
                  end_time_unix_nano: "1544712660500000000",
                  status: { code: "STATUS_CODE_ERROR", message: "boom" },
                  attributes: [
                    { key: "messaging.system", value: { string_value: "rabbitmq" } },
                    { key: "http.status_code", value: { int_value: "503" } },
                    { key: "rpc.grpc.status_code", value: { intValue: 14 } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    })}`;
    const [span] = decode(new TextEncoder().encode(body)).spans;
    expect(span).toMatchObject({
      parentSpanId: "00000000000000ff",
      kind: "consumer",
      statusCode: "error",
      statusMessage: "boom",
      durationMs: 500,
      attributes: { messagingSystem: "rabbitmq", httpStatusCode: 503, rpcGrpcStatusCode: 14 },
    });
    expect(span?.resource.serviceName).toBe("unknown_service");
  });

  it("ignores unknown fields, including legacy instrumentationLibrarySpans", () => {
    const body = JSON.stringify({
      futureField: { a: [1, 2] },
      resourceSpans: [
        {
          instrumentationLibrarySpans: [{ spans: [{ traceId, spanId, name: "legacy" }] }],
          scopeSpans: [{ spans: [{ traceId, spanId, name: "kept", newThing: 1 }] }],
        },
      ],
    });
    expect(decode(body).spans.map((span) => span.name)).toEqual(["kept"]);
  });

  it("rejects spans with empty or zero ids individually", () => {
    const body = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId, spanId, name: "ok" },
                { traceId: "", spanId, name: "no trace" },
                { traceId: "00000000000000000000000000000000", spanId, name: "zero trace" },
                { traceId, name: "no span id" },
              ],
            },
          ],
        },
      ],
    });
    const result = decode(body);
    expect(result.spans).toHaveLength(1);
    expect(result.rejected.count).toBe(3);
  });

  it("lets the last of several AnyValue members win, as protobuf does", () => {
    const [span] = decode(
      requestWith({ attributes: [{ key: "http.route", value: { intValue: 5, stringValue: "/last" } }] }),
    ).spans;
    expect(span?.attributes.httpRoute).toBe("/last");
  });

  it("keeps __proto__ and constructor keys inert", () => {
    const body =
      '{"__proto__":{"polluted":true},"resourceSpans":[{"resource":{"attributes":[{"key":"__proto__","value":{"stringValue":"x"}},{"key":"constructor","value":{"stringValue":"y"}}]},' +
      `"scopeSpans":[{"spans":[{"traceId":"${traceId}","spanId":"${spanId}","name":"n","__proto__":{"name":"evil"},` +
      '"attributes":[{"key":"__proto__","value":{"__proto__":{"stringValue":"p"}}}]}]}]}]}';
    const [span] = decode(body).spans;
    expect(span?.name).toBe("n");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(span?.attributes ?? {})).toHaveLength(16);
  });

  it("survives a 100k-deep nesting bomb", () => {
    const deep = `${'{"arrayValue":{"values":['.repeat(100_000)}${"]}}".repeat(100_000)}`;
    const body = requestWith({ attributes: [{ key: "http.route", value: { stringValue: "r" } }] }).replace(
      '{"stringValue":"r"}',
      deep,
    );
    try {
      const [span] = decode(body).spans;
      expect(span?.attributes.httpRoute).toBeNull();
    } catch (error) {
      expect(error).toBeInstanceOf(OtlpDecodeError);
    }
  });

  it.each([
    ["malformed JSON", '{"resourceSpans": ['],
    ["trailing garbage", "{} x"],
    ["a top-level array", "[]"],
    ["a top-level string", '"x"'],
    ["a top-level number", "3"],
    ["null", "null"],
    ["resourceSpans as an object", '{"resourceSpans":{}}'],
    ["a span that is a string", '{"resourceSpans":[{"scopeSpans":[{"spans":["x"]}]}]}'],
    ["base64 ids", requestWith({ traceId: "W47/95gDgQPSabYzgT/GDA==" })],
    ["odd-length hex", requestWith({ spanId: "EEE19B7EC3C1B17" })],
    ["non-hex characters", requestWith({ spanId: "EEE19B7EC3C1B17G" })],
    ["a numeric trace id", requestWith({ traceId: 5 })],
    ["an object trace id", requestWith({ traceId: {} })],
    ["a numeric name", requestWith({ name: 5 })],
    ["an unknown enum name", requestWith({ kind: "SPAN_KIND_WHATEVER" })],
    ["a fractional enum", requestWith({ kind: 2.5 })],
    ["a negative uint64", requestWith({ startTimeUnixNano: -1 })],
    ["a uint64 with spaces", requestWith({ startTimeUnixNano: " 12" })],
    ["a uint64 with an exponent", requestWith({ startTimeUnixNano: "1e18" })],
    ["a uint64 above 2^64", requestWith({ startTimeUnixNano: "18446744073709551616" })],
    ["attributes as an object", requestWith({ attributes: {} })],
    [
      "an intValue with a plus sign",
      requestWith({ attributes: [{ key: "http.status_code", value: { intValue: "+5" } }] }),
    ],
    [
      "a string intValue of 1e18",
      requestWith({ attributes: [{ key: "http.status_code", value: { intValue: "1e18" } }] }),
    ],
    [
      "an attribute key that is an object",
      requestWith({ attributes: [{ key: { key: "http.route", value: {} }, value: {} }] }),
    ],
    [
      "a stringValue that is an AnyValue",
      requestWith({
        attributes: [{ key: "http.route", value: { stringValue: { stringValue: "x" } } }],
      }),
    ],
    [
      "an intValue string that is not an integer",
      requestWith({ attributes: [{ key: "http.status_code", value: { intValue: "2x" } }] }),
    ],
    [
      "a numeric stringValue",
      requestWith({ attributes: [{ key: "http.route", value: { stringValue: 5 } }] }),
    ],
  ])("throws OtlpDecodeError on %s", (_, body) => {
    expectDecodeError(body);
  });

  it("accepts NaN/Infinity doubles as strings and keeps nulls as absent", () => {
    const [span] = decode(
      requestWith({
        parentSpanId: null,
        status: null,
        attributes: [
          { key: "http.route", value: { doubleValue: "NaN" } },
          { key: "server.address", value: { doubleValue: "-Infinity" } },
          { key: "peer.service", value: null },
        ],
      }),
    ).spans;
    expect(span?.attributes.httpRoute).toBe("NaN");
    expect(span?.attributes.serverAddress).toBe("-Infinity");
    expect(span?.attributes.peerService).toBeNull();
    expect(span?.parentSpanId).toBeNull();
  });

  it("lets the last of repeated fields win, as JSON.parse does", () => {
    const spanFields =
      `"traceId":"${traceId}","spanId":"${spanId}","name":"first","name":"second",` +
      '"attributes":[{"key":"http.route","value":{"stringValue":"/a"}}],' +
      '"attributes":[{"key":"http.method","value":{"stringValue":"GET"}}]';
    const [span] = decode(`{"resourceSpans":[{"scopeSpans":[{"spans":[{${spanFields}}]}]}]}`).spans;
    expect(span?.name).toBe("second");
    expect(span?.attributes.httpRoute).toBeNull();
    expect(span?.attributes.httpMethod).toBe("GET");
  });

  it("reads a repeated AnyValue member in the order JSON.parse keeps members (first position, last value)", () => {
    const value = '{"stringValue":"a","intValue":"404","stringValue":"b"}';
    const body = requestWith({ attributes: [{ key: "http.status_code", value: "VALUE" }] }).replace(
      '"VALUE"',
      value,
    );
    expect(decode(body).spans[0]?.attributes.httpStatusCode).toBe(404);
  });

  it("prefers a camelCase field over its snake_case spelling wherever they come", () => {
    const body = requestWith({ span_id: "1111111111111111" });
    expect(decode(body).spans[0]?.spanId).toBe(spanId.toLowerCase());
  });

  it("reads keys and values written with escapes", () => {
    const attribute = String.raw`{"key":"http.rou\u0074e","value":{"stringValue":"say \"hi\"\n\u00e9\ud83d\ude00"}}`;
    const body = requestWith({ attributes: ["ATTRIBUTE"] }).replace('"ATTRIBUTE"', attribute);
    const [span] = decode(body).spans;
    expect(span?.attributes.httpRoute).toBe('say "hi"\né😀');
    expect(scannerTakes(body)).toBe(true);
  });

  it("decodes in a single pass what exporters send, in any member order and with whitespace", () => {
    const compact = requestWith({
      kind: 2,
      startTimeUnixNano: 1544712660300000,
      endTimeUnixNano: "1544712661300000001",
      attributes: [
        { key: "http.route", value: { stringValue: "/x" } },
        { value: { intValue: "503" }, key: "http.response.status_code" },
        { key: "ignored.key", value: { arrayValue: { values: [{ stringValue: "deep" }] } } },
      ],
      events: [{ attributes: [{ key: "exception.type", value: { stringValue: "E" } }], name: "exception" }],
      links: [{ traceId, spanId, attributes: [] }],
      status: { code: "STATUS_CODE_ERROR", message: "boom" },
    });
    const resourceLast = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [{ spans: [{ traceId, spanId, name: "n" }] }],
          resource: { attributes: [{ key: "service.name", value: { stringValue: "late" } }] },
        },
      ],
    });
    const bodies = [compact, JSON.stringify(JSON.parse(compact), null, 2), `\ufeff${compact}`, resourceLast];
    for (const body of bodies) expect(scannerTakes(body), body).toBe(true);
    const [span] = decode(compact).spans;
    expect(span).toMatchObject({
      kind: "server",
      startTimeUnixNano: 1544712660300000n,
      endTimeUnixNano: 1544712661300000001n,
      statusCode: "error",
      statusMessage: "boom",
      exception: { type: "E", message: null, stack: null },
      attributes: { httpRoute: "/x", httpStatusCode: 503 },
    });
    expect(span?.links).toHaveLength(1);
    expect(decode(resourceLast).spans[0]?.resource.serviceName).toBe("late");
  });

  it("keeps apart values that differ only in the middle, and reads repeated ones again", () => {
    // Same length, same first and last four bytes: the scanner's text cache must compare them whole.
    const routes = Array.from(
      { length: 300 },
      (_, index) => `/v1/${String(index % 150).padStart(5, "0")}/end`,
    );
    const body = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: routes.map((route, index) => ({
                traceId,
                spanId,
                name: `op ${String(index % 7).padStart(3, "0")} end`,
                attributes: [{ key: "http.route", value: { stringValue: route } }],
              })),
            },
          ],
        },
      ],
    });
    expect(scannerTakes(body)).toBe(true);
    const spans = decode(body).spans;
    expect(spans.map((span) => span.attributes.httpRoute)).toEqual(routes);
    expect(spans.map((span) => span.name)).toEqual(
      routes.map((_, index) => `op ${String(index % 7).padStart(3, "0")} end`),
    );
  });

  it("cuts a 10 MB attribute value to maxStringLength and reads an enum written as 2.0", () => {
    const huge = `${"é".repeat(5_000_000)}x`;
    const body = requestWith({
      kind: "KIND",
      attributes: [{ key: "http.route", value: { stringValue: huge } }],
    }).replace('"KIND"', "2.0");
    expect(scannerTakes(body)).toBe(true);
    const [span] = decode(body).spans;
    expect(span?.kind).toBe("server");
    expect(span?.attributes.httpRoute).toBe("é".repeat(defaultDecodeLimits.maxStringLength));
  });
});
