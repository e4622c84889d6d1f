// TEMPORARY stand-in for the response encoders that @faultline/otlp is about to export
// (encodeExportTraceResponse, encodeRpcStatus); same signatures, so switching is a one-line import.
import { ProtoWriter } from "./proto-writer.ts";
import type { TraceEncoding } from "./trace-sink.ts";

export function encodeExportTraceResponse(
  partial: { rejectedSpans: number; errorMessage: string | null } | null,
  encoding: TraceEncoding,
): Uint8Array {
  const rejected = partial?.rejectedSpans ?? 0;
  const message = partial?.errorMessage ?? "";
  if (encoding === "json") {
    if (rejected === 0 && message === "") return new TextEncoder().encode("{}");
    const inner: Record<string, string> = {};
    if (rejected !== 0) inner.rejectedSpans = String(rejected);
    if (message !== "") inner.errorMessage = message;
    return new TextEncoder().encode(JSON.stringify({ partialSuccess: inner }));
  }
  if (rejected === 0 && message === "") return new Uint8Array(0);
  const ps = new ProtoWriter().varint(1, rejected).string(2, message).finish();
  return new ProtoWriter().bytesField(1, ps.length > 0 ? ps : new Uint8Array(0)).finish();
}

export function encodeRpcStatus(
  status: { code: number; message: string },
  encoding: TraceEncoding,
): Uint8Array {
  if (encoding === "json") return new TextEncoder().encode(JSON.stringify(status));
  return new ProtoWriter().varint(1, status.code).string(2, status.message).finish();
}
