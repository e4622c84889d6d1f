import type { DecodeRejection } from "./normalized-span.ts";

/**
 * Why a span was dropped on its own while the rest of the request was kept (OTLP partial success,
 * conformance list item 10). Short English phrases; the receiver joins them into `error_message`.
 */
export const spanRejectionReason = {
  invalidTraceId: "span with empty or all-zero trace id",
  invalidSpanId: "span with empty or all-zero span id",
  emptyName: "span with empty name",
  endBeforeStart: "span ending before it starts",
} as const;

export type SpanRejectionReason = (typeof spanRejectionReason)[keyof typeof spanRejectionReason];

/** Counts rejected spans and remembers each distinct reason once, in first-seen order. */
export class SpanRejectionTally {
  private count = 0;
  private readonly reasons: SpanRejectionReason[] = [];

  add(reason: SpanRejectionReason): void {
    this.count += 1;
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
  }

  toRejection(): DecodeRejection {
    return { count: this.count, reasons: [...this.reasons] };
  }
}

/**
 * The reason a span must be dropped, or null when it is acceptable. Times are compared as unsigned
 * 64-bit nanoseconds (callers pass bigint).
 */
export function findSpanRejectionReason(
  hasValidTraceId: boolean,
  hasValidSpanId: boolean,
  name: string,
  startTimeUnixNano: bigint,
  endTimeUnixNano: bigint,
): SpanRejectionReason | null {
  if (!hasValidTraceId) return spanRejectionReason.invalidTraceId;
  if (!hasValidSpanId) return spanRejectionReason.invalidSpanId;
  if (name === "") return spanRejectionReason.emptyName;
  if (endTimeUnixNano < startTimeUnixNano) return spanRejectionReason.endBeforeStart;
  return null;
}
