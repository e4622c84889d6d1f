import type { ResponseEncoding } from "./encode-export-trace-response.ts";
import { boundUtf8Text, encodeUtf8Bounded, maxResponseMessageBytes, ProtoWriter } from "./proto-writer.ts";

/** A `google.rpc.Status` failure body (OTLP/HTTP 4xx/5xx responses). */
export interface RpcStatus {
  /** gRPC status code (e.g. 3 INVALID_ARGUMENT); clients ignore it on HTTP, but it helps humans. */
  code: number;
  /** Developer-facing English message; cut to 1 KiB of UTF-8. */
  message: string;
}

const jsonEncoder = new TextEncoder();

/**
 * Encodes a `google.rpc.Status` (`int32 code = 1; string message = 2;`, no details) as protobuf or
 * proto3 JSON (`{"code":3,"message":"…"}`). Zero/empty fields are omitted in protobuf, as proto3 does.
 *
 * @param status the code (an int32; non-integers become 0) and message.
 * @param encoding "proto" or "json", matching the request's Content-Type.
 */
export function encodeRpcStatus(status: RpcStatus, encoding: ResponseEncoding): Uint8Array {
  const code = Number.isInteger(status.code) ? status.code | 0 : 0;
  const message = boundUtf8Text(status.message, maxResponseMessageBytes);
  if (encoding === "json") {
    return jsonEncoder.encode(JSON.stringify({ code, message }));
  }
  const writer = new ProtoWriter();
  if (code !== 0) {
    writer.writeTag(1, 0);
    writer.writeInt32(code);
  }
  if (message !== "") writer.writeBytesField(2, encodeUtf8Bounded(message, maxResponseMessageBytes));
  return writer.finish();
}
