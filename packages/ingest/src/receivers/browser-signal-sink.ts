import type { NormalizedSpan } from "@faultline/otlp";

/**
 * Where the Faro receiver hands browser signals: spans made from browser exceptions and page loads,
 * and the spans of Faro's embedded OTLP traces, already decoded. The pipeline implements it and feeds
 * them to the same aggregation as backend spans.
 */
export interface BrowserSignalSink {
  /** Resolves once the spans are accepted (or counted as rejected). Must not throw for bad data. */
  exportSpans(spans: NormalizedSpan[]): Promise<{ rejected: number }>;
  /** Cheap check before reading a body, so overload is answered without buffering it. */
  isOverloaded(): boolean;
}
