import type { ExportOutcome } from "./trace-sink.ts";

/**
 * Longest error or partial-success text sent back, in UTF-16 code units. The spec caps responses at
 * 4 MiB and the Collector reads only 64 KiB of one, so a short cap keeps every answer readable.
 */
export const MAX_MESSAGE_CHARS = 1024;

/** Cuts `message` to `MAX_MESSAGE_CHARS` (ending with "…"), never splitting a surrogate pair. */
export function truncateMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return message;
  let cut = MAX_MESSAGE_CHARS - 1;
  const code = message.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${message.slice(0, cut)}…`;
}

/**
 * The `partial_success` to encode for an accepted export: null (field unset, full success) unless
 * spans were rejected or the sink left a warning message.
 */
export function partialSuccessOf(
  outcome: Extract<ExportOutcome, { status: "accepted" }>,
): { rejectedSpans: number; errorMessage: string } | null {
  const message = outcome.errorMessage ?? "";
  if (outcome.rejectedSpans <= 0 && message === "") return null;
  return { rejectedSpans: Math.max(0, outcome.rejectedSpans), errorMessage: truncateMessage(message) };
}
