import { createPlatform, type PlatformSetup } from "./create-platform.ts";
import { buildStory, type StoryName } from "./demo-stories.ts";
import { postChange, runTimeline, scheduleStory } from "./run-timeline.ts";

/** Options of {@link replayStory}. */
export interface ReplayOptions extends Omit<PlatformSetup, "seed" | "rootRate"> {
  story: StoryName;
  /** Event-time speed-up; Infinity (default) sends as fast as the receiver accepts. */
  speed?: number;
  /** Steady traffic before the first step, seconds (detection needs ~3 minutes of history). */
  warmupSeconds?: number;
  /** Mean root requests per second (default 12). */
  rootRate?: number;
  seed?: string;
  /**
   * Event time at which the story's traffic ends. The default, five minutes ago, keeps the whole replay
   * clearly in the past, so detection closes buckets on event time (and flushes when the sender goes
   * quiet) instead of racing the wall clock as it does for live data.
   */
  endMs?: number;
  signal?: AbortSignal;
  onProgress?(reachedMs: number): void;
}

/** What a replay produced, for printing and for tests. */
export interface ReplayResult {
  fromMs: number;
  toMs: number;
  firstStepMs: number;
  /** Event times of the story's changes, in order. */
  changes: { service: string; kind: string; version: string; atMs: number }[];
}

/**
 * The event-time window a replay of `story` covers: it ends at `endMs` (default five minutes ago) and
 * starts `warmupSeconds` (default 300) before the story's first step.
 */
export function replayWindow(options: Pick<ReplayOptions, "story" | "warmupSeconds" | "endMs">): {
  fromMs: number;
  toMs: number;
  firstStepMs: number;
} {
  const story = buildStory(options.story);
  const warmupMs = (options.warmupSeconds ?? 300) * 1000;
  const toMs = Math.floor((options.endMs ?? Date.now() - 5 * 60_000) / 10_000) * 10_000;
  const fromMs = toMs - story.durationSeconds * 1000 - warmupMs;
  return { fromMs, toMs, firstStepMs: fromMs + warmupMs };
}

/**
 * Replays one story on past event time, ending at `endMs`: warm-up traffic, then the story's changes
 * (reported through the deploy API) and faults, then its recovery. The watermark of event-time
 * detection advances with the replayed spans, so the incident appears as it would have live.
 */
export async function replayStory(options: ReplayOptions): Promise<ReplayResult> {
  const story = buildStory(options.story);
  const { fromMs, toMs, firstStepMs } = replayWindow(options);
  // Through one collector-like exporter, as the backfill sends history: each slice is one request, so
  // a sender stalled between requests cannot leave a bucket half sent (see TelemetryTarget.collector).
  const connected = createPlatform({
    collector: true,
    ...options,
    seed: options.seed ?? `${options.story}:${fromMs}`,
    rootRate: options.rootRate ?? 12,
  });
  const steps = scheduleStory(story, firstStepMs);
  let failure: unknown = null;
  try {
    await runTimeline({
      platform: connected.platform,
      fromMs,
      toMs,
      steps,
      ...(options.speed === undefined ? {} : { speed: options.speed }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      reportChange: (change, atMs) =>
        postChange(options.apiUrl, connected.environment, change, atMs, options.token),
    });
  } catch (error) {
    failure = error;
  }
  await connected.close().catch((error: unknown) => {
    failure ??= error;
  });
  // A story with a hole in it would make detection's verdict about something other than the story.
  const lost = connected.unacknowledged();
  if (lost.spans > 0) {
    throw new Error(
      `the receiver never acknowledged ${lost.spans} spans of the ${options.story} replay: ${lost.lastFailure?.message ?? "unknown error"}`,
      { cause: failure ?? lost.lastFailure },
    );
  }
  if (failure !== null) throw failure;
  return {
    fromMs,
    toMs,
    firstStepMs,
    changes: steps.map((step) => ({
      service: step.change.service,
      kind: step.change.kind,
      version: step.change.version,
      atMs: step.atMs,
    })),
  };
}
