import { ProtoWriter } from "./proto-writer.ts";

const RETRY_INFO_TYPE_URL = "type.googleapis.com/google.rpc.RetryInfo";

/**
 * Encodes a `google.rpc.Status` carrying one `google.rpc.RetryInfo` detail, for the
 * `grpc-status-details-bin` trailer. OTLP clients (the Collector's gRPC exporter among them) read
 * `RetryInfo.retry_delay` on UNAVAILABLE to wait that long instead of their own backoff.
 *
 * @param code gRPC status code (the same one sent in `grpc-status`).
 * @param retryDelaySeconds whole seconds; negative values are treated as 0.
 */
export function encodeRetryInfoStatus(code: number, message: string, retryDelaySeconds: number): Uint8Array {
  // google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2; }
  const duration = new ProtoWriter().varint(1, Math.max(0, Math.floor(retryDelaySeconds))).finish();
  // google.rpc.RetryInfo { Duration retry_delay = 1; } — always present, even for a zero delay.
  const retryInfo = new ProtoWriter().bytesField(1, duration).finish();
  const retryInfoOrEmpty = retryInfo.length > 0 ? retryInfo : Uint8Array.of(0x0a, 0x00);
  // google.protobuf.Any { string type_url = 1; bytes value = 2; }
  const any = new ProtoWriter().string(1, RETRY_INFO_TYPE_URL).bytesField(2, retryInfoOrEmpty).finish();
  // google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  return new ProtoWriter().varint(1, code).string(2, message).bytesField(3, any).finish();
}
