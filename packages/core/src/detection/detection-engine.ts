import { estimateDistinctUsers } from "../estimate-distinct-users.ts";
import type { SeriesBucketDelta } from "../ingest-aggregate.ts";
import type { LatencyIndexBins } from "../latency-index-bins.ts";
import { maxUserRegistersInto } from "../merge-user-registers.ts";
import { emptySketchBins, type SketchBins } from "../sketch-bins.ts";
import { alternativeErrorRate, baselineErrorRate, binomialCusumStep } from "./binomial-cusum.ts";
import { type DetectionConfig, defaultDetectionConfig } from "./detection-config.ts";
import type {
  ChangeCandidate,
  DetectorSignal,
  EdgeObservation,
  IncidentSnapshot,
  SeriesObservation,
  Severity,
} from "./detection-types.ts";
import { type IncidentEvidence, rankSuspects } from "./rank-suspects.ts";
import { SignalColumns } from "./signal-columns.ts";
import { SignalHistory } from "./signal-history.ts";

const sep = "\u001f";
/** Open incidents whose onsets lie this close together merge when an alarm connects them, ms. */
const mergeWindowMs = 5 * 60_000;
/** How long after onset the root service is (re)judged, ms. */
const rootWindowMs = 10 * 60_000;
/** A p95 within this many ms of its baseline is never "elevated" (a 2 ms service jitters by more than 50 %). */
const latencyNoiseMs = 5;
/**
 * A caller whose failing calls go at least this share into another open incident's services fails
 * from that other cause too (see `judgeSharedCallers`).
 */
const sharedCallerShare = 0.25;

/** Spans and errors of one service version per bucket, in a ring like the signals'. */
class VersionRing {
  readonly spans: Float64Array;
  readonly errors: Float64Array;
  /** Start of the bucket whose counts each slot holds (NaN: none); see `DetectionEngine.slotStamps`. */
  readonly stamps: Float64Array;
  /** Counts of open buckets, by bucket start (usually one or two open buckets). */
  readonly pending: { bucketStartMs: number; spans: number; errors: number }[] = [];
  /** Whether a closed bucket held data for this version (before that, attribution does not see it). */
  registered = false;

  constructor(
    readonly service: ServiceState,
    readonly version: string,
    capacity: number,
  ) {
    this.spans = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
    this.stamps = new Float64Array(capacity).fill(Number.NaN);
  }
}

/** Where one ingest series' data goes: its service, signal (versions summed) and version ring. */
interface SeriesTarget {
  service: ServiceState;
  state: SignalState;
  ring: VersionRing;
}

/** Series keys remembered by observeBatch before the memo starts over. */
const maxSeriesTargets = 200_000;

/** Per (environment, service): its signals and version rings. */
class ServiceState {
  /** operation → span kind → signal (also signals whose first bucket is still open). */
  readonly signals = new Map<string, Map<string, SignalState>>();
  /** Every version seen, by version ("" for none). */
  readonly rings = new Map<string, VersionRing>();
  /** Versions with data in a closed bucket, in the order their first bucket closed. */
  readonly versions: VersionRing[] = [];
}

interface OpenBucket {
  /** What each signal saw in this bucket. */
  signals: SignalColumns;
  /** Version rings with data in this bucket, in order of first arrival. */
  versions: VersionRing[];
  edges: EdgeObservation[];
}

/** The edges of one recent closed bucket, with its call edges indexed by environment and caller. */
interface EdgeBucket {
  bucketStartMs: number;
  edges: readonly EdgeObservation[];
  /** environment → caller → positions of its call edges in `edges`, ascending; built when first needed. */
  callsBySource: Map<string, Map<string, number[]>> | null;
}

/** service → peer → start of the last bucket an edge between them was seen in. */
type Adjacency = Map<string, Map<string, number>>;

/** The recent graph of one environment, maintained as buckets close (no rescans of edge lists). */
interface EnvironmentGraph {
  /** Call edges, both directions. */
  calls: Adjacency;
  /** Service → destinations it publishes to or consumes from. */
  destinations: Adjacency;
  /** Destination → services publishing to it or consuming from it. */
  clients: Adjacency;
}

type AlarmState = {
  signal: DetectorSignal;
  incidentId: string;
  onsetMs: number;
  normalStreak: number;
};

/** Per-signal detector state; its counts per recent bucket are in the engine's {@link SignalHistory}. */
class SignalState {
  baselineSpans = 0;
  baselineErrors = 0;
  baselineSlots = 0;
  /** Start of the first closed bucket with data (NaN while that bucket is still open). */
  firstSeenMs = Number.NaN;
  lastBucketMs = Number.NaN;
  /** Start of the last closed bucket in which it had spans. */
  lastDataMs = Number.NaN;
  cusum = 0;
  runStartMs: number | null = null;
  runErrors = 0;
  lowStreak = 0;
  lowStartMs: number | null = null;
  /** Spans of the current run of quiet buckets (low-rate throughput test). */
  lowSpans = 0;
  /** First bucket of that run that is low on its own (the run's onset). */
  lowOnsetMs: number | null = null;
  slowStreak = 0;
  slowStartMs: number | null = null;
  /** Slow average of normal buckets' p95, ms; NaN until one is known (a number field updates in place). */
  baseP95 = Number.NaN;
  alarm: AlarmState | null = null;
  /** Whether a closed bucket held data for it: only then is it judged (every bucket from then on). */
  registered = false;

  constructor(
    /** Its number: its place in every open bucket's {@link SignalColumns} and in the history. */
    readonly index: number,
    readonly key: string,
    readonly environment: string,
    readonly service: string,
    readonly operation: string,
    readonly kind: string,
  ) {}
}

interface IncidentState extends IncidentSnapshot {
  /** Signal keys that alarmed into this incident, and whether each is still alarmed. */
  members: Map<string, boolean>;
  /** Onset of each member signal's first alarm in this incident, by signal key. */
  memberOnsets: Map<string, number>;
  /** The detector of each member signal's latest alarm, by signal key. */
  memberSignals: Map<string, DetectorSignal>;
  userRegisters: SketchBins;
  lastActiveMs: number;
  /** Member services failing from another incident's cause too: not reported as affected by this one. */
  sharedServices: Set<string>;
  /**
   * The cause's service when the cause was tied to the incident by rollout tracking and is not a member
   * (a producer losing messages its consumer starves for): reported among the services. Replaced when
   * a later ranking ties another service's change to it, so one an early, short window pointed at
   * leaves again.
   */
  trackedCauseService: string | null;
}

/**
 * Event-time detection: buckets close behind a watermark (the latest event time seen, less the allowed
 * lateness), and each closed bucket runs the detectors once, in time order. Nothing depends on arrival
 * time or batch sizes, so replaying the same data at any speed gives the same incidents.
 *
 * Detectors per signal (environment, service, operation, kind; versions summed): a binomial CUSUM on
 * errors against a trailing baseline that leaves anomalous buckets out; a throughput collapse against
 * the trailing mean rate; a p95 latency shift against a slow average of normal buckets. Alarms on
 * services connected in the call/messaging graph while overlapping in time form one incident; the root
 * service is the failing one whose errors no failing callee explains. Suspects are ranked by
 * {@link rankSuspects} whenever an incident changes.
 *
 * Cost per closed bucket is a few arithmetic steps per signal: counts are summed into pooled per-signal
 * entries as data arrives, a bucket's p95 is read from the caller's sketches only when a detector needs
 * it, and the graph is kept as adjacency with last-seen times instead of rescanning recent edges.
 */
export class DetectionEngine {
  private readonly config: DetectionConfig;
  private readonly capacity: number;
  private readonly open = new Map<number, OpenBucket>();
  /** Judged signals by key, in the order they were first judged. */
  private readonly signals = new Map<string, SignalState>();
  /** The same, as an array for the per-bucket loop. */
  private readonly signalList: SignalState[] = [];
  /** environment → service → its state. */
  private readonly services = new Map<string, Map<string, ServiceState>>();
  /**
   * Start of the last closed bucket that used each ring slot (NaN: none). A version ring's slot reads
   * as its counts only when stamped with that same bucket, else as zero: versions without data in a
   * closed bucket need no write.
   */
  private readonly slotStamps: Float64Array;
  /** Recent closed buckets' call edges, oldest first, for roots. */
  private readonly recentEdges: EdgeBucket[] = [];
  /** The recent graph per environment, for grouping and attribution. */
  private readonly graphs = new Map<string, EnvironmentGraph>();
  /** Edges seen at or after this bucket start are recent (the window `recentEdges` keeps). */
  private edgeHorizonMs = Number.NEGATIVE_INFINITY;
  private readonly incidents = new Map<string, IncidentState>();
  private readonly changes = new Map<string, ChangeCandidate>();
  private maxEventMs = Number.NEGATIVE_INFINITY;
  private closedUpToMs = Number.NEGATIVE_INFINITY;
  /** Where the last blackout (see `telemetryGapMs`) ended: the first bucket closed after it. */
  private blackoutEndMs = Number.NEGATIVE_INFINITY;
  private readonly changed = new Set<string>();
  private readonly removed = new Set<string>();
  /** Every signal (judged or not yet) by its number. */
  private readonly signalsByIndex: SignalState[] = [];
  /** Every signal's counts over the ring of recent closed buckets. */
  private readonly history: SignalHistory;
  /** Ingest's series key → the service, signal and version ring its data goes to (see observeBatch). */
  private readonly seriesTargets = new Map<string, SeriesTarget>();
  private readonly freeOpenBuckets: OpenBucket[] = [];

  constructor(config: Partial<DetectionConfig> = {}) {
    this.config = { ...defaultDetectionConfig, ...config };
    this.capacity = this.config.baselineBuckets + 1;
    this.slotStamps = new Float64Array(this.capacity).fill(Number.NaN);
    this.history = new SignalHistory(this.capacity);
  }

  /** The end of the last closed bucket (event time), or -Infinity before the first. */
  get watermarkMs(): number {
    return this.closedUpToMs;
  }

  /**
   * Adds aggregates; data for buckets already closed is ignored by detection (it is still stored).
   * Latency bins of a series with enough spans for the latency detector are read here (reading string
   * keys of dictionary-mode sketches is the costly part of detection per series), so closing a bucket
   * only walks numbers. Other sketches — user registers, and the latency bins of quiet series, which
   * detection rarely needs — are kept by reference until their bucket closes, so callers must not change
   * them after passing them in.
   */
  observe(series: readonly SeriesObservation[], edges: readonly EdgeObservation[]): void {
    let bucket: OpenBucket | undefined;
    let bucketStartMs = Number.NaN;
    for (const observation of series) {
      const start = observation.bucketStartMs;
      if (start + this.config.stepMs <= this.closedUpToMs) continue;
      if (start !== bucketStartMs) {
        bucket = this.openBucket(start);
        bucketStartMs = start;
      }
      this.observeSeries(
        bucket as OpenBucket,
        undefined,
        observation.environment,
        observation.service,
        observation.operation,
        observation.spanKind,
        observation.version,
        start,
        observation.spans,
        observation.errors,
        observation.latencyIndexBins ?? observation.latencyBins,
        observation.latencyIndexBins !== undefined,
        observation.userRegisters,
      );
    }
    this.observeEdges(edges);
  }

  /**
   * {@link observe} straight from ingest's committed batch (series deltas carry their identity nested):
   * the same result without a per-series copy. Numeric latency bins are used where the deltas have them.
   */
  observeBatch(batch: {
    readonly seriesBuckets: readonly SeriesBucketDelta[];
    readonly edges: readonly EdgeObservation[];
  }): void {
    let bucket: OpenBucket | undefined;
    let bucketStartMs = Number.NaN;
    for (const delta of batch.seriesBuckets) {
      const start = delta.bucketStartMs;
      if (start + this.config.stepMs <= this.closedUpToMs) continue;
      if (start !== bucketStartMs) {
        bucket = this.openBucket(start);
        bucketStartMs = start;
      }
      const series = delta.series;
      this.observeSeries(
        bucket as OpenBucket,
        this.seriesTargets.get(delta.seriesKey),
        series.environment,
        series.service,
        series.operation,
        series.spanKind,
        series.version,
        start,
        delta.spans,
        delta.errors,
        delta.latencyIndexBins ?? delta.latencyBins,
        delta.latencyIndexBins !== undefined,
        delta.userRegisters,
        delta.seriesKey,
      );
    }
    this.observeEdges(batch.edges);
  }

  private observeSeries(
    bucket: OpenBucket,
    /** Where this series went last time (by its key), when the caller has a key; else looked up. */
    known: SeriesTarget | undefined,
    environment: string,
    serviceName: string,
    operation: string,
    spanKind: string,
    version: string | null,
    start: number,
    spans: number,
    errors: number,
    latency: LatencyIndexBins | SketchBins,
    /** Whether `latency` is the numeric form (known from where it came, without reading it). */
    numeric: boolean,
    userRegisters: SketchBins,
    seriesKey?: string,
  ): void {
    const service = known?.service ?? this.serviceState(environment, serviceName);
    const state = known?.state ?? this.signalState(service, environment, serviceName, operation, spanKind);
    const signal = state.index;
    const columns = bucket.signals;
    if (signal >= columns.capacity) columns.grow(Math.max(columns.capacity * 2, this.signalsByIndex.length));
    columns.add(signal, spans, errors, latency, numeric);
    // The latency detector will want this bucket's p95: sketch objects are read now, while they are in
    // cache (another observation of the same signal and bucket, e.g. a second version, takes it again).
    columns.readObjectsEarly(signal, this.config.minLatencySpans);
    // Kept by reference, empty or not: testing a dictionary-mode sketch for keys costs more than keeping it.
    columns.addUserRegisters(signal, userRegisters);
    const versionKey = version ?? "";
    let ring = known?.ring ?? service.rings.get(versionKey);
    if (!ring) {
      ring = new VersionRing(service, versionKey, this.capacity);
      service.rings.set(versionKey, ring);
    }
    if (!known && seriesKey !== undefined) {
      // A bounded memo: series keys of versions long gone would otherwise pile up.
      if (this.seriesTargets.size >= maxSeriesTargets) this.seriesTargets.clear();
      this.seriesTargets.set(seriesKey, { service, state, ring });
    }
    let counts: VersionRing["pending"][number] | undefined;
    for (const candidate of ring.pending) {
      if (candidate.bucketStartMs === start) {
        counts = candidate;
        break;
      }
    }
    if (counts) {
      counts.spans += spans;
      counts.errors += errors;
    } else {
      ring.pending.push({ bucketStartMs: start, spans, errors });
      bucket.versions.push(ring);
    }
    if (start + this.config.stepMs > this.maxEventMs) this.maxEventMs = start + this.config.stepMs;
  }

  private observeEdges(edges: readonly EdgeObservation[]): void {
    const { stepMs } = this.config;
    for (const edge of edges) {
      if (edge.bucketStartMs + stepMs <= this.closedUpToMs) continue;
      this.openBucket(edge.bucketStartMs).edges.push(edge);
    }
  }

  /**
   * Replaces the known change events (attribution candidates) and ranks the suspects of unfinished
   * incidents again. A change that is new (or changed) also re-ranks incidents that ended recently
   * and started within its reach: CI systems often report a deploy once its rollout is done, after
   * the incident it caused was over, and the incident should still name it.
   */
  setChanges(changes: readonly ChangeCandidate[]): void {
    const fresh = changes.filter((change) => {
      const known = this.changes.get(change.id);
      return known === undefined || attributionFieldsDiffer(known, change);
    });
    this.changes.clear();
    for (const change of changes) this.changes.set(change.id, change);
    for (const incident of this.incidents.values()) {
      if (incident.status === "open" || incident.endedAtMs === null) this.rank(incident);
      else if (this.mayExplainEnded(incident, fresh)) this.rank(incident);
    }
  }

  /**
   * Whether one of `fresh` could be a suspect of an ended incident that started within the newer half
   * of the history the engine keeps, so the version evidence of its course is still at hand.
   */
  private mayExplainEnded(incident: IncidentState, fresh: readonly ChangeCandidate[]): boolean {
    if (fresh.length === 0 || incident.endedAtMs === null) return false;
    const historyMs = this.capacity * this.config.stepMs;
    if (this.closedUpToMs - incident.startedAtMs > historyMs / 2) return false;
    return fresh.some((change) => {
      const lead = incident.startedAtMs - change.startedAtMs;
      return (
        change.environment === incident.environment &&
        lead >= -this.config.stepMs &&
        lead <= this.config.attributionLookbackMs
      );
    });
  }

  /**
   * Closes every bucket that ends at or before the watermark — the latest event time seen less the
   * allowed lateness, or `flushUpToMs` when given (a live server uses the wall clock there, so a service
   * that went silent is still judged) — and returns the incidents that changed.
   */
  advance(flushUpToMs?: number): IncidentSnapshot[] {
    const limit = Math.max(
      this.maxEventMs - this.config.allowedLatenessMs,
      flushUpToMs ?? Number.NEGATIVE_INFINITY,
    );
    const starts = [...this.open.keys()]
      .filter((start) => start + this.config.stepMs <= limit)
      .sort((a, b) => a - b);
    for (const start of starts) {
      const bucket = this.open.get(start);
      this.open.delete(start);
      if (bucket) this.closeBucket(start, bucket);
    }
    const out = [...this.changed].flatMap((id) => {
      const incident = this.incidents.get(id);
      return incident ? [snapshotOf(incident)] : [];
    });
    this.changed.clear();
    return out;
  }

  /** Every incident, for tests and the runner's first write. */
  allIncidents(): IncidentSnapshot[] {
    return [...this.incidents.values()].map(snapshotOf);
  }

  private openBucket(start: number): OpenBucket {
    let bucket = this.open.get(start);
    if (!bucket) {
      bucket = this.freeOpenBuckets.pop() ?? {
        signals: new SignalColumns(Math.max(64, this.signalsByIndex.length)),
        versions: [],
        edges: [],
      };
      this.open.set(start, bucket);
    }
    return bucket;
  }

  private serviceState(environment: string, service: string): ServiceState {
    let byService = this.services.get(environment);
    if (!byService) {
      byService = new Map();
      this.services.set(environment, byService);
    }
    let state = byService.get(service);
    if (!state) {
      state = new ServiceState();
      byService.set(service, state);
    }
    return state;
  }

  private signalState(
    service: ServiceState,
    environment: string,
    serviceName: string,
    operation: string,
    spanKind: string,
  ): SignalState {
    let byKind = service.signals.get(operation);
    if (!byKind) {
      byKind = new Map();
      service.signals.set(operation, byKind);
    }
    let state = byKind.get(spanKind);
    if (!state) {
      state = new SignalState(
        this.signalsByIndex.length,
        `${environment}${sep}${serviceName}${sep}${operation}${sep}${spanKind}`,
        environment,
        serviceName,
        operation,
        spanKind,
      );
      byKind.set(spanKind, state);
      this.signalsByIndex.push(state);
      this.history.ensure(this.signalsByIndex.length);
    }
    return state;
  }

  private closeBucket(start: number, bucket: OpenBucket): void {
    const { stepMs } = this.config;
    if (start - this.closedUpToMs >= this.config.telemetryGapMs) this.blackoutEndMs = start;
    this.closedUpToMs = start + stepMs;
    this.recordEdges(start, bucket.edges);
    this.recordVersions(start, bucket);

    const columns = bucket.signals;
    for (let at = 0; at < columns.count; at += 1) {
      const state = this.signalsByIndex[columns.touched[at] ?? 0] as SignalState;
      if (!state.registered) {
        state.registered = true;
        state.firstSeenMs = start;
        this.signals.set(state.key, state);
        this.signalList.push(state);
      }
    }
    const alarms: { key: string; signal: DetectorSignal; onsetMs: number }[] = [];
    for (const state of this.signalList) {
      const alarm = this.judge(state, start, columns);
      if (alarm) alarms.push({ key: state.key, ...alarm });
    }
    // Users of signals still alarmed whose errors went on in this bucket count towards their incident.
    for (let at = 0; at < columns.registerCount; at += 1) {
      const registers = columns.userRegisters[at] as SketchBins;
      const signal = columns.userRegisterSignals[at] ?? 0;
      const alarm = (this.signalsByIndex[signal] as SignalState).alarm;
      if (alarm && (columns.errors[signal] ?? 0) > 0) {
        const incident = this.incidents.get(alarm.incidentId);
        if (incident) maxUserRegistersInto(incident.userRegisters, registers);
      }
    }
    columns.clear();
    bucket.versions.length = 0;
    bucket.edges = [];
    this.freeOpenBuckets.push(bucket);
    // Raise in a fixed order, never the arrival order of the data (which decided incident ids and which
    // service opened an incident): signals that reopen an ended incident rooted on them first, so callers
    // failing in the same bucket join the reopened incident instead of opening another; then by onset, key.
    const reopens = (key: string): number => {
      const state = this.signals.get(key);
      for (const incident of this.incidents.values()) {
        if (incident.endedAtMs === null || incident.environment !== state?.environment) continue;
        const recent = start + stepMs - incident.endedAtMs <= this.config.reopenWindowMs;
        const signal = alarms.find((alarm) => alarm.key === key)?.signal;
        if (recent && signal && this.failedTheSameWay(incident, state.service, signal)) return 0;
      }
      return 1;
    };
    alarms.sort(
      (a, b) =>
        reopens(a.key) - reopens(b.key) ||
        a.onsetMs - b.onsetMs ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    for (const alarm of alarms) this.raise(alarm.key, alarm.signal, alarm.onsetMs, start + stepMs);
    this.settleIncidents(start + stepMs);
  }

  /** Keeps the closed bucket's call edges for roots and folds all its edges into the recent graph. */
  private recordEdges(start: number, edges: EdgeObservation[]): void {
    const horizon = start - this.config.baselineBuckets * this.config.stepMs;
    this.edgeHorizonMs = horizon;
    for (const edge of edges) {
      let graph = this.graphs.get(edge.environment);
      if (!graph) {
        graph = { calls: new Map(), destinations: new Map(), clients: new Map() };
        this.graphs.set(edge.environment, graph);
      }
      if (edge.kind === "call") {
        link(graph.calls, edge.source, edge.target, edge.bucketStartMs);
        link(graph.calls, edge.target, edge.source, edge.bucketStartMs);
      } else if (edge.kind === "publish") {
        link(graph.destinations, edge.source, edge.target, edge.bucketStartMs);
        link(graph.clients, edge.target, edge.source, edge.bucketStartMs);
      } else if (edge.kind === "consume") {
        link(graph.destinations, edge.target, edge.source, edge.bucketStartMs);
        link(graph.clients, edge.source, edge.target, edge.bucketStartMs);
      }
    }
    this.recentEdges.push({ bucketStartMs: start, edges, callsBySource: null });
    while ((this.recentEdges[0]?.bucketStartMs ?? Number.POSITIVE_INFINITY) < horizon)
      this.recentEdges.shift();
  }

  private recordVersions(start: number, bucket: OpenBucket): void {
    const slot = this.slotOf(start);
    // Every other version's slot now reads as zero: its stamp no longer matches.
    this.slotStamps[slot] = start;
    for (const ring of bucket.versions) {
      const at = ring.pending.findIndex((counts) => counts.bucketStartMs === start);
      const counts = ring.pending[at];
      if (!counts) continue;
      ring.pending.splice(at, 1);
      ring.spans[slot] = counts.spans;
      ring.errors[slot] = counts.errors;
      ring.stamps[slot] = start;
      if (!ring.registered) {
        ring.registered = true;
        ring.service.versions.push(ring);
      }
    }
  }

  private slotOf(bucketStartMs: number): number {
    return Math.floor(bucketStartMs / this.config.stepMs) % this.capacity;
  }

  /** Runs the detectors of one signal on one closed bucket; returns a new alarm, if any. */
  private judge(
    state: SignalState,
    start: number,
    columns: SignalColumns,
  ): { signal: DetectorSignal; onsetMs: number } | null {
    const config = this.config;
    const index = state.index;
    const has = columns.has(index);
    const spans = has ? (columns.spans[index] ?? 0) : 0;
    const errors = has ? (columns.errors[index] ?? 0) : 0;
    if (spans > 0) state.lastDataMs = start;
    // Slide the baseline window: the slot about to be overwritten leaves it.
    const history = this.history;
    const cell = history.cell(this.slotOf(start), index);
    if (history.inBaseline[cell]) {
      state.baselineSpans -= history.spans[cell] ?? 0;
      state.baselineErrors -= history.errors[cell] ?? 0;
      state.baselineSlots -= 1;
      history.inBaseline[cell] = 0;
    }
    const warm =
      start - state.firstSeenMs >= config.warmupMs && state.baselineSpans >= config.minBaselineSpans;
    // The prior weighs 100 spans: at 500 it outweighed a quiet series' whole 30-minute baseline (~540 spans
    // at 3 per bucket) and halved a 5% baseline, so stationary noise alarmed ~22 times a day there.
    const p0 = baselineErrorRate(state.baselineErrors, state.baselineSpans, {
      priorRate: 0.002,
      priorSpans: 100,
      floor: 0.0005,
    });
    let alarm: { signal: DetectorSignal; onsetMs: number } | null = null;
    let anomalous = false;

    if (state.alarm) {
      const expected = spans * p0;
      const normal =
        state.alarm.signal === "error_rate"
          ? errors <= expected + 3 * Math.sqrt(expected * (1 - p0)) + 1
          : state.alarm.signal === "throughput"
            ? spans >= 0.6 * this.meanRate(state) ||
              // At low rates a bucket that is merely on the quiet side of Poisson noise is normal too.
              (this.meanRate(state) < config.minDropBaselineSpans &&
                poissonLowerTail(spans, this.meanRate(state)) > 0.01)
            : (columns.p95Of(index) ?? 0) < 1.5 * (Number.isNaN(state.baseP95) ? 0 : state.baseP95) ||
              columns.p95Of(index) === null;
      state.alarm.normalStreak = normal ? state.alarm.normalStreak + 1 : 0;
      anomalous = !normal;
      if (state.alarm.normalStreak >= config.recoveryBuckets) {
        this.recover(state, start + config.stepMs - state.alarm.normalStreak * config.stepMs);
      }
    } else if (warm) {
      // Errors: binomial CUSUM against the trailing baseline.
      const p1 = alternativeErrorRate(p0, config.alternativeFactor, config.alternativeMinLift);
      state.cusum = binomialCusumStep(state.cusum, errors, spans, p0, p1);
      if (state.cusum > 0) {
        if (state.runStartMs === null) {
          state.runStartMs = start;
          state.runErrors = 0;
        }
        state.runErrors += errors;
        anomalous = errors > spans * p0 + 2 * Math.sqrt(spans * p0) + 1;
      } else {
        state.runStartMs = null;
        state.runErrors = 0;
      }
      if (state.cusum >= config.cusumThreshold && state.runErrors >= config.minAlarmErrors) {
        // The current bucket is not in the ring yet; record it first so the onset search sees it.
        history.spans[cell] = spans;
        history.errors[cell] = errors;
        alarm = { signal: "error_rate", onsetMs: this.onsetOf(state, start, p0, p1) };
      }
      // Throughput: a collapse of the span rate against the trailing mean — unless the signal has been
      // silent since before a blackout, when nobody saw it stop (see `telemetryGapMs`).
      const mean = this.meanRate(state);
      const dormant = spans === 0 && !(state.lastDataMs >= this.blackoutEndMs);
      if (dormant) {
        // Judged again from its first data after the blackout.
      } else if (!alarm && mean >= config.minDropBaselineSpans) {
        if (spans < config.dropFactor * mean) {
          state.lowStartMs ??= start;
          state.lowStreak += 1;
          anomalous = true;
          if (state.lowStreak >= config.dropBuckets)
            alarm = { signal: "throughput", onsetMs: state.lowStartMs };
        } else {
          state.lowStreak = 0;
          state.lowStartMs = null;
        }
      } else if (!alarm && mean >= config.minRunDropBaselineSpans) {
        // At low rates one bucket says little (a quiet consumer sees a handful of messages per bucket):
        // judge the run of quiet buckets as a whole, alarming once its total is both far below the mean
        // and unlikely under it (a Poisson tail small enough for about one false alarm per series-day).
        const runBuckets = state.lowStreak + 1;
        const runSpans = state.lowSpans + spans;
        const expected = runBuckets * mean;
        if (runSpans < 0.5 * expected) {
          state.lowStartMs ??= start;
          state.lowStreak = runBuckets;
          state.lowSpans = runSpans;
          // The onset is the first bucket low on its own, not a chance dip just before it.
          if (state.lowOnsetMs === null && poissonLowerTail(spans, mean) < 0.01) state.lowOnsetMs = start;
          // Quiet buckets leave the baseline only once their run is telling: at a few spans a bucket, a
          // fifth of ordinary buckets start a run, and dropping them all would inflate the mean.
          const tail = poissonLowerTail(runSpans, expected);
          if (tail < 0.001) anomalous = true;
          if (runBuckets >= config.dropBuckets && runSpans <= config.dropFactor * expected && tail < 1e-6) {
            alarm = { signal: "throughput", onsetMs: state.lowOnsetMs ?? state.lowStartMs };
          }
        } else {
          state.lowStreak = 0;
          state.lowStartMs = null;
          state.lowSpans = 0;
          state.lowOnsetMs = null;
        }
      }
      // Latency: p95 far above its usual level (read from the sketches only where it is judged).
      const p95 =
        !alarm && !Number.isNaN(state.baseP95) && spans >= config.minLatencySpans
          ? columns.p95Of(index)
          : null;
      if (p95 !== null && !Number.isNaN(state.baseP95)) {
        if (p95 > Math.max(config.latencyFactor * state.baseP95, state.baseP95 + config.latencyMinLiftMs)) {
          state.slowStartMs ??= start;
          state.slowStreak += 1;
          anomalous = true;
          if (state.slowStreak >= config.latencyBuckets)
            alarm = { signal: "latency", onsetMs: state.slowStartMs };
        } else {
          state.slowStreak = 0;
          state.slowStartMs = null;
        }
      }
    }
    // Record the bucket; normal ones join the baseline.
    history.spans[cell] = spans;
    history.errors[cell] = errors;
    state.lastBucketMs = start;
    if (!anomalous && !state.alarm && !alarm) {
      history.inBaseline[cell] = 1;
      state.baselineSpans += spans;
      state.baselineErrors += errors;
      state.baselineSlots += 1;
      const p95 = spans >= this.config.minLatencySpans ? columns.p95Of(index) : null;
      if (p95 !== null) {
        // A p95 well above the baseline that is not (yet) an alarm joins it ten times slower: a slowdown
        // rolling out instance by instance first shows as buckets under the alarm line, and at full
        // weight they lifted the baseline faster than the rollout lifted the p95 — it never alarmed.
        // A lasting new level is still learnt, over about half an hour instead of three minutes.
        const elevated = p95 > 1.5 * state.baseP95 && p95 > state.baseP95 + latencyNoiseMs;
        const weight = elevated ? 0.005 : 0.05;
        state.baseP95 = Number.isNaN(state.baseP95) ? p95 : (1 - weight) * state.baseP95 + weight * p95;
      }
    }
    return alarm;
  }

  /**
   * Change-point estimate for an error alarm at `alarmStart`: the start of the suffix of the CUSUM run
   * with the largest log-likelihood ratio (the maximum-likelihood change point), then moved past leading
   * buckets that hold no more errors than the baseline allows — a stray error just before a real step
   * must not pull the onset (and so attribution's "before onset" rule) earlier.
   */
  private onsetOf(state: SignalState, alarmStart: number, p0: number, p1: number): number {
    const { stepMs } = this.config;
    const earliest = Math.max(
      state.runStartMs ?? alarmStart,
      alarmStart - (this.capacity - 2) * stepMs,
      state.firstSeenMs,
    );
    const errorWeight = Math.log(p1 / p0);
    const successWeight = Math.log((1 - p1) / (1 - p0));
    let suffix = 0;
    let best = Number.NEGATIVE_INFINITY;
    let onset = alarmStart;
    let quiet = 0;
    const history = this.history;
    for (let t = alarmStart; t >= earliest; t -= stepMs) {
      const cell = history.cell(this.slotOf(t), state.index);
      const spans = history.spans[cell] ?? 0;
      const errors = history.errors[cell] ?? 0;
      // As many normal buckets in a row as recovery needs end the search: a failure would have counted
      // as recovered there, so it did not start before them. On a low-volume series a stray error or two
      // keeps the run open for many minutes (each quiet bucket takes back a tenth of a nat), and the
      // run's maximum-likelihood start would otherwise reach back to those strays.
      const expected = spans * p0;
      quiet = errors <= expected + 3 * Math.sqrt(expected * (1 - p0)) + 1 ? quiet + 1 : 0;
      if (quiet >= this.config.recoveryBuckets) break;
      suffix += errors * errorWeight + (spans - errors) * successWeight;
      if (suffix > best) {
        best = suffix;
        onset = t;
      }
    }
    while (onset < alarmStart) {
      const cell = history.cell(this.slotOf(onset), state.index);
      const expected = (history.spans[cell] ?? 0) * p0;
      if (poissonUpperTail(history.errors[cell] ?? 0, expected) < 0.01) break;
      onset += stepMs;
    }
    return onset;
  }

  private meanRate(state: SignalState): number {
    return state.baselineSlots > 0 ? state.baselineSpans / state.baselineSlots : 0;
  }

  /** An alarm joins a connected, overlapping (or recently ended) incident, or opens a new one. */
  private raise(key: string, signal: DetectorSignal, onsetMs: number, detectedAtMs: number): void {
    const state = this.signals.get(key);
    if (!state) return;
    const neighbours = this.neighboursOf(state.environment, state.service);
    // What is failing now and how it explains itself, worked out once and only if an open incident is
    // connected: graph connectivity alone would merge unrelated faults behind one shared caller.
    let view: ReturnType<DetectionEngine["causalView"]> | undefined;
    const viewOf = () => {
      view ??= this.causalView(
        state.environment,
        this.failingMembers(state.environment, null, { key, signal }),
        detectedAtMs - rootWindowMs,
        detectedAtMs,
      );
      return view;
    };
    let target: IncidentState | undefined;
    const bridged: IncidentState[] = [];
    for (const incident of this.incidents.values()) {
      if (incident.environment !== state.environment) continue;
      const active = incident.endedAtMs === null;
      const recentlyEnded = !active && detectedAtMs - (incident.endedAtMs ?? 0) <= this.config.reopenWindowMs;
      if (!active && !recentlyEnded) continue;
      const member = incident.services.includes(state.service);
      const connected = member || incident.services.some((service) => neighbours.has(service));
      if (!connected) continue;
      // Only the same failure reopens an ended incident: its root failing again the same way, not a
      // neighbour, nor the root hit by something else (a consumer that stalled, then times out on a slow
      // store minutes later).
      if (!active && !this.failedTheSameWay(incident, state.service, signal)) continue;
      if (active && !member && !this.belongsTo(state.service, incident, viewOf())) continue;
      if (!target || incident.startedAtMs < target.startedAtMs) target = incident;
      if (active) bridged.push(incident);
    }
    // An alarm that connects several open incidents that began together shows they are one failure
    // seen from different sides (e.g. a consumer and the gateways of a shared dependency): merge them.
    if (target) {
      for (const other of bridged) {
        if (other !== target && Math.abs(other.startedAtMs - target.startedAtMs) <= mergeWindowMs) {
          this.merge(other, target);
        }
      }
    }
    if (!target) {
      target = this.openIncident(state, signal, onsetMs, detectedAtMs);
    } else if (target.endedAtMs !== null) {
      target.endedAtMs = null;
      target.status = "open";
      target.events.push({
        atMs: detectedAtMs,
        kind: "reopened",
        message: `${state.service} is failing again`,
      });
    }
    state.alarm = { signal, incidentId: target.id, onsetMs, normalStreak: 0 };
    state.cusum = 0;
    state.runStartMs = null;
    state.lowStreak = 0;
    state.lowStartMs = null;
    state.lowSpans = 0;
    state.lowOnsetMs = null;
    state.slowStreak = 0;
    target.members.set(key, true);
    if (!target.memberOnsets.has(key)) target.memberOnsets.set(key, onsetMs);
    target.memberSignals.set(key, signal);
    if (!target.services.includes(state.service)) {
      target.services.push(state.service);
      if (target.members.size > 1) {
        target.events.push({
          atMs: detectedAtMs,
          kind: "spread",
          message: `spread to ${state.service} (${describeSignal(signal)} on ${state.operation})`,
        });
      }
    }
    if (onsetMs < target.startedAtMs) target.startedAtMs = onsetMs;
    // Open incidents that began together and whose failures this one now explains (callers that alarmed
    // before the dependency they call did) are the same failure: fold them in.
    for (const other of [...this.incidents.values()]) {
      if (other === target || other.environment !== target.environment || other.endedAtMs !== null) continue;
      if (Math.abs(other.startedAtMs - target.startedAtMs) > mergeWindowMs) continue;
      if (this.explainedByIncident(other, target, viewOf())) this.merge(other, target);
    }
    target.lastActiveMs = detectedAtMs;
    this.touch(target);
  }

  /** Whether `service` is the incident's root and alarmed in it on the same detector as `signal`. */
  private failedTheSameWay(incident: IncidentState, service: string, signal: DetectorSignal): boolean {
    if (incident.rootService !== service) return false;
    for (const [key, memberSignal] of incident.memberSignals) {
      if (memberSignal === signal && this.signals.get(key)?.service === service) return true;
    }
    return false;
  }

  /**
   * Whether a failing service joins a connected open incident: a service whose failure a failing
   * dependency explains goes where that dependency is; a service no failing dependency explains (a root
   * of its own) joins unless the incident holds another such root with errors of its own — two
   * independent faults meeting in a shared caller are two incidents. Without error evidence either way
   * (latency, throughput) connectivity decides, as it always did.
   */
  private belongsTo(
    service: string,
    incident: IncidentState,
    view: ReturnType<DetectionEngine["causalView"]>,
  ): boolean {
    const explainer = view.explainedBy(service);
    if (explainer !== null) return incident.services.includes(explainer);
    const substantial = (name: string) => (view.excess.get(name) ?? 0) >= this.config.minAlarmErrors;
    if (!substantial(service)) return true;
    return !incident.services.some(
      (other) => other !== service && view.explainedBy(other) === null && substantial(other),
    );
  }

  /**
   * Whether `incident`'s failure flows from `into`: some service of it is explained by a service of
   * `into`, and every other either by one of the two or has no errors of its own to speak of.
   */
  private explainedByIncident(
    incident: IncidentState,
    into: IncidentState,
    view: ReturnType<DetectionEngine["causalView"]>,
  ): boolean {
    let linked = false;
    for (const service of incident.services) {
      const explainer = view.explainedBy(service);
      if (explainer !== null && into.services.includes(explainer)) linked = true;
      else if (explainer !== null && incident.services.includes(explainer)) continue;
      else if ((view.excess.get(service) ?? 0) >= this.config.minAlarmErrors) return false;
    }
    return linked;
  }

  /** Moves everything of `from` into `into` and forgets `from` (reported through `removedIncidentIds`). */
  private merge(from: IncidentState, into: IncidentState): void {
    for (const [key, onset] of from.memberOnsets) {
      into.memberOnsets.set(key, Math.min(onset, into.memberOnsets.get(key) ?? onset));
    }
    for (const [key, signal] of from.memberSignals) into.memberSignals.set(key, signal);
    for (const [key, alarmed] of from.members) {
      into.members.set(key, alarmed);
      const state = this.signals.get(key);
      if (state?.alarm && state.alarm.incidentId === from.id) state.alarm.incidentId = into.id;
    }
    for (const service of from.services) if (!into.services.includes(service)) into.services.push(service);
    maxUserRegistersInto(into.userRegisters, from.userRegisters);
    into.startedAtMs = Math.min(into.startedAtMs, from.startedAtMs);
    into.detectedAtMs = Math.min(into.detectedAtMs, from.detectedAtMs);
    into.events.push({
      atMs: Math.max(from.detectedAtMs, into.detectedAtMs),
      kind: "spread",
      message: `merged with the failure on ${from.services.join(", ")}: one cause`,
    });
    this.incidents.delete(from.id);
    this.changed.delete(from.id);
    this.removed.add(from.id);
    this.touch(into);
  }

  /** Ids of incidents merged into others since the last call; storage should delete them. */
  takeRemovedIncidentIds(): string[] {
    const ids = [...this.removed];
    this.removed.clear();
    return ids;
  }

  private openIncident(
    state: SignalState,
    signal: DetectorSignal,
    onsetMs: number,
    detectedAtMs: number,
  ): IncidentState {
    const id = `inc_${onsetMs.toString(36)}_${shortHash(`${state.environment}${sep}${state.service}${sep}${state.operation}`)}`;
    const incident: IncidentState = {
      id,
      environment: state.environment,
      title: `${describeSignal(signal)} on ${state.service}`,
      status: "open",
      severity: "sev3",
      signal,
      rootService: state.service,
      startedAtMs: onsetMs,
      detectedAtMs,
      endedAtMs: null,
      services: [],
      surfaces: ["backend"],
      affectedUsers: 0,
      suspects: [],
      causeChangeId: null,
      events: [
        {
          atMs: detectedAtMs,
          kind: "opened",
          message: `${describeSignal(signal)} on ${state.service} ${state.operation} (began ${isoTime(onsetMs)})`,
        },
      ],
      revision: 0,
      members: new Map(),
      memberOnsets: new Map(),
      memberSignals: new Map(),
      userRegisters: emptySketchBins(),
      lastActiveMs: detectedAtMs,
      sharedServices: new Set(),
      trackedCauseService: null,
    };
    this.incidents.set(id, incident);
    return incident;
  }

  private recover(state: SignalState, recoveredAtMs: number): void {
    const alarm = state.alarm;
    state.alarm = null;
    state.cusum = 0;
    state.runStartMs = null;
    if (!alarm) return;
    const incident = this.incidents.get(alarm.incidentId);
    if (!incident) return;
    incident.members.set(
      `${state.environment}${sep}${state.service}${sep}${state.operation}${sep}${state.kind}`,
      false,
    );
    if ([...incident.members.values()].every((alarmed) => !alarmed)) {
      incident.endedAtMs = Math.max(recoveredAtMs, incident.startedAtMs);
      incident.status = "resolved";
      incident.events.push({
        atMs: incident.endedAtMs,
        kind: "recovered",
        message: "all signals back to baseline",
      });
    }
    this.touch(incident);
  }

  /** After each bucket: refresh roots, impact and suspects of incidents still developing. */
  private settleIncidents(nowMs: number): void {
    for (const incident of this.incidents.values()) {
      const developing = incident.endedAtMs === null || nowMs - incident.endedAtMs < this.config.stepMs * 2;
      if (!developing) continue;
      const users = Math.round(estimateDistinctUsers(incident.userRegisters));
      if (users !== incident.affectedUsers) {
        incident.affectedUsers = users;
        this.touch(incident);
      }
      const severity = severityOf(incident.affectedUsers, incident.services.length);
      if (severity !== incident.severity) {
        incident.events.push({
          atMs: nowMs,
          kind: "severity_changed",
          message: `severity ${incident.severity} → ${severity}`,
        });
        incident.severity = severity;
        this.touch(incident);
      }
      // The root, and which callers this cause alone explains, are judged on the incident's first
      // minutes, when cause and effect are clearest; later failures joining a long incident must not
      // move them.
      if (nowMs - incident.startedAtMs <= rootWindowMs) {
        const view = this.causalView(
          incident.environment,
          this.failingMembers(incident.environment, incident),
          incident.startedAtMs - this.config.stepMs,
          incident.startedAtMs + rootWindowMs,
          new Set(incident.services),
        );
        const root = this.rootOf(incident, view);
        if (root !== incident.rootService) {
          incident.rootService = root;
          incident.title = `${describeSignal(incident.signal)} on ${root ?? incident.services[0] ?? "unknown"}`;
          this.touch(incident);
        }
        this.judgeSharedCallers(incident, view, nowMs);
      }
      // Version evidence grows for a while after onset; keep re-ranking during the incident's first 15 min.
      if (nowMs - incident.startedAtMs <= 15 * 60_000 || incident.endedAtMs !== null) this.rank(incident);
    }
  }

  /**
   * Marks the incident's services whose failing calls go, for a good part, into services of another
   * open incident: a caller in front of two unrelated failures (a gateway calling both failing
   * services) fails from both causes, so it is affected by neither alone, and listing it under one
   * would say that cause explains errors it does not. Such a caller stays a member (its alarm still
   * ends with the incident, its users still count) but is left out of the services the incident
   * reports, with a timeline line saying why. Once shared it stays so: when the other incident ends
   * first, its services drop out of what is failing, which does not make this cause explain more.
   */
  private judgeSharedCallers(
    incident: IncidentState,
    view: ReturnType<DetectionEngine["causalView"]>,
    nowMs: number,
  ): void {
    // Callers of a shared caller fail from both causes as well: repeat until nothing changes.
    for (let changed = true; changed; ) {
      changed = false;
      for (const service of incident.services) {
        if (service === incident.rootService || incident.sharedServices.has(service)) continue;
        let total = 0;
        let elsewhere = 0;
        const otherRoots = new Set<string>();
        for (const [callee, errors] of view.callErrors.get(service) ?? []) {
          total += errors;
          if (incident.sharedServices.has(callee)) {
            elsewhere += errors;
            continue;
          }
          if (incident.services.includes(callee)) continue;
          for (const other of this.incidents.values()) {
            if (other === incident || other.environment !== incident.environment) continue;
            if (other.endedAtMs !== null || !other.services.includes(callee)) continue;
            elsewhere += errors;
            otherRoots.add(other.rootService ?? callee);
            break;
          }
        }
        if (total === 0 || elsewhere < this.config.minAlarmErrors || elsewhere < sharedCallerShare * total)
          continue;
        incident.sharedServices.add(service);
        changed = true;
        incident.events.push({
          atMs: nowMs,
          kind: "spread",
          message:
            otherRoots.size > 0
              ? `${service} fails from another cause too (its failing calls also go to ${[...otherRoots].join(", ")}, failing in another incident): not listed as affected by this one alone`
              : `${service} calls a service failing from two causes: not listed as affected by this one alone`,
        });
        this.touch(incident);
      }
    }
  }

  /**
   * The failing service whose errors no failing callee explains (the deepest failing dependency).
   * Callees failing in other open incidents count as explanations too: a gateway in front of two
   * unrelated faults is explained by both together, so it is never mistaken for a root.
   */
  private rootOf(incident: IncidentState, view: ReturnType<DetectionEngine["causalView"]>): string | null {
    const roots = incident.services.filter((service) => view.explainedBy(service) === null);
    const candidates = roots.length > 0 ? roots : incident.services;
    let root: string | null = null;
    let rootExcess = Number.NEGATIVE_INFINITY;
    for (const service of candidates) {
      const value = view.excess.get(service) ?? 0;
      if (value > rootExcess) {
        root = service;
        rootExcess = value;
      }
    }
    return root;
  }

  /**
   * The member signals (key → detector) of every open incident of an environment, plus `extra`'s (an
   * incident being judged, or an alarm being raised): what is failing right now.
   */
  private failingMembers(
    environment: string,
    extra: IncidentState | null,
    alarm?: { key: string; signal: DetectorSignal },
  ): Map<string, DetectorSignal> {
    const members = new Map<string, DetectorSignal>();
    for (const incident of this.incidents.values()) {
      if (incident.environment !== environment) continue;
      if (incident.endedAtMs !== null && incident !== extra) continue;
      for (const [key, signal] of incident.memberSignals) members.set(key, signal);
    }
    if (alarm) members.set(alarm.key, alarm.signal);
    return members;
  }

  /**
   * How services failing together explain each other over [windowStart, windowEnd): each one's errors
   * above baseline (summed over its failing signals), and for each the failing dependency its failure
   * comes from, if any — errors flow up the call graph (a caller whose calls into failing callees carry
   * most of its excess errors is explained by the callee carrying the most), throughput drops flow down
   * (a starved callee with no errors of its own is explained by a dropping caller).
   */
  private causalView(
    environment: string,
    members: ReadonlyMap<string, DetectorSignal>,
    windowStart: number,
    windowEnd: number,
    /**
     * When given, `excess` and `explainedBy` are asked only about these services (an incident's own), so
     * only their signals and calls are read (and the dropping services' calls, which explain starved
     * callees). Answers for them are the same as without it.
     */
    focus?: ReadonlySet<string>,
  ): {
    excess: Map<string, number>;
    explainedBy: (service: string) => string | null;
    /** Failing callers → failing callee → errors of their calls into it over the window. */
    callErrors: ReadonlyMap<string, ReadonlyMap<string, number>>;
  } {
    const failing = new Set<string>();
    // A service's own excess errors come from the spans that serve its work (server, consumer,
    // internal). Its outgoing spans (client, producer) fail with its callees: counting both would
    // double a gateway's errors against what its failing calls explain, so outgoing spans count only
    // for a service that has no failing entry span (e.g. a client of an uninstrumented dependency).
    const entryExcess = new Map<string, number>();
    const outgoingExcess = new Map<string, number>();
    // Which failing services alarmed on throughput.
    const dropping = new Set<string>();
    for (const [key, signal] of members) {
      const state = this.signals.get(key);
      if (!state) continue;
      failing.add(state.service);
      if (signal === "throughput") dropping.add(state.service);
      if (focus && !focus.has(state.service)) continue;
      const into = state.kind === "client" || state.kind === "producer" ? outgoingExcess : entryExcess;
      into.set(
        state.service,
        (into.get(state.service) ?? 0) + this.excessErrors(state, windowStart, windowEnd),
      );
    }
    // The callers whose call edges are read: every failing one, or the focus and the dropping ones.
    const sources = focus
      ? [...failing].filter((service) => focus.has(service) || dropping.has(service))
      : failing;
    const excess = new Map<string, number>(outgoingExcess);
    for (const [service, value] of entryExcess) excess.set(service, value);
    const callErrors = new Map<string, Map<string, number>>();
    const callers = new Map<string, Set<string>>();
    const positions: number[] = [];
    for (const bucket of this.recentEdges) {
      if (bucket.bucketStartMs < windowStart || bucket.bucketStartMs >= windowEnd) continue;
      // Only the failing callers' call edges, in arrival order (ties below go to the first seen).
      const bySource = callsBySourceOf(bucket).get(environment);
      if (!bySource) continue;
      positions.length = 0;
      for (const source of sources) for (const at of bySource.get(source) ?? []) positions.push(at);
      positions.sort((a, b) => a - b);
      for (const at of positions) {
        const edge = bucket.edges[at];
        if (!edge || !failing.has(edge.target) || edge.source === edge.target) continue;
        const byTarget = callErrors.get(edge.source) ?? new Map<string, number>();
        byTarget.set(edge.target, (byTarget.get(edge.target) ?? 0) + edge.errors);
        callErrors.set(edge.source, byTarget);
        callers.set(edge.target, (callers.get(edge.target) ?? new Set<string>()).add(edge.source));
      }
    }
    const explainedBy = (service: string): string | null => {
      const own = excess.get(service) ?? 0;
      let best: string | null = null;
      let bestErrors = 0;
      let total = 0;
      for (const [callee, errors] of callErrors.get(service) ?? []) {
        total += errors;
        if (errors > bestErrors) {
          best = callee;
          bestErrors = errors;
        }
      }
      if (best !== null && total >= 0.5 * Math.max(own, 1)) return best;
      if (own < 1 && dropping.has(service)) {
        for (const caller of callers.get(service) ?? []) if (dropping.has(caller)) return caller;
      }
      return null;
    };
    return { excess, explainedBy, callErrors };
  }

  /** Errors above the baseline rate over [fromMs, toMs), from the signal's ring. */
  private excessErrors(state: SignalState, fromMs: number, toMs: number): number {
    const p0 = state.baselineSpans > 0 ? state.baselineErrors / state.baselineSpans : 0;
    let excess = 0;
    for (
      let t = Math.max(fromMs, state.lastBucketMs - (this.capacity - 1) * this.config.stepMs);
      t <= state.lastBucketMs && t < toMs;
      t += this.config.stepMs
    ) {
      const cell = this.history.cell(this.slotOf(t), state.index);
      excess += (this.history.errors[cell] ?? 0) - (this.history.spans[cell] ?? 0) * p0;
    }
    return Math.max(0, excess);
  }

  /** Services adjacent to `service` in the recent graph; a destination joins its producers and consumers. */
  private neighboursOf(environment: string, service: string): Set<string> {
    const out = new Set<string>();
    const graph = this.graphs.get(environment);
    if (!graph) return out;
    const horizon = this.edgeHorizonMs;
    for (const [peer, lastMs] of graph.calls.get(service) ?? []) if (lastMs >= horizon) out.add(peer);
    for (const [destination, lastMs] of graph.destinations.get(service) ?? []) {
      if (lastMs < horizon) continue;
      for (const [client, clientLastMs] of graph.clients.get(destination) ?? []) {
        if (clientLastMs >= horizon) out.add(client);
      }
    }
    out.delete(service);
    return out;
  }

  private rank(incident: IncidentState): void {
    // Attribution measures time from the root service's own onset: the first of its signals to fail.
    // Callers' alarms may start a little earlier on noise, and must not push a real cause "after onset".
    let rootOnset = Number.POSITIVE_INFINITY;
    for (const [key, onset] of incident.memberOnsets) {
      if (this.signals.get(key)?.service === incident.rootService) rootOnset = Math.min(rootOnset, onset);
    }
    const evidence: IncidentEvidence = {
      environment: incident.environment,
      startedAtMs: Number.isFinite(rootOnset) ? rootOnset : incident.startedAtMs,
      endedAtMs: incident.endedAtMs,
      rootService: incident.rootService,
      signal: this.rootSignalOf(incident),
      services: incident.services,
      neighboursOfRoot: incident.rootService
        ? this.neighboursOf(incident.environment, incident.rootService)
        : new Set(),
      versionCounts: (service, fromMs, toMs) =>
        this.versionCounts(incident.environment, service, fromMs, toMs),
      versionBuckets: (service, fromMs, toMs) =>
        this.versionBuckets(incident.environment, service, fromMs, toMs),
      wasFailingBefore: (service, beforeMs) => this.wasFailingBefore(incident, service, beforeMs),
    };
    const candidates = [...this.changes.values()].filter(
      (change) => change.environment === incident.environment,
    );
    const { suspects, causeChangeId, trackedCauseService } = rankSuspects(candidates, evidence, this.config);
    // Another tracked cause replaces it; a ranking that names none leaves it (sequential evidence sways
    // while a rollout is under way, and the timeline should not flap with it).
    if (trackedCauseService !== null && trackedCauseService !== incident.trackedCauseService) {
      const atMs = Math.max(incident.detectedAtMs, this.closedUpToMs);
      const previous = incident.trackedCauseService;
      incident.trackedCauseService = trackedCauseService;
      if (previous !== null) {
        incident.events.push({
          atMs,
          kind: "suspects_changed",
          message: `${previous} left: another service's rollout explains the failure better`,
        });
      }
      // Its change's rollout explains what failed (e.g. a producer losing the messages a consumer starves
      // for): the service is part of this incident, though its own signals look normal.
      incident.events.push({
        atMs,
        kind: "spread",
        message: `spread to ${trackedCauseService} (the rollout of its change tracks the failure)`,
      });
      this.touch(incident);
    }
    const before = JSON.stringify([incident.suspects, incident.causeChangeId]);
    if (before === JSON.stringify([suspects, causeChangeId])) return;
    const topBefore = incident.suspects[0]?.changeId ?? null;
    incident.suspects = suspects;
    incident.causeChangeId = causeChangeId;
    if (
      (suspects[0]?.changeId ?? null) !== topBefore ||
      incident.events.every((event) => event.kind !== "suspects_changed")
    ) {
      const top = suspects[0];
      incident.events.push({
        atMs: Math.max(incident.detectedAtMs, this.closedUpToMs),
        kind: "suspects_changed",
        message: top
          ? `top suspect: ${top.kind} of ${top.service}${top.version ? ` ${top.version}` : ""} (score ${top.score.toFixed(2)})`
          : "no change explains this",
      });
    }
    this.touch(incident);
  }

  /**
   * How the root failed: errors if any of its signals alarmed on errors, else latency, else throughput.
   * The incident's own signal is its first alarm's, often a caller's (timeouts behind a slow root).
   */
  private rootSignalOf(incident: IncidentState): DetectorSignal {
    const signals = new Set<DetectorSignal>();
    for (const [key, signal] of incident.memberSignals) {
      if (this.signals.get(key)?.service === incident.rootService) signals.add(signal);
    }
    for (const signal of ["error_rate", "latency", "throughput"] as const)
      if (signals.has(signal)) return signal;
    return incident.signal;
  }

  /** The registered version rings of a service, in registration order. */
  private versionRingsOf(environment: string, service: string): readonly VersionRing[] {
    return this.services.get(environment)?.get(service)?.versions ?? [];
  }

  /** A version's spans and errors in bucket `t` (zero unless the ring's slot holds that bucket's data). */
  private ringAt(ring: VersionRing, t: number): { spans: number; errors: number } | null {
    const slot = this.slotOf(t);
    // The slot's last closed bucket: the ring holds data for it only when stamped with the same start.
    if (ring.stamps[slot] !== this.slotStamps[slot]) return null;
    return { spans: ring.spans[slot] ?? 0, errors: ring.errors[slot] ?? 0 };
  }

  /** Spans and errors per version of a service over [fromMs, toMs), from the version rings. */
  private versionCounts(environment: string, service: string, fromMs: number, toMs: number) {
    const out = new Map<string, { spans: number; errors: number }>();
    const oldest = this.closedUpToMs - this.capacity * this.config.stepMs;
    const from = Math.max(fromMs, oldest);
    for (const ring of this.versionRingsOf(environment, service)) {
      let spans = 0;
      let errors = 0;
      for (
        let t = Math.floor(from / this.config.stepMs) * this.config.stepMs;
        t < Math.min(toMs, this.closedUpToMs);
        t += this.config.stepMs
      ) {
        const counts = this.ringAt(ring, t);
        spans += counts?.spans ?? 0;
        errors += counts?.errors ?? 0;
      }
      if (spans > 0) out.set(ring.version, { spans, errors });
    }
    return out;
  }

  /** Per-bucket spans and errors per version of a service over [fromMs, toMs), aligned by bucket. */
  private versionBuckets(environment: string, service: string, fromMs: number, toMs: number) {
    const out = new Map<string, { spans: number[]; errors: number[] }>();
    const { stepMs } = this.config;
    const oldest = this.closedUpToMs - this.capacity * stepMs;
    const first = Math.ceil(Math.max(fromMs, oldest + stepMs) / stepMs) * stepMs;
    const end = Math.min(toMs, this.closedUpToMs);
    for (const ring of this.versionRingsOf(environment, service)) {
      const spans: number[] = [];
      const errors: number[] = [];
      for (let t = first; t < end; t += stepMs) {
        const counts = this.ringAt(ring, t);
        spans.push(counts?.spans ?? 0);
        errors.push(counts?.errors ?? 0);
      }
      out.set(ring.version, { spans, errors });
    }
    return out;
  }

  /** Whether the service was already in an incident in the half hour before `beforeMs` (veto). */
  private wasFailingBefore(current: IncidentState, service: string, beforeMs: number): boolean {
    for (const incident of this.incidents.values()) {
      if (incident.id === current.id || incident.environment !== current.environment) continue;
      if (!incident.services.includes(service)) continue;
      const end = incident.endedAtMs ?? Number.POSITIVE_INFINITY;
      if (incident.startedAtMs < beforeMs && end > beforeMs - 30 * 60_000) return true;
    }
    return false;
  }

  private touch(incident: IncidentState): void {
    incident.revision += 1;
    this.changed.add(incident.id);
  }
}

/** A recent bucket's call edges by environment and caller (positions in its edge list), built once. */
function callsBySourceOf(bucket: EdgeBucket): Map<string, Map<string, number[]>> {
  if (bucket.callsBySource) return bucket.callsBySource;
  const callsBySource = new Map<string, Map<string, number[]>>();
  for (const [at, edge] of bucket.edges.entries()) {
    if (edge.kind !== "call") continue;
    let bySource = callsBySource.get(edge.environment);
    if (!bySource) {
      bySource = new Map();
      callsBySource.set(edge.environment, bySource);
    }
    const positions = bySource.get(edge.source);
    if (positions) positions.push(at);
    else bySource.set(edge.source, [at]);
  }
  bucket.callsBySource = callsBySource;
  return callsBySource;
}

/** Records that `from` and `to` were linked by an edge in the bucket starting at `bucketStartMs`. */
function link(adjacency: Adjacency, from: string, to: string, bucketStartMs: number): void {
  let peers = adjacency.get(from);
  if (!peers) {
    peers = new Map();
    adjacency.set(from, peers);
  }
  if ((peers.get(to) ?? Number.NEGATIVE_INFINITY) < bucketStartMs) peers.set(to, bucketStartMs);
}

function snapshotOf(incident: IncidentState): IncidentSnapshot {
  return {
    id: incident.id,
    environment: incident.environment,
    title: incident.title,
    status: incident.status,
    severity: incident.severity,
    signal: incident.signal,
    rootService: incident.rootService,
    startedAtMs: incident.startedAtMs,
    detectedAtMs: incident.detectedAtMs,
    endedAtMs: incident.endedAtMs,
    services: [
      ...incident.services.filter((service) => !incident.sharedServices.has(service)),
      ...(incident.trackedCauseService === null || incident.services.includes(incident.trackedCauseService)
        ? []
        : [incident.trackedCauseService]),
    ],
    surfaces: [...incident.surfaces],
    affectedUsers: incident.affectedUsers,
    suspects: incident.suspects.map((suspect) => ({ ...suspect, evidence: [...suspect.evidence] })),
    causeChangeId: incident.causeChangeId,
    events: incident.events.map((event) => ({ ...event })),
    revision: incident.revision,
  };
}

/** P(X ≤ k) for X ~ Poisson(λ), summed in log space (λ of a whole run of buckets underflows e^−λ). */
function poissonLowerTail(k: number, lambda: number): number {
  if (k < 0) return 0;
  if (lambda <= 0) return 1;
  const logLambda = Math.log(lambda);
  let logTerm = -lambda;
  let logSum = logTerm;
  for (let i = 1; i <= k; i += 1) {
    logTerm += logLambda - Math.log(i);
    logSum =
      logSum > logTerm
        ? logSum + Math.log1p(Math.exp(logTerm - logSum))
        : logTerm + Math.log1p(Math.exp(logSum - logTerm));
  }
  return Math.min(1, Math.exp(logSum));
}

/** P(X ≥ k) for X ~ Poisson(λ); exact summation, fine for the small counts of one bucket. */
function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  let term = Math.exp(-lambda);
  let below = term;
  for (let i = 1; i < k; i += 1) {
    term *= lambda / i;
    below += term;
  }
  return Math.max(0, 1 - below);
}

function severityOf(users: number, services: number): Severity {
  if (users >= 10_000 || services >= 5) return "sev1";
  if (users >= 1_000 || services >= 3) return "sev2";
  if (users >= 50 || services >= 2) return "sev3";
  return "sev4";
}

function describeSignal(signal: DetectorSignal): string {
  return signal === "error_rate"
    ? "Error spike"
    : signal === "throughput"
      ? "Throughput drop"
      : "Latency shift";
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** FNV-1a, 32 bits, base 36: a short stable suffix for incident ids. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

/** Whether two versions of a change event differ in what attribution looks at. */
function attributionFieldsDiffer(a: ChangeCandidate, b: ChangeCandidate): boolean {
  return (
    a.startedAtMs !== b.startedAtMs ||
    a.service !== b.service ||
    a.environment !== b.environment ||
    a.kind !== b.kind ||
    a.version !== b.version ||
    a.previousVersion !== b.previousVersion ||
    a.source !== b.source
  );
}
