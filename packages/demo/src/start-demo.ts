import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { brokerKindOf, connectBroker } from "./connect-broker.ts";
import { createPlatform, type DemoTarget } from "./create-platform.ts";
import { buildStory, type StoryName } from "./demo-stories.ts";
import type { MessagingPlatform } from "./messaging-platform.ts";
import { postChange, runTimeline, scheduleStory, type TimedStep } from "./run-timeline.ts";

/** Options of {@link startDemo}. */
export interface DemoOptions extends DemoTarget {
  /**
   * A small JSON file remembering how far the demo has simulated, so a restart resumes instead of
   * backfilling (and double-counting) the same hours again.
   */
  stateFile: string;
  /**
   * Hours of history generated on first start (default 1). The live outage can only start once the
   * history is in (detection runs on event time, in order), so this sets how soon a fresh `npm start`
   * shows it: about 10 s of backfill per hour on an idle machine, several times that on a busy one.
   */
  backfillHours?: number;
  /** Mean root requests per second (default 12). */
  rootRate?: number;
  /** Seconds of live traffic before the first story's first change (default 0). */
  leadInSeconds?: number;
  /** Quiet seconds between live stories (default 600). */
  quietSeconds?: number;
  /**
   * Runs the live traffic's dm.messages hop over this RabbitMQ (amqp://…) or NATS JetStream (nats://…).
   * The backfill always uses the in-memory broker: the real brokers' messaging spans carry wall-clock
   * times, which only live traffic has.
   */
  brokerUrl?: string | undefined;
  /** Structured progress lines. */
  log(message: string, fields?: Record<string, unknown>): void;
  /** Lines meant for the person watching (what is happening, what to look for). */
  announce(line: string): void;
}

/** A running demo. */
export interface RunningDemo {
  /** Settles when the history is backfilled and live traffic has started; rejects if that failed. */
  backfilled: Promise<void>;
  /** Stops the traffic, flushes what was generated and records how far it got. */
  close(): Promise<void>;
}

interface DemoState {
  /** Event time (epoch ms) up to which traffic was generated and acknowledged. */
  simulatedUntilMs: number;
  /** Live stories told so far; each telling deploys new versions. */
  rounds: number;
}

const liveSliceMs = 5_000;
/**
 * Event time per backfill request. The backfill exports through one collector-like exporter, so each
 * slice arrives as one request and one ingest commit, in event-time order; larger slices mean fewer
 * commits (a 2 h backfill took 48 s in 60 s slices sent per instance, and about half that in 5 min
 * slices sent whole).
 */
const backfillSliceMs = 300_000;

/**
 * Runs the demo platform against a Faultline server: on first start it backfills `backfillHours` of
 * history at full speed (steady traffic with a daily rhythm and a past dm-api canary incident), ending
 * at now; then it continues live, telling the identity outage story shortly after start, and the
 * stories in turn after that. A later start backfills only the gap since the last run.
 */
export function startDemo(options: DemoOptions): RunningDemo {
  const stop = new AbortController();
  const backfillHours = options.backfillHours ?? 1;
  let resolveBackfilled: () => void = () => {};
  let rejectBackfilled: (error: unknown) => void = () => {};
  const backfilled = new Promise<void>((resolve, reject) => {
    resolveBackfilled = resolve;
    rejectBackfilled = reject;
  });
  backfilled.catch(() => {});
  const run = (async () => {
    const state = await readState(options.stateFile);
    const nowMs = Math.floor(Date.now() / 10_000) * 10_000;
    const fromMs = Math.max(state?.simulatedUntilMs ?? 0, nowMs - backfillHours * 3_600_000);
    const connected = createPlatform({
      ...options,
      seed: `demo:${nowMs}`,
      rootRate: options.rootRate ?? 12,
      collector: true,
    });
    const saved: DemoState = { simulatedUntilMs: fromMs, rounds: state?.rounds ?? 0 };
    let lastSaveMs = 0;
    // Saves one after another, so two writes never race on the temporary file.
    let saving = Promise.resolve();
    const save = () => {
      const snapshot = { ...saved };
      saving = saving
        .then(() => writeState(options.stateFile, snapshot))
        .catch((error: unknown) => options.log("could not save the demo state", { err: error }));
      return saving;
    };
    const progress = (reachedMs: number) => {
      saved.simulatedUntilMs = reachedMs;
      if (Date.now() - lastSaveMs > 5_000) {
        lastSaveMs = Date.now();
        void save();
      }
    };
    const report = (change: Parameters<typeof postChange>[2], atMs: number) =>
      postChange(options.apiUrl, connected.environment, change, atMs, options.token).then(() =>
        options.log("change reported", {
          service: change.service,
          kind: change.kind,
          version: change.version,
        }),
      );
    try {
      // History: a past canary incident 40 minutes ago (after 20 minutes of baseline in the default
      // hour), only on a fresh start (a resumed demo already has its history; the gap is filled with
      // steady traffic).
      const pastStepMs = nowMs - 40 * 60_000;
      const history: TimedStep[] =
        state === null && pastStepMs - fromMs > 10 * 60_000
          ? scheduleStory(buildStory("dm-canary"), pastStepMs)
          : [];
      if (nowMs > fromMs) {
        options.announce(
          state === null
            ? `Backfilling ${backfillHours} h of history at full speed (with a past dm-api canary incident)…`
            : `Resuming: filling the ${Math.round((nowMs - fromMs) / 60_000)} min since the last run…`,
        );
        const started = Date.now();
        // The backfill itself takes a while, so it catches up in passes. Detection treats data
        // within two minutes of the wall clock as live and closes its buckets behind the clock, so every
        // pass but the last stops short of that; the last (a few seconds of work) closes the gap at
        // once, and live traffic continues exactly where the history ends.
        let cursor = fromMs;
        let steps = history;
        while (!stop.signal.aborted) {
          const nearNow = Date.now() - cursor < 200_000;
          cursor = await runTimeline({
            platform: connected.platform,
            fromMs: cursor,
            toMs: Math.floor(Date.now() / 1000) * 1000 - (nearNow ? 0 : 150_000),
            steps,
            signal: stop.signal,
            sliceMs: backfillSliceMs,
            reportChange: report,
            onProgress: progress,
          });
          steps = [];
          if (nearNow) break;
        }
        options.log("history backfilled", { seconds: Math.round((Date.now() - started) / 1000) });
      }
      await save();
      resolveBackfilled();
      // Live traffic from the instances' own SDKs and exporters, each sending as a deployed process would.
      let livePlatform: MessagingPlatform | undefined;
      const broker = options.brokerUrl
        ? await connectBroker(options.brokerUrl, (kind) => {
            if (!livePlatform) throw new Error("the live platform is not built yet");
            return livePlatform.messagingTracer(kind);
          })
        : undefined;
      const live = createPlatform({
        ...options,
        seed: `demo-live:${nowMs}`,
        rootRate: options.rootRate ?? 12,
        ...(broker ? { broker } : {}),
      });
      livePlatform = live.platform;
      if (options.brokerUrl) {
        options.announce(
          `live dm.messages traffic goes through ${brokerKindOf(options.brokerUrl)} at ${new URL(options.brokerUrl).host}`,
        );
      }
      try {
        await tellLive(options, live.platform, saved, report, progress, stop.signal);
      } finally {
        await live.close();
      }
    } catch (error) {
      rejectBackfilled(error);
      if (!stop.signal.aborted) throw error;
    } finally {
      await connected.close();
      await save();
    }
  })();
  run.catch((error: unknown) => options.log("the demo stopped with an error", { err: error }));
  return {
    backfilled,
    close: async () => {
      stop.abort();
      await run.catch(() => {});
    },
  };
}

/** Live traffic forever: the identity outage first, then the stories in turn with quiet time between. */
async function tellLive(
  options: DemoOptions,
  platform: MessagingPlatform,
  state: DemoState,
  report: (change: Parameters<typeof postChange>[2], atMs: number) => Promise<void>,
  progress: (reachedMs: number) => void,
  signal: AbortSignal,
): Promise<void> {
  const order: StoryName[] = ["identity-outage", "dm-canary"];
  let cursor = state.simulatedUntilMs;
  let leadInMs = (options.leadInSeconds ?? 0) * 1000;
  while (!signal.aborted) {
    const name = order[state.rounds % order.length] ?? "identity-outage";
    const story = buildStory(name, Math.floor(state.rounds / order.length) + 1);
    const firstStepMs = cursor + leadInMs;
    options.announce(
      `Live story "${name}" starts at ${new Date(firstStepMs).toISOString()}: watch for ${story.watchFor}.`,
    );
    cursor = await runTimeline({
      platform,
      fromMs: cursor,
      toMs: firstStepMs + story.durationSeconds * 1000,
      steps: scheduleStory(story, firstStepMs),
      realTime: true,
      sliceMs: liveSliceMs,
      signal,
      reportChange: report,
      onProgress: progress,
    });
    if (!signal.aborted) state.rounds += 1;
    leadInMs = (options.quietSeconds ?? 600) * 1000;
  }
}

async function readState(file: string): Promise<DemoState | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "simulatedUntilMs" in parsed &&
      typeof parsed.simulatedUntilMs === "number" &&
      "rounds" in parsed &&
      typeof parsed.rounds === "number"
    ) {
      return { simulatedUntilMs: parsed.simulatedUntilMs, rounds: parsed.rounds };
    }
    return null;
  } catch {
    return null;
  }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a state file. */
async function writeState(file: string, state: DemoState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify(state));
  await rename(temporary, file);
}
