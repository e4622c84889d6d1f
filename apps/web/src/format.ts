/** Display helpers. Everything returns plain strings; React escapes them when rendering. */

export function formatAgo(ms: number, nowMs: number): string {
  return `${formatDuration(Math.max(0, nowMs - ms))} ago`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 && minutes < 10 ? `${minutes}m ${seconds % 60}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

export function formatPercent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "–";
  const percent = rate * 100;
  if (percent === 0) return "0%";
  if (percent < 0.1) return "<0.1%";
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined) return "–";
  if (perSecond === 0) return "0/s";
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k/s`;
  if (perSecond >= 10) return `${Math.round(perSecond)}/s`;
  if (perSecond >= 0.1) return `${perSecond.toFixed(1)}/s`;
  return `${(perSecond * 60).toFixed(1)}/min`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms === 0) return "0 ms";
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** A suspect's confidence, 0..1, as the detector reports it (two decimals: 0.99 is not 100%). */
export function formatScore(score: number): string {
  return score.toFixed(2);
}

export function formatCount(count: number): string {
  return count.toLocaleString("en");
}

const timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false });
const dateTimeFormat = new Intl.DateTimeFormat("en-GB", {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

export function formatClock(ms: number): string {
  return timeFormat.format(ms);
}

const dayFormat = new Intl.DateTimeFormat("en-GB", {
  weekday: "short",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

/** An axis tick over several days: "Sat 06:00". */
export function formatDay(ms: number): string {
  return dayFormat.format(ms);
}

export function formatDateTime(ms: number): string {
  return dateTimeFormat.format(ms);
}

/** A change in a few words: "deploy identity 1.4.0 (was 1.3.2)". */
export function describeChange(change: {
  kind: string;
  service: string;
  version: string | null;
  previousVersion?: string | null;
}): string {
  const kind = change.kind.replace("_", " ");
  const version = change.version ? ` ${change.version}` : "";
  const previous = change.previousVersion ? ` (was ${change.previousVersion})` : "";
  return `${kind} ${change.service}${version}${previous}`;
}
