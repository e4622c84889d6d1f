import type { ChangeReport, Story } from "./demo-stories.ts";
import type { MessagingPlatform } from "./messaging-platform.ts";

/** A story step placed on the event-time axis. */
export interface TimedStep {
  atMs: number;
  change: ChangeReport;
  apply(platform: MessagingPlatform): void;
}

/** Options of {@link runTimeline}. */
export interface TimelineOptions {
  platform: MessagingPlatform;
  /** Event time (epoch ms) of the first and after the last simulated request. */
  fromMs: number;
  toMs: number;
  steps: readonly TimedStep[];
  /** Reports a change to the deploy API; called after all earlier traffic was acknowledged. */
  reportChange(change: ChangeReport, atMs: number): Promise<void>;
  /**
   * Event-time ms per wall-clock ms: 1 is live, 60 a minute per second; absent or Infinity runs as fast
   * as the receiver accepts.
   */
  speed?: number;
  /**
   * Live: each slice is generated once the wall clock has passed its end, so event time is the wall
   * clock (overrides `speed`).
   */
  realTime?: boolean;
  /** Event time generated per step of the loop, ms (default 10 s). */
  sliceMs?: number;
  signal?: AbortSignal;
  /** Called after each slice was acknowledged, with the event time reached. */
  onProgress?(reachedMs: number): void;
}

/** Places a story's steps on the event-time axis, its first step at `firstStepMs`. */
export function scheduleStory(story: Story, firstStepMs: number): TimedStep[] {
  return story.steps.map((step) => ({ ...step, atMs: firstStepMs + step.atSeconds * 1000 }));
}

/**
 * Generates the platform's traffic over `[fromMs, toMs)` in slices, reporting and applying each step
 * when event time reaches it. A change is reported only after every span before it was acknowledged,
 * as a CI system reports a deploy after the traffic that preceded it. Returns the event time reached
 * (less than `toMs` when aborted).
 */
export async function runTimeline(options: TimelineOptions): Promise<number> {
  const { platform, fromMs, toMs, signal } = options;
  const sliceMs = options.sliceMs ?? 10_000;
  const speed = options.speed ?? Number.POSITIVE_INFINITY;
  const steps = [...options.steps].sort((a, b) => a.atMs - b.atMs);
  const wallStart = Date.now();
  let cursor = fromMs;
  while (cursor < toMs && !signal?.aborted) {
    while (steps[0] && steps[0].atMs <= cursor) {
      const step = steps.shift();
      if (!step) break;
      await options.reportChange(step.change, step.atMs);
      step.apply(platform);
    }
    const end = Math.min(cursor + sliceMs, toMs, steps[0]?.atMs ?? Number.POSITIVE_INFINITY);
    if (options.realTime || Number.isFinite(speed)) {
      await sleepUntil(options.realTime ? end : wallStart + (end - fromMs) / speed, signal);
      if (signal?.aborted) break;
    }
    await platform.simulate(cursor, end);
    cursor = end;
    options.onProgress?.(cursor);
  }
  return cursor;
}

/** Sleeps until the wall clock reaches `atMs`, or the signal aborts. */
function sleepUntil(atMs: number, signal: AbortSignal | undefined): Promise<void> {
  const delay = atMs - Date.now();
  if (delay <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, delay);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Posts a change to Faultline's deploy API as a CI system would. */
export async function postChange(
  apiUrl: string,
  environment: string,
  change: ChangeReport,
  atMs: number,
  token?: string,
): Promise<void> {
  const response = await fetch(`${apiUrl}/api/v1/deploys`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ ...change, environment, startedAt: new Date(atMs).toISOString() }),
  });
  if (!response.ok) {
    throw new Error(`deploy API answered ${response.status}: ${await response.text()}`);
  }
}
