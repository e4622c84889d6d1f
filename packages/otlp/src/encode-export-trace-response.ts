import { boundUtf8Text, encodeUtf8Bounded, maxResponseMessageBytes, ProtoWriter } from "./proto-writer.ts";

/** What went partially wrong with an accepted request (OTLP `ExportTracePartialSuccess`). */
export interface ExportTracePartialSuccess {
  /** Spans dropped on their own; a non-negative integer (clamped otherwise). */
  rejectedSpans: number;
  /** Short English explanation; cut to 1 KiB of UTF-8. */
  errorMessage: string;
}

export type ResponseEncoding = "proto" | "json";

const jsonEncoder = new TextEncoder();

/**
 * Encodes an `ExportTraceServiceResponse` body for OTLP/HTTP (and gRPC, with "proto").
 *
 * `null`, or zero rejected spans with an empty message, is full success: an empty protobuf message or
 * `{}`. Otherwise `partial_success` carries `rejected_spans` (int64; a decimal string in JSON, as proto3
 * JSON requires) and `error_message`; rejectedSpans 0 with a message is a warning, per the spec.
 *
 * @param partialSuccess what was rejected, or null for full success.
 * @param encoding "proto" for application/x-protobuf, "json" for application/json.
 */
export function encodeExportTraceResponse(
  partialSuccess: ExportTracePartialSuccess | null,
  encoding: ResponseEncoding,
): Uint8Array {
  const rejectedSpans =
    partialSuccess === null ? 0 : clampToNonNegativeSafeInteger(partialSuccess.rejectedSpans);
  const errorMessage =
    partialSuccess === null ? "" : boundUtf8Text(partialSuccess.errorMessage, maxResponseMessageBytes);
  const isFullSuccess = rejectedSpans === 0 && errorMessage === "";

  if (encoding === "json") {
    if (isFullSuccess) return jsonEncoder.encode("{}");
    return jsonEncoder.encode(
      JSON.stringify({ partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } }),
    );
  }

  if (isFullSuccess) return new Uint8Array(0);
  const inner = new ProtoWriter();
  if (rejectedSpans !== 0) {
    inner.writeTag(1, 0);
    inner.writeVarint(rejectedSpans);
  }
  if (errorMessage !== "") {
    inner.writeBytesField(2, encodeUtf8Bounded(errorMessage, maxResponseMessageBytes));
  }
  const outer = new ProtoWriter();
  outer.writeBytesField(1, inner.finish());
  return outer.finish();
}

function clampToNonNegativeSafeInteger(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER);
}
