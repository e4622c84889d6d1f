import type { NormalizedSpan } from "@faultline/otlp";

/**
 * Already-decoded spans (the Faro receiver's browser signals) as the write-ahead log keeps them: JSON,
 * with the two nanosecond timestamps as decimal strings (JSON has no bigint). Browser traffic is small,
 * so a compact binary form would not pay for itself. Non-finite times come back as null, which
 * aggregation rejects exactly like the original NaN ("invalid start time or duration").
 */
export function encodeSpansForLog(spans: readonly NormalizedSpan[]): Uint8Array {
  return Buffer.from(
    JSON.stringify(spans, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
    "utf8",
  );
}

/** The spans {@link encodeSpansForLog} wrote. */
export function decodeSpansFromLog(bytes: Uint8Array): NormalizedSpan[] {
  const spans = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  if (!Array.isArray(spans)) throw new Error("logged spans are not an array");
  return spans.map((span: NormalizedSpan & { startTimeUnixNano: string; endTimeUnixNano: string }) => ({
    ...span,
    startTimeUnixNano: BigInt(span.startTimeUnixNano),
    endTimeUnixNano: BigInt(span.endTimeUnixNano),
  }));
}
