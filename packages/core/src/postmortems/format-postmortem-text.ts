import { escapeMarkdown } from "../reports/escape-markdown.ts";
import { formatDuration } from "../reports/render-correlation-report-markdown.ts";

export { formatDuration };

/** "2026-11-27 10:06:00 UTC": event times are printed in UTC, the same on every machine. */
export function formatUtcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "10:06:00": the time of day in UTC, for timelines that stay within one day. */
export function formatUtcClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** 12345 → "12,345", the same on every machine. */
export function formatCount(value: number): string {
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A share in [0, 1] as a percentage with one decimal: 0.5512 → "55.1%". */
export function formatShare(share: number): string {
  return `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
}

/** Untrusted text as inline code-like emphasis: escaped, never a code span (a backtick could end it). */
export function quoted(text: string): string {
  return `**${escapeMarkdown(text)}**`;
}

const kindWords: Record<string, string> = {
  deploy: "deploy",
  config: "config change",
  feature_flag: "feature flag change",
  rollback: "rollback",
};

/** "config change to **identity**", "deploy of **dm-api** 3.42.0": escaped. */
export function describeChange(change: { service: string; version: string | null; kind: string }): string {
  const word = kindWords[change.kind] ?? escapeMarkdown(change.kind);
  if (change.kind === "deploy" || change.kind === "rollback") {
    const version = change.version === null ? "" : ` ${escapeMarkdown(change.version)}`;
    return change.kind === "rollback"
      ? `rollback of ${quoted(change.service)}${version === "" ? "" : ` to${version}`}`
      : `deploy of ${quoted(change.service)}${version}`;
  }
  return `${word} to ${quoted(change.service)}`;
}

const signalWords: Record<string, string> = {
  error_rate: "error rate spike",
  throughput: "throughput drop",
  latency: "latency shift",
  browser_errors: "browser error spike",
};

export function describeSignal(signal: string): string {
  return signalWords[signal] ?? escapeMarkdown(signal);
}
