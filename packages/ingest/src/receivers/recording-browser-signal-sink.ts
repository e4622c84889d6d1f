// Test support only: a BrowserSignalSink that keeps what it receives and lets a test await a condition.
import type { NormalizedSpan } from "@faultline/otlp";
import type { BrowserSignalSink } from "./browser-signal-sink.ts";

export class RecordingBrowserSignalSink implements BrowserSignalSink {
  readonly spans: NormalizedSpan[] = [];
  overloaded = false;
  failNext = false;
  private waiters: { test: (spans: readonly NormalizedSpan[]) => boolean; resolve: () => void }[] = [];

  async exportSpans(spans: NormalizedSpan[]): Promise<{ rejected: number }> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("simulated sink failure");
    }
    this.spans.push(...spans);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.test(this.spans)) return true;
      waiter.resolve();
      return false;
    });
    return { rejected: 0 };
  }

  isOverloaded(): boolean {
    return this.overloaded;
  }

  /** Resolves as soon as the spans received so far satisfy `test` (event-driven, no polling). */
  until(test: (spans: readonly NormalizedSpan[]) => boolean): Promise<void> {
    if (test(this.spans)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}
