import { replayStory, replayWindow, type StoryName, storyNames } from "@faultline/demo";
import { ConfigError } from "./config.ts";

/** Options of `faultline demo`. */
export interface DemoCommandOptions {
  story: string;
  speed: string;
  api: string;
  otlp: string;
  token?: string;
  warmupSeconds: string;
  settleSeconds: string;
}

/**
 * `faultline demo --story NAME --speed N`: replays one story against a running `faultline serve` on
 * past event time (it ends now), N times faster than real time ("max" for as fast as the receiver
 * takes it), then waits for the correlation report to settle and prints the incidents it found.
 */
export async function runDemoCommand(options: DemoCommandOptions): Promise<void> {
  if (!storyNames.includes(options.story as StoryName)) {
    throw new ConfigError(`--story must be one of ${storyNames.join(", ")}`);
  }
  const story = options.story as StoryName;
  const speed = options.speed === "max" ? Number.POSITIVE_INFINITY : Number(options.speed);
  const warmupSeconds = Number(options.warmupSeconds);
  const settleSeconds = Number(options.settleSeconds);
  if (!(speed > 0) || !(warmupSeconds >= 0) || !(settleSeconds >= 0)) {
    throw new ConfigError(
      "--speed must be a positive number or max; --warmup-seconds and --settle-seconds ≥ 0",
    );
  }
  const api = options.api.replace(/\/+$/, "");
  const otlp = options.otlp.replace(/\/+$/, "");
  const endMs = Date.now() - 5 * 60_000;
  const window = replayWindow({ story, warmupSeconds, endMs });
  const spansSince = await spansSinceReplayStart(api, window.fromMs, options.token);
  if (spansSince > 0) {
    throw new ConfigError(
      `the server at ${api} already has ${spansSince} spans after ${new Date(window.fromMs).toISOString()}, ` +
        "where this replay would start (is `npm start` running against it, or did a replay just run?). " +
        "Detection runs on event time in order, so a replay behind the newest data would be ignored. " +
        "Replay against a server of its own, e.g. `npx faultline serve --data-dir /tmp/faultline-replay " +
        "--port 3100 --otlp-port 4418 --otlp-grpc-port 4417`, then `npx faultline demo --api " +
        "http://127.0.0.1:3100 --otlp http://127.0.0.1:4418`.",
    );
  }
  console.log(`Replaying "${story}" at ${Number.isFinite(speed) ? `${speed}×` : "full speed"} to ${otlp} …`);
  let lastPrint = 0;
  const replay = await replayStory({
    story,
    apiUrl: api,
    otlpHttpUrl: otlp,
    token: options.token,
    speed,
    warmupSeconds,
    endMs,
    onProgress: (reachedMs) => {
      if (Date.now() - lastPrint < 3_000) return;
      lastPrint = Date.now();
      console.log(`  event time ${new Date(reachedMs).toISOString()}`);
    },
  });
  for (const change of replay.changes) {
    console.log(
      `  ${new Date(change.atMs).toISOString()}  ${change.kind} of ${change.service} ${change.version}`,
    );
  }
  console.log(`Traffic sent; waiting up to ${settleSeconds} s for the correlation report to settle …`);
  const incidents = await settledReport(api, replay.fromMs, replay.toMs, settleSeconds, options.token);
  if (incidents.length === 0) console.log("No incident was opened.");
  for (const incident of incidents) {
    const cause = incident.cause
      ? `cause: ${incident.cause.kind} of ${incident.cause.service} ${incident.cause.version ?? ""} (score ${incident.cause.score})`
      : "no change explains it";
    console.log(`  ${incident.title} [${incident.services.join(", ")}] — ${cause}`);
  }
}

/** Spans the server already holds in production from `fromMs` on. */
async function spansSinceReplayStart(
  api: string,
  fromMs: number,
  token: string | undefined,
): Promise<number> {
  const search = new URLSearchParams({
    environment: "production",
    from: new Date(fromMs).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
    step: "1m",
  });
  const response = await fetch(`${api}/api/v1/series?${search}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!response.ok) throw new Error(`the series API answered ${response.status}`);
  const body = (await response.json()) as { series: { points: { spans: number }[] }[] };
  return body.series.flatMap((series) => series.points).reduce((sum, point) => sum + point.spans, 0);
}

interface ReportIncident {
  title: string;
  services: string[];
  cause: { service: string; kind: string; version: string | null; score: number } | null;
}

/**
 * Polls the report every 2 s until three answers in a row agree (with an incident) or time runs out:
 * attribution can land a poll or two after an incident opens.
 */
async function settledReport(
  api: string,
  fromMs: number,
  toMs: number,
  settleSeconds: number,
  token: string | undefined,
): Promise<ReportIncident[]> {
  const search = new URLSearchParams({
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs + 60_000).toISOString(),
    environment: "production",
  });
  const deadline = Date.now() + settleSeconds * 1000;
  let previous = "";
  let agreeing = 0;
  let incidents: ReportIncident[] = [];
  while (Date.now() < deadline) {
    const response = await fetch(`${api}/api/v1/reports/correlation?${search}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (!response.ok) throw new Error(`the report API answered ${response.status}`);
    incidents = ((await response.json()) as { incidents: ReportIncident[] }).incidents;
    const text = JSON.stringify(incidents);
    agreeing = text === previous && incidents.length > 0 ? agreeing + 1 : 0;
    if (agreeing >= 2) break;
    previous = text;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  return incidents;
}
