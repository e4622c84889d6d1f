import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayStory, type StoryName } from "@faultline/demo";
import { parseServeConfig, type RunningServer, serveSettings, startServer } from "@faultline/server";
import { pino } from "pino";

export interface ServedStory {
  server: RunningServer;
  apiUrl: string;
  otlpHttpUrl: string;
  replay: { fromMs: number; toMs: number };
  close(): Promise<void>;
}

const defaults = Object.fromEntries(serveSettings.map((setting) => [setting.key, setting.default]));

/**
 * A real `faultline serve` on a fresh embedded database and ephemeral ports, serving the UI from
 * `webDist`, with a demo story replayed into it at full speed (event time ending five minutes ago) and
 * detection given time to settle: waits until the story's incident has its cause and detection's last
 * word on it.
 */
export async function serveWithStory(options: {
  story: StoryName;
  webDist: string;
  traceUrlTemplate?: string;
  port?: number;
  /** A `--notify-config` file (paging destinations, rules, mutes). */
  notifyConfig?: string;
  /** `--token`: ingest and API writes need it (the replay sends it too). */
  token?: string;
  /** False: settled once the incident list stops changing, whether or not a cause was attributed. */
  untilCause?: boolean;
}): Promise<ServedStory> {
  const dataDir = await mkdtemp(join(tmpdir(), "faultline-ui-"));
  const config = parseServeConfig({
    ...defaults,
    dataDir,
    port: String(options.port ?? 0),
    otlpPort: "0",
    otlpGrpcPort: "0",
    webDist: options.webDist,
    traceUrlTemplate: options.traceUrlTemplate ?? "http://localhost:16686/trace/{traceId}",
    ...(options.notifyConfig ? { notifyConfig: options.notifyConfig } : {}),
    ...(options.token ? { token: options.token } : {}),
  });
  const server = await startServer(config, pino({ level: process.env.E2E_LOG ?? "silent" }));
  const { otlpHttpUrl } = await server.ready;
  const replay = await replayStory({
    story: options.story,
    apiUrl: server.apiUrl,
    otlpHttpUrl,
    seed: `ui:${options.story}`,
    ...(options.token ? { token: options.token } : {}),
    endMs: Date.now() - 5 * 60_000,
  });
  await waitUntilSettled(server.apiUrl, options.untilCause ?? true);
  return {
    server,
    apiUrl: server.apiUrl,
    otlpHttpUrl,
    replay,
    close: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Detection closes a replay's newest bucket once the sender has been quiet for 15 s (see the detection
 * runner), and may resolve the story's incident only then; a test acting on the incident earlier would
 * race that last word. So the triage list has to stay the same for longer than that.
 */
const unchangedForMs = 20_000;

/**
 * Polls the triage list until it has an incident (each with a cause, when `requireCause`) and has not
 * changed for {@link unchangedForMs}.
 */
async function waitUntilSettled(apiUrl: string, requireCause: boolean, deadlineMs = 150_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let previous = "";
  let unchangedSinceMs = Date.now();
  while (Date.now() < deadline) {
    const response = await fetch(`${apiUrl}/trpc/incidents.list`);
    const body = (await response.json()) as {
      result: { data: { incidents: { id: string; causeChangeId: string | null; status: string }[] } };
    };
    const incidents = body.result.data.incidents.map(({ id, causeChangeId, status }) => ({
      id,
      causeChangeId,
      status,
    }));
    const text = JSON.stringify(incidents);
    const found =
      incidents.length > 0 && incidents.every((incident) => !requireCause || incident.causeChangeId);
    if (text !== previous || !found) unchangedSinceMs = Date.now();
    if (Date.now() - unchangedSinceMs >= unchangedForMs) return;
    previous = text;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  throw new Error(
    `no settled incident${requireCause ? " with a cause" : ""} within ${deadlineMs} ms: ${previous}\n${await describeIncidents(apiUrl, previous)}`,
  );
}

/**
 * What detection knew when no cause came, for the failure message: each incident as its page shows it
 * (signal, onset, suspects with their evidence, timeline) and the changes on record.
 */
async function describeIncidents(apiUrl: string, listed: string): Promise<string> {
  const ids = (JSON.parse(listed || "[]") as { id: string }[]).map((incident) => incident.id);
  const query = async (path: string, input: unknown) =>
    (await fetch(`${apiUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)).json();
  const incidents = await Promise.all(
    ids.map(async (id) => {
      const body = (await query("incidents.get", { id })) as {
        result?: { data: { incident: unknown; events: unknown } };
      };
      return { incident: body.result?.data.incident, events: body.result?.data.events };
    }),
  );
  const changes = await query("changes.list", { range: "24h" });
  return JSON.stringify({ incidents, changes }, null, 1);
}
