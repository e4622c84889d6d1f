import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { ExportTraceServiceResponseType } from "../test-support/otlp-proto-root.ts";
import { encodeExportTraceResponse } from "./encode-export-trace-response.ts";
import { encodeRpcStatus } from "./encode-rpc-status.ts";

const RpcStatusType = new protobuf.Type("Status")
  .add(new protobuf.Field("code", 1, "int32"))
  .add(new protobuf.Field("message", 2, "string"));

const decodeText = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe("encodeExportTraceResponse", () => {
  it("encodes full success as an empty message and {}", () => {
    expect(encodeExportTraceResponse(null, "proto")).toEqual(new Uint8Array(0));
    expect(decodeText(encodeExportTraceResponse(null, "json"))).toBe("{}");
    expect(encodeExportTraceResponse({ rejectedSpans: 0, errorMessage: "" }, "proto")).toHaveLength(0);
    expect(ExportTraceServiceResponseType.decode(new Uint8Array(0)).partialSuccess ?? null).toBeNull();
  });

  it("encodes partial success that protobufjs decodes back", () => {
    const bytes = encodeExportTraceResponse(
      { rejectedSpans: 3, errorMessage: "3 spans had a zero trace id" },
      "proto",
    );
    const decoded = ExportTraceServiceResponseType.decode(bytes);
    expect(String(decoded.partialSuccess?.rejectedSpans)).toBe("3");
    expect(decoded.partialSuccess?.errorMessage).toBe("3 spans had a zero trace id");
  });

  it("encodes large counts as int64 varints", () => {
    const decoded = ExportTraceServiceResponseType.decode(
      encodeExportTraceResponse({ rejectedSpans: 2 ** 40 + 7, errorMessage: "x" }, "proto"),
    );
    expect(String(decoded.partialSuccess?.rejectedSpans)).toBe(String(2 ** 40 + 7));
  });

  it("encodes partial success JSON with int64 as a string", () => {
    expect(decodeText(encodeExportTraceResponse({ rejectedSpans: 3, errorMessage: "bad ids" }, "json"))).toBe(
      '{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad ids"}}',
    );
  });

  it("encodes a warning (0 rejected, message set)", () => {
    const decoded = ExportTraceServiceResponseType.decode(
      encodeExportTraceResponse({ rejectedSpans: 0, errorMessage: "clock skew" }, "proto"),
    );
    expect(decoded.partialSuccess?.errorMessage).toBe("clock skew");
  });

  it("cuts long messages to 1 KiB of UTF-8 without splitting characters", () => {
    const long = "é".repeat(5000);
    const decoded = ExportTraceServiceResponseType.decode(
      encodeExportTraceResponse({ rejectedSpans: 1, errorMessage: long }, "proto"),
    );
    const message = decoded.partialSuccess?.errorMessage ?? "";
    expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(1024);
    expect(message).toBe("é".repeat(512));
    const json = JSON.parse(
      decodeText(encodeExportTraceResponse({ rejectedSpans: 1, errorMessage: long }, "json")),
    );
    expect(json.partialSuccess.errorMessage).toBe("é".repeat(512));
  });
});

describe("encodeRpcStatus", () => {
  it("encodes google.rpc.Status that protobufjs decodes back", () => {
    const decoded = RpcStatusType.decode(
      encodeRpcStatus({ code: 3, message: "truncated varint at byte 7" }, "proto"),
    );
    expect(decoded.toJSON()).toEqual({ code: 3, message: "truncated varint at byte 7" });
  });

  it("encodes negative codes as sign-extended int32", () => {
    const decoded = RpcStatusType.decode(encodeRpcStatus({ code: -5, message: "" }, "proto"));
    expect(decoded.toJSON()).toEqual({ code: -5 });
  });

  it("encodes JSON with a numeric code", () => {
    expect(JSON.parse(decodeText(encodeRpcStatus({ code: 8, message: "slow down" }, "json")))).toEqual({
      code: 8,
      message: "slow down",
    });
  });

  it("keeps the message within 1 KiB", () => {
    const bytes = encodeRpcStatus({ code: 3, message: "x".repeat(100_000) }, "proto");
    expect(bytes.length).toBeLessThan(1100);
  });
});
