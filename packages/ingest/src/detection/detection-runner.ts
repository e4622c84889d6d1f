import {
  type ChangeCandidate,
  type DetectionConfig,
  DetectionEngine,
  defaultDetectionConfig,
  type ExistingChangeEvent,
  type IncidentSnapshot,
  inferVersionChanges,
  type MergedIngestBatch,
} from "@faultline/core";
import {
  type ChangeEventRow,
  type DbHandle,
  deleteIncidents,
  listChangeEvents,
  listChangeEventsSince,
  listInstanceVersions,
  recordChangeEvent,
  saveIncident,
  updateChangeEvent,
} from "@faultline/db";
import { type IngestLogger, silentLogger } from "../receivers/ingest-logger.ts";

export interface DetectionRunnerOptions {
  db: DbHandle;
  logger?: IngestLogger;
  /** Wall clock, ms since the epoch. */
  clock?: () => number;
  config?: Partial<DetectionConfig>;
  /** How often detection runs, ms. Default 1000. */
  tickMs?: number;
  /**
   * After this long without new data (wall clock), buckets of replayed history are closed up to the
   * bucket of the newest event time, so a report settles when a replay ends. Default 3000.
   */
  idleFlushMs?: number;
  /**
   * After this long without new data, the newest bucket of replayed history is closed too. Default
   * 15000: a sender that only paused may still be sending spans of that bucket (see replayFlushLimit).
   */
  quietFlushMs?: number;
  /** Versions not seen for this long (event time) are gone; see inferVersionChanges. Default 3 min. */
  versionIdleMs?: number;
  /** Whether ingest still holds data that has not reached detection (see IngestPipeline.hasPendingWork). */
  ingestBusy?: () => boolean;
  /** Called with the incidents each tick changed, after they are stored (notifications hook in here). */
  onIncidentsChanged?: (incidents: IncidentSnapshot[]) => void;
}

/**
 * Runs detection beside ingest: committed aggregates feed the event-time engine; a tick infers
 * deploys from new versions, refreshes the change candidates, advances the watermark and stores the
 * incidents that changed. Ticks never overlap, and the engine itself is pure and deterministic.
 */
export class DetectionRunner {
  readonly engine: DetectionEngine;
  private readonly db: DbHandle;
  private readonly logger: IngestLogger;
  private readonly clock: () => number;
  private readonly idleFlushMs: number;
  private readonly quietFlushMs: number;
  private readonly stepMs: number;
  private readonly versionIdleMs: number;
  private readonly lookbackMs: number;
  private readonly onIncidentsChanged: ((incidents: IncidentSnapshot[]) => void) | undefined;
  private readonly ingestBusy: (() => boolean) | undefined;
  private readonly timer: NodeJS.Timeout;
  private lastDataWallMs = 0;
  private newestEventMs = Number.NEGATIVE_INFINITY;
  /** environment␟service of services whose versions changed since the last inference. */
  private readonly versionsToInfer = new Set<string>();
  private readonly knownVersions = new Set<string>();
  /** Incident snapshots the engine produced that are not stored yet, by id (see step). */
  private readonly unsavedIncidents = new Map<string, IncidentSnapshot>();
  private readonly unsavedRemovals = new Set<string>();
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(options: DetectionRunnerOptions) {
    this.db = options.db;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
    this.idleFlushMs = options.idleFlushMs ?? 3000;
    this.quietFlushMs = Math.max(this.idleFlushMs, options.quietFlushMs ?? 15_000);
    this.stepMs = options.config?.stepMs ?? defaultDetectionConfig.stepMs;
    this.versionIdleMs = options.versionIdleMs ?? 3 * 60_000;
    this.engine = new DetectionEngine(options.config);
    this.lookbackMs = options.config?.attributionLookbackMs ?? 2 * 3_600_000;
    this.onIncidentsChanged = options.onIncidentsChanged;
    this.ingestBusy = options.ingestBusy;
    this.timer = setInterval(() => void this.tick(), options.tickMs ?? 1000);
    this.timer.unref();
  }

  /** The ingest pipeline's commit hook. */
  observe(batch: MergedIngestBatch): void {
    this.lastDataWallMs = this.clock();
    this.engine.observeBatch(batch);
    for (const seen of batch.instanceVersions) {
      if (seen.lastSeenMs > this.newestEventMs) this.newestEventMs = seen.lastSeenMs;
      const key = `${seen.environment}\u001f${seen.service}\u001f${seen.instanceId}\u001f${seen.version}`;
      if (!this.knownVersions.has(key)) {
        this.knownVersions.add(key);
        this.versionsToInfer.add(`${seen.environment}\u001f${seen.service}`);
      }
    }
  }

  /**
   * A sender is active without sending spans: it is reporting a change (the deploy API, a webhook).
   * A replay that reports a deploy waits for the answer before its next spans, and that answer can wait
   * behind a long database write; counted like data, so the idle flush does not take the pause for the
   * end of the replay and close the bucket the next spans belong to.
   */
  noteSenderActivity(): void {
    this.lastDataWallMs = this.clock();
  }

  /** Runs one detection step now (also what the timer does); resolves when it is done. */
  tick(): Promise<void> {
    if (this.stopped && this.running === null) return Promise.resolve();
    this.running ??= this.step()
      .catch((error: unknown) => this.logger.error({ err: error }, "detection step failed"))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async step(): Promise<void> {
    await this.inferVersions();
    const since = Math.min(this.engine.watermarkMs, this.newestEventMs) - this.lookbackMs - 3_600_000;
    const rows = await listChangeEventsSince(this.db.db, Number.isFinite(since) ? since : 0);
    this.engine.setChanges(rows.map(toCandidate));
    const now = this.clock();
    // Live data (event time near the wall clock) closes behind the clock. Replayed history closes on
    // event time alone while it flows (the clock is far ahead of it: closing behind the clock would shut
    // every bucket at each step and drop the parts of a bucket that arrive in a later request, so the
    // result would depend on the sender's pace), and entirely once the sender has gone quiet, since no
    // later event time will come to push the watermark.
    const replaying = this.newestEventMs < now - 120_000;
    const changed = this.engine.advance(replaying ? this.replayFlushLimit(now) : now - 20_000);
    // The engine hands each change over once: kept here until stored, so a failed write (the step
    // throws, the next tick tries again) cannot leave the stored incident behind the engine's for good.
    for (const id of this.engine.takeRemovedIncidentIds()) {
      this.unsavedIncidents.delete(id);
      this.unsavedRemovals.add(id);
    }
    for (const incident of changed) this.unsavedIncidents.set(incident.id, incident);
    await this.storeIncidentChanges();
  }

  /**
   * How far replayed history may close beyond the event-time watermark, given how long the sender has
   * been quiet: nothing while it sends; once it has paused, every bucket before the newest one; after a
   * longer quiet, everything. A sender replaying history in order has finished the buckets before its
   * newest, but a pause does not show whether it is done with the newest: a loaded machine can stall a
   * sender for seconds between two requests of one slice, and a bucket closed then would drop the rest
   * of its spans and make the result depend on the sender's pace.
   */
  private replayFlushLimit(now: number): number | undefined {
    // Quiet means nothing arrived for a while AND nothing is still on its way through ingest: a slow
    // commit on a loaded machine must not let the flush close buckets its data still belongs to.
    const quietMs = this.ingestBusy?.() ? 0 : now - this.lastDataWallMs;
    if (quietMs >= this.quietFlushMs) return Number.POSITIVE_INFINITY;
    if (quietMs >= this.idleFlushMs) return Math.floor(this.newestEventMs / this.stepMs) * this.stepMs;
    return undefined;
  }

  private async storeIncidentChanges(): Promise<void> {
    if (this.unsavedRemovals.size > 0) {
      await deleteIncidents(this.db, [...this.unsavedRemovals]);
      this.unsavedRemovals.clear();
    }
    const stored: IncidentSnapshot[] = [];
    for (const incident of [...this.unsavedIncidents.values()]) {
      await saveIncident(this.db, {
        ...incident,
        suspects: incident.suspects.map((suspect) => ({
          changeId: suspect.changeId,
          score: suspect.score,
          evidence: suspect.evidence,
        })),
      });
      this.unsavedIncidents.delete(incident.id);
      stored.push(incident);
    }
    if (stored.length === 0) return;
    this.logger.info(
      {
        incidents: stored.map((incident) => ({
          id: incident.id,
          root: incident.rootService,
          status: incident.status,
        })),
      },
      "incidents updated",
    );
    this.onIncidentsChanged?.(stored);
  }

  /** Records deploys and rollbacks seen only as version changes in telemetry. */
  private async inferVersions(): Promise<void> {
    const targets = [...this.versionsToInfer];
    this.versionsToInfer.clear();
    try {
      for (const target of targets) await this.inferVersionsOf(target);
    } catch (error) {
      // Try again next tick rather than lose the work.
      for (const target of targets) this.versionsToInfer.add(target);
      throw error;
    }
  }

  private async inferVersionsOf(target: string): Promise<void> {
    const [environment = "", service = ""] = target.split("\u001f");
    const sightings = await listInstanceVersions(this.db, { environment, service });
    const existing = await listChangeEvents(this.db.db, {
      environment,
      service,
      from: new Date(this.newestEventMs - 30 * 24 * 3_600_000),
      to: new Date(this.newestEventMs + 24 * 3_600_000),
    });
    const actions = inferVersionChanges({
      environment,
      service,
      sightings,
      existing: existing.map(toExisting),
      nowMs: this.newestEventMs,
      idleThresholdMs: this.versionIdleMs,
    });
    for (const action of actions) {
      if (action.type === "create") {
        const change = action.change;
        await recordChangeEvent(this.db.db, {
          environment: change.environment,
          service: change.service,
          version: change.version,
          previousVersion: change.previousVersion,
          kind: change.kind,
          source: "telemetry",
          startedAt: new Date(change.startedAtMs),
          finishedAt: change.finishedAtMs === null ? null : new Date(change.finishedAtMs),
          scope: { percentage: Math.round(change.progress * 10_000) / 100 },
          description: `${change.kind === "rollback" ? "rollback" : "new version"} seen in telemetry`,
          idempotencyKey: change.idempotencyKey,
        });
      } else {
        await updateChangeEvent(
          this.db.db,
          { id: action.id },
          {
            ...(action.set.finishedAtMs !== undefined
              ? { finishedAt: new Date(action.set.finishedAtMs) }
              : {}),
            ...(action.set.previousVersion !== undefined
              ? { previousVersion: action.set.previousVersion }
              : {}),
            ...(action.set.progress !== undefined
              ? { scope: { percentage: Math.round(action.set.progress * 10_000) / 100 } }
              : {}),
          },
        );
      }
    }
  }

  /** Stops the timer after one last step. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.tick();
    this.stopped = true;
  }
}

function toCandidate(row: ChangeEventRow): ChangeCandidate {
  return {
    id: row.id,
    environment: row.environment,
    service: row.service,
    version: row.version,
    previousVersion: row.previousVersion,
    kind: row.kind,
    source: row.source,
    startedAtMs: row.startedAt.getTime(),
  };
}

function toExisting(row: ChangeEventRow): ExistingChangeEvent {
  return {
    id: row.id,
    kind: row.kind,
    source: row.source,
    version: row.version,
    previousVersion: row.previousVersion,
    startedAtMs: row.startedAt.getTime(),
    finishedAtMs: row.finishedAt?.getTime() ?? null,
    progress: row.scope?.percentage === undefined ? null : row.scope.percentage / 100,
  };
}
