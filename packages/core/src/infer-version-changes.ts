/**
 * Deploys and rollbacks inferred from telemetry: which `service.version` each instance reported and
 * when. Many teams never report their deploys, and those that do miss some, so the versions the spans
 * carry are the change record of last resort. The function is pure and deterministic; the pipeline
 * feeds it the stored sightings and change events of one service and applies the actions it returns.
 */

/** One row of `service_instance_versions`: an instance seen running a version, first and last seen. */
export interface InstanceVersionSighting {
  environment: string;
  service: string;
  instanceId: string;
  /** Empty string when the instance reported no `service.version` (nothing can be inferred then). */
  version: string;
  /** Milliseconds since the epoch (event time). */
  firstSeenMs: number;
  lastSeenMs: number;
}

/** A change event already stored for the service, whatever its source. */
export interface ExistingChangeEvent {
  id: string;
  kind: "deploy" | "config" | "rollback" | "feature_flag";
  source: "api" | "webhook" | "telemetry";
  version: string | null;
  previousVersion: string | null;
  startedAtMs: number;
  finishedAtMs: number | null;
  /** Share of instances that received the change, 0..1 (stored as `scope.percentage / 100`), or null. */
  progress: number | null;
}

export interface InferVersionChangesInput {
  environment: string;
  service: string;
  /** Sightings of this service; rows of other services or environments are ignored. */
  sightings: readonly InstanceVersionSighting[];
  /** Change events of this service near the sightings' time range. */
  existing: readonly ExistingChangeEvent[];
  /** Event-time "now" (the watermark): sightings are not trusted beyond it. */
  nowMs: number;
  /**
   * A version not seen on any instance for longer than this is gone, and a service silent for longer
   * than this was idle. Should be a few flush intervals (e.g. 2–5 minutes).
   */
  idleThresholdMs: number;
  /** How long before telemetry first saw a version a reported deploy of it may have started (default 1 h). */
  mergeBeforeMs?: number;
  /** How long after telemetry first saw a version a reported deploy of it may claim to start (default 10 min). */
  mergeAfterMs?: number;
}

/** A change event to create, with source `telemetry`. */
export interface InferredChange {
  environment: string;
  service: string;
  kind: "deploy" | "rollback";
  version: string;
  /** The version the instances ran before, or null when unknown. */
  previousVersion: string | null;
  /** When the first instance was seen on the new version. */
  startedAtMs: number;
  /** When the previous version was last seen (it is gone from every instance since), or null. */
  finishedAtMs: number | null;
  /** Share of instances on the new version, 0..1, rounded to 4 decimals (1 once finished by rollout). */
  progress: number;
  /** Deterministic, so applying the same inference twice stores one event. */
  idempotencyKey: string;
}

/** Fields to set on an existing event; absent fields stay as they are. */
export interface ChangeEventFill {
  finishedAtMs?: number;
  previousVersion?: string;
  progress?: number;
}

export type VersionChangeAction =
  | { type: "create"; change: InferredChange }
  /** For a reported (api/webhook) event only fields it lacks are filled; telemetry events are refreshed. */
  | { type: "update"; id: string; set: ChangeEventFill };

interface Interval {
  version: string;
  start: number;
  end: number;
}

interface Arrival {
  kind: "deploy" | "rollback";
  version: string;
  previousVersion: string | null;
  start: number;
  /** The interval of the new version that this arrival opened. */
  interval: Interval;
  /** The previous version's interval being replaced, or null. */
  replaced: Interval | null;
}

const defaultMergeBeforeMs = 60 * 60 * 1000;
const defaultMergeAfterMs = 10 * 60 * 1000;

/**
 * Infers the deploys and rollbacks of one service from the versions its instances reported.
 *
 * - The version(s) seen first are the baseline: nothing is known about when they were deployed.
 * - A version seen for the first time later is a `deploy` starting when its first instance was seen.
 * - A version returning after it was gone while another version ran is a `rollback`.
 * - A service idle for longer than `idleThresholdMs` that comes back on the version it last ran
 *   creates nothing; coming back on a different version is a deploy.
 * - A change is finished when the version it replaced has not been seen on any instance for longer
 *   than `idleThresholdMs` while the service kept reporting (finish = that version's last sighting,
 *   progress 1), or when the new version itself disappears first (a withdrawn canary: finish = its
 *   last sighting, progress = the share it reached).
 * - Progress is the share of live instances whose newest version is the new one.
 * - An inferred change matching a reported `deploy`/`rollback` of the same version (started within
 *   `mergeBeforeMs` before to `mergeAfterMs` after) is merged into it: only fields the report lacks
 *   are filled (progress once the change has finished). Config and flag events never merge (they carry the running version, not a new one).
 *
 * Limits: sightings are (instance, version) rows with first/last seen, so an instance that switches
 * A → B → A keeps one A row spanning B's time and that return is not visible as a rollback; new
 * instances (pods) running the old version are. Output is sorted by start time, then version.
 */
export function inferVersionChanges(input: InferVersionChangesInput): VersionChangeAction[] {
  const threshold = Math.max(0, input.idleThresholdMs);
  const rows = input.sightings
    .filter(
      (row) =>
        row.environment === input.environment &&
        row.service === input.service &&
        row.version !== "" &&
        Number.isFinite(row.firstSeenMs) &&
        Number.isFinite(row.lastSeenMs) &&
        row.firstSeenMs <= input.nowMs,
    )
    .map((row) => ({
      ...row,
      lastSeenMs: Math.min(input.nowMs, Math.max(row.firstSeenMs, row.lastSeenMs)),
    }));
  if (rows.length === 0) return [];
  const latestSeen = rows.reduce((max, row) => Math.max(max, row.lastSeenMs), Number.NEGATIVE_INFINITY);
  const arrivals = findArrivals(intervalsOf(rows, threshold), threshold);

  const actions: VersionChangeAction[] = [];
  const used = new Set<string>();
  for (const arrival of arrivals) {
    const outcome = measureArrival(arrival, rows, latestSeen, threshold);
    const match = findMatch(arrival, input, used);
    if (match === null) {
      actions.push({
        type: "create",
        change: {
          environment: input.environment,
          service: input.service,
          kind: arrival.kind,
          version: arrival.version,
          previousVersion: arrival.previousVersion,
          startedAtMs: arrival.start,
          finishedAtMs: outcome.finishedAtMs,
          progress: outcome.progress,
          idempotencyKey: `telemetry:${input.environment}:${input.service}:${arrival.version}:${arrival.start}`,
        },
      });
      continue;
    }
    used.add(match.id);
    const set =
      match.source === "telemetry" ? refresh(match, arrival, outcome) : fill(match, arrival, outcome);
    if (Object.keys(set).length > 0) actions.push({ type: "update", id: match.id, set });
  }
  return actions;
}

/** Per version, the sightings merged into intervals of activity; gaps up to `threshold` are bridged. */
function intervalsOf(rows: readonly InstanceVersionSighting[], threshold: number): Interval[] {
  const byVersion = new Map<string, InstanceVersionSighting[]>();
  for (const row of rows) {
    const list = byVersion.get(row.version);
    if (list) list.push(row);
    else byVersion.set(row.version, [row]);
  }
  const intervals: Interval[] = [];
  for (const [version, list] of byVersion) {
    list.sort((a, b) => a.firstSeenMs - b.firstSeenMs || a.lastSeenMs - b.lastSeenMs);
    let current: Interval | null = null;
    for (const row of list) {
      if (current !== null && row.firstSeenMs <= current.end + threshold) {
        current.end = Math.max(current.end, row.lastSeenMs);
        continue;
      }
      if (current !== null) intervals.push(current);
      current = { version, start: row.firstSeenMs, end: row.lastSeenMs };
    }
    if (current !== null) intervals.push(current);
  }
  // Version names break ties so the output does not depend on the input order.
  return intervals.sort((a, b) => a.start - b.start || compareText(a.version, b.version));
}

function findArrivals(intervals: readonly Interval[], threshold: number): Arrival[] {
  const first = intervals[0];
  if (first === undefined) return [];
  const baselineStart = first.start;
  const seen = new Set<string>();
  const arrivals: Arrival[] = [];
  intervals.forEach((interval, index) => {
    const earlier = intervals.slice(0, index).filter((other) => other.version !== interval.version);
    // The version being replaced: the most recently started other version still live at this start,
    // else (the service was idle) whichever version was seen last before it.
    const live = earlier.filter((other) => other.end >= interval.start - threshold);
    const replaced = pickLatest(live, (other) => other.start) ?? pickLatest(earlier, (other) => other.end);
    const seenBefore = seen.has(interval.version);
    seen.add(interval.version);
    if (interval.start === baselineStart) return;
    if (seenBefore) {
      const wasIdle = live.length === 0;
      const lastBefore = pickLatest(
        intervals.slice(0, index).filter((other) => other.end < interval.start),
        (other) => other.end,
      );
      if (wasIdle && lastBefore?.version === interval.version) return;
      arrivals.push(arrivalOf("rollback", interval, replaced));
      return;
    }
    arrivals.push(arrivalOf("deploy", interval, replaced));
  });
  return arrivals;
}

function arrivalOf(kind: Arrival["kind"], interval: Interval, replaced: Interval | null): Arrival {
  return {
    kind,
    version: interval.version,
    previousVersion: replaced?.version ?? null,
    start: interval.start,
    interval,
    replaced,
  };
}

function measureArrival(
  arrival: Arrival,
  rows: readonly InstanceVersionSighting[],
  latestSeen: number,
  threshold: number,
): { finishedAtMs: number | null; progress: number } {
  const goneBy = latestSeen - threshold;
  const replaced = arrival.replaced;
  // Gone "while the service kept reporting": judged against the service's own latest sighting, not
  // the wall clock, so a service that goes quiet mid-canary does not look fully rolled out.
  if (replaced !== null && replaced.end < goneBy) {
    return { finishedAtMs: Math.max(arrival.start, replaced.end), progress: 1 };
  }
  if (arrival.interval.end < goneBy) {
    return {
      finishedAtMs: arrival.interval.end,
      progress: shareOn(arrival.version, rows, arrival.interval.end, threshold),
    };
  }
  return { finishedAtMs: null, progress: shareOn(arrival.version, rows, latestSeen, threshold) };
}

/** Share of the instances live at `atMs` whose newest live version is `version`. */
function shareOn(
  version: string,
  rows: readonly InstanceVersionSighting[],
  atMs: number,
  threshold: number,
): number {
  const newest = new Map<string, InstanceVersionSighting>();
  for (const row of rows) {
    if (row.firstSeenMs > atMs || row.lastSeenMs < atMs - threshold) continue;
    const current = newest.get(row.instanceId);
    if (
      current === undefined ||
      row.firstSeenMs > current.firstSeenMs ||
      (row.firstSeenMs === current.firstSeenMs && compareText(row.version, current.version) > 0)
    ) {
      newest.set(row.instanceId, row);
    }
  }
  if (newest.size === 0) return 0;
  let on = 0;
  for (const row of newest.values()) if (row.version === version) on += 1;
  return Math.round((on / newest.size) * 10_000) / 10_000;
}

function findMatch(
  arrival: Arrival,
  input: InferVersionChangesInput,
  used: ReadonlySet<string>,
): ExistingChangeEvent | null {
  const from = arrival.start - (input.mergeBeforeMs ?? defaultMergeBeforeMs);
  const to = arrival.start + (input.mergeAfterMs ?? defaultMergeAfterMs);
  const candidates = input.existing.filter(
    (event) =>
      !used.has(event.id) &&
      event.version === arrival.version &&
      (event.kind === "deploy" || event.kind === "rollback") &&
      event.startedAtMs >= from &&
      event.startedAtMs <= to,
  );
  // A reported event wins over an earlier inference of ours: the report carries commit, author, url.
  const reported = candidates.filter((event) => event.source !== "telemetry");
  const pool = reported.length > 0 ? reported : candidates;
  return pickLatest(
    pool,
    (event) => -Math.abs(event.startedAtMs - arrival.start),
    (event) => event.id,
  );
}

function fill(
  event: ExistingChangeEvent,
  arrival: Arrival,
  outcome: { finishedAtMs: number | null; progress: number },
): ChangeEventFill {
  const set: ChangeEventFill = {};
  if (event.finishedAtMs === null && outcome.finishedAtMs !== null) set.finishedAtMs = outcome.finishedAtMs;
  if (event.previousVersion === null && arrival.previousVersion !== null) {
    set.previousVersion = arrival.previousVersion;
  }
  // Only a final share is written into a report: a mid-rollout value would freeze there, since a
  // filled field is no longer "missing" on the next pass.
  if (event.progress === null && outcome.finishedAtMs !== null) set.progress = outcome.progress;
  return set;
}

function refresh(
  event: ExistingChangeEvent,
  arrival: Arrival,
  outcome: { finishedAtMs: number | null; progress: number },
): ChangeEventFill {
  const set: ChangeEventFill = {};
  if (outcome.finishedAtMs !== null && event.finishedAtMs !== outcome.finishedAtMs) {
    set.finishedAtMs = outcome.finishedAtMs;
  }
  if (arrival.previousVersion !== null && event.previousVersion !== arrival.previousVersion) {
    set.previousVersion = arrival.previousVersion;
  }
  if (event.progress !== outcome.progress) set.progress = outcome.progress;
  return set;
}

/** The item with the greatest score; ties go to the greatest tie-break text (deterministic). */
function pickLatest<T>(
  items: readonly T[],
  score: (item: T) => number,
  tieBreak: (item: T) => string = () => "",
): T | null {
  let best: T | null = null;
  for (const item of items) {
    if (best === null) {
      best = item;
      continue;
    }
    const delta = score(item) - score(best);
    if (delta > 0 || (delta === 0 && compareText(tieBreak(item), tieBreak(best)) > 0)) best = item;
  }
  return best;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
