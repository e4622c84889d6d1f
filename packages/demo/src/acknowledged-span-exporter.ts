import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/**
 * Wraps an exporter and counts the spans the receiver acknowledged and those it never did (the
 * exporter gave up: retries exhausted, timed out, refused). An SDK drops such spans with at most a
 * diagnostic line; a replay of a story has to know, since every later conclusion rests on having
 * sent the whole story.
 */
export class AcknowledgedSpanExporter implements SpanExporter {
  acknowledgedSpans = 0;
  lostSpans = 0;
  /** Why the last export failed, for the error a replay raises. */
  lastFailure: Error | undefined;

  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.acknowledgedSpans += spans.length;
      else {
        this.lostSpans += spans.length;
        this.lastFailure = result.error ?? new Error("export failed");
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
