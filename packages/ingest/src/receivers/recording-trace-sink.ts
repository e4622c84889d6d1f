// Test support only: a TraceSink that decodes what it receives with the real decoders of
// @faultline/otlp, records it, and lets a test choose the outcome or flip overload on and off.
import {
  type DecodeResult,
  decodeTraceRequestJson,
  decodeTraceRequestProto,
  OtlpDecodeError,
} from "@faultline/otlp";
import type { ExportOutcome, TraceEncoding, TraceSink } from "./trace-sink.ts";

export interface RecordedExport {
  encoding: TraceEncoding;
  body: Buffer;
  /** Span keys `traceId/spanId` decoded from the body. */
  spanKeys: string[];
  decoded: DecodeResult;
}

export interface RecordingSink extends TraceSink {
  readonly received: RecordedExport[];
  /** Every span key received so far, in arrival order. */
  spanKeys(): string[];
  overloaded: boolean;
  /** Replaces the default outcome (accept everything decodable). */
  respond: ((request: RecordedExport) => ExportOutcome | Promise<ExportOutcome>) | null;
  isOverloadedCalls: number;
}

/**
 * Creates a sink that decodes with the real decoders; undecodable bodies are answered "invalid" and
 * spans the decoder rejected become a partial success, as the pipeline will do.
 */
export function createRecordingSink(): RecordingSink {
  const sink: RecordingSink = {
    received: [],
    overloaded: false,
    respond: null,
    isOverloadedCalls: 0,
    spanKeys: () => sink.received.flatMap((r) => r.spanKeys),
    isOverloaded() {
      sink.isOverloadedCalls += 1;
      return sink.overloaded;
    },
    async exportTraces({ body, encoding }) {
      let decoded: DecodeResult;
      try {
        decoded = encoding === "proto" ? decodeTraceRequestProto(body) : decodeTraceRequestJson(body);
      } catch (err) {
        if (err instanceof OtlpDecodeError)
          return { status: "invalid", message: "request body could not be decoded" };
        throw err;
      }
      const spanKeys = decoded.spans.map((s) => `${s.traceId}/${s.spanId}`);
      const record: RecordedExport = { encoding, body: Buffer.from(body), spanKeys, decoded };
      sink.received.push(record);
      if (sink.respond !== null) return sink.respond(record);
      const rejected = decoded.rejected.count;
      return {
        status: "accepted",
        rejectedSpans: rejected,
        errorMessage: rejected > 0 ? decoded.rejected.reasons.join("; ") : null,
      };
    },
  };
  return sink;
}
