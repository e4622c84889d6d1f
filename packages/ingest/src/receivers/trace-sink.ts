/**
 * The seam between the OTLP transports and whatever happens to trace data next. Receivers only move
 * bytes: they authenticate, decompress and bound the body, then hand it to a sink, which decodes,
 * validates and persists it. Keeping decoding out of the transport lets the HTTP and gRPC receivers be
 * tested (and benchmarked) independently of the pipeline, and lets the pipeline change without
 * touching socket code.
 */

/** Wire encoding of an `ExportTraceServiceRequest` body. */
export type TraceEncoding = "proto" | "json";

/** What the sink made of one export request; the receivers map it onto HTTP and gRPC statuses. */
export type ExportOutcome =
  /** Full success (`rejectedSpans` 0 and no message) or OTLP partial success. HTTP 200 / gRPC OK. */
  | { status: "accepted"; rejectedSpans: number; errorMessage: string | null }
  /** Undecodable or permanently invalid body: HTTP 400 / gRPC INVALID_ARGUMENT (never retried). */
  | { status: "invalid"; message: string }
  /** Queue full or memory watermark reached: HTTP 503 + `Retry-After` / gRPC UNAVAILABLE + RetryInfo. */
  | { status: "overloaded"; retryAfterSeconds: number };

/** Receives raw, already decompressed OTLP trace export bodies from the receivers. */
export interface TraceSink {
  /** Resolves once the data is durable (or rejected). Must not throw for bad data. */
  exportTraces(request: { body: Uint8Array; encoding: TraceEncoding }): Promise<ExportOutcome>;
  /** Cheap check before reading a body, so overload is answered without buffering it. */
  isOverloaded(): boolean;
}
