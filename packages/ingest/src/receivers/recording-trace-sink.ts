// Test support only: a TraceSink that decodes what it receives, records it, and lets a test choose
// the outcome or flip overload on and off.
import { spanKeysOfJson, spanKeysOfProto } from "./otlp-test-protos.ts";
import type { ExportOutcome, TraceEncoding, TraceSink } from "./trace-sink.ts";

export interface RecordedExport {
  encoding: TraceEncoding;
  body: Buffer;
  /** Span keys `traceId/spanId` decoded from the body. */
  spanKeys: string[];
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

/** Creates a sink that decodes with the test schema; undecodable bodies are answered "invalid". */
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
      let spanKeys: string[];
      try {
        spanKeys = encoding === "proto" ? spanKeysOfProto(body) : spanKeysOfJson(body);
      } catch {
        return { status: "invalid", message: "request body could not be decoded" };
      }
      const record: RecordedExport = { encoding, body: Buffer.from(body), spanKeys };
      sink.received.push(record);
      if (sink.respond !== null) return sink.respond(record);
      return { status: "accepted", rejectedSpans: 0, errorMessage: null };
    },
  };
  return sink;
}
