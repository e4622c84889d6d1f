import type { SpanKind } from "@faultline/otlp";

/** What is remembered of a recent CLIENT or PRODUCER span, for children that arrive later. */
export interface JoinableSpan {
  environment: string;
  service: string;
  kind: SpanKind;
  /** End time, ms since the epoch. */
  endMs: number;
  destination: string | null;
  error: boolean;
}

/**
 * A child span waiting for its parent (a SERVER span for its caller's CLIENT span) or a CONSUMER span
 * waiting for a producer (its parent or a link). Mutable on purpose: a consumer waiting on several
 * producers shares one record, so that its `consume` count is emitted once (see `countPending`).
 */
export interface WaitingSpan {
  readonly edge: "call" | "consume";
  readonly environment: string;
  readonly service: string;
  /** Start time, ms since the epoch. */
  readonly startMs: number;
  readonly bucketStartMs: number;
  readonly error: boolean;
  /** The consumer's own destination (null when it carries none). */
  readonly destination: string | null;
  /**
   * `consume` only: the consumer span had no destination, so its `consume` edge waits for the first
   * producer joined to name one; cleared once emitted.
   */
  countPending: boolean;
}

export interface SpanJoinIndexOptions {
  /** CLIENT/PRODUCER spans remembered; default 200 000 (a few MB of slots plus the id map). */
  maxSpans?: number;
  /** Waiting children kept; default 200 000. */
  maxWaiting?: number;
}

const kindCodes = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
const errorFlag = 8;

function kindCodeOf(kind: SpanKind): number {
  switch (kind) {
    case "client":
      return 3;
    case "producer":
      return 4;
    default:
      return kindCodes.indexOf(kind);
  }
}

/**
 * A bounded memory of recent spans, so that graph edges are found even when the two sides of a hop
 * arrive in different requests (a callee's SERVER span is usually exported before its caller's CLIENT
 * span, a consumer may be exported before its producer). Pass one instance to every aggregateSpans call
 * of an ingest pipeline; each edge is then emitted exactly once, by whichever side arrives second.
 *
 * Bound: at most `maxSpans` remembered spans and `maxWaiting` waiting children. When full, the entries
 * that arrived first are evicted first (insertion order, not event time, so the outcome depends only on
 * the order of the input). At a given span rate the join window is about capacity / rate of such spans:
 * with the defaults, a second at 200 k CLIENT/PRODUCER spans/s, minutes at usual rates.
 *
 * On eviction: a parent evicted before its late children arrive leaves those children waiting (and
 * eventually evicted); an evicted waiting SERVER child loses its `call` edge; an evicted waiting
 * CONSUMER loses that producer's delay sample (its `consume` count was already emitted unless it had no
 * destination of its own). Counts of evictions are kept in `evictedSpans` and `evictedWaiting`, for
 * metrics. Series counts never depend on this index.
 *
 * Remembered spans live in a ring of preallocated slots (typed arrays and string references) rather than
 * one object per span: at ingest rates that keeps the garbage collector out of the hot path. The slot
 * accessors (`slotOf`, `serviceAt`, …) are that allocation-free path; `find` is the convenient one.
 *
 * Deterministic and pure (no clock, no timers); not thread-safe, like everything in core.
 */
export class SpanJoinIndex {
  readonly maxSpans: number;
  readonly maxWaiting: number;
  /** Remembered spans dropped to stay within `maxSpans`, since construction. */
  evictedSpans = 0;
  /** Waiting children dropped to stay within `maxWaiting`, since construction. */
  evictedWaiting = 0;
  private readonly slotById = new Map<string, number>();
  private readonly ids: Array<string | undefined>;
  private readonly environments: string[];
  private readonly services: string[];
  private readonly destinations: Array<string | null>;
  private readonly endTimes: Float64Array;
  private readonly flags: Uint8Array;
  private cursor = 0;
  // One waiting child is stored bare, several as an array: most parents have exactly one child.
  private readonly waiting = new Map<string, WaitingSpan | WaitingSpan[]>();
  private waitingTotal = 0;

  constructor(options: SpanJoinIndexOptions = {}) {
    this.maxSpans = options.maxSpans ?? 200_000;
    this.maxWaiting = options.maxWaiting ?? 200_000;
    if (!(this.maxSpans >= 1) || !(this.maxWaiting >= 1)) {
      throw new RangeError("SpanJoinIndex capacities must be at least 1");
    }
    const n = Math.floor(this.maxSpans);
    this.ids = new Array<string | undefined>(n).fill(undefined);
    this.environments = new Array<string>(n).fill("");
    this.services = new Array<string>(n).fill("");
    this.destinations = new Array<string | null>(n).fill(null);
    this.endTimes = new Float64Array(n);
    this.flags = new Uint8Array(n);
  }

  /** Distinct span ids now remembered. */
  get spanCount(): number {
    return this.slotById.size;
  }

  /** Waiting children now held. */
  get waitingCount(): number {
    return this.waitingTotal;
  }

  /**
   * Remembers a span by id and returns its slot. A repeated id (a retried export) takes a new slot and
   * so a fresh eviction age; its old slot is left to expire.
   */
  remember(
    spanId: string,
    environment: string,
    service: string,
    kind: SpanKind,
    endMs: number,
    destination: string | null,
    error: boolean,
  ): number {
    // One Map write per span and no read: at ingest rates the id map is the costliest part of joining.
    const slot = this.cursor;
    this.cursor = slot + 1 === this.ids.length ? 0 : slot + 1;
    const evicted = this.ids[slot];
    if (evicted !== undefined) {
      // The id may have been remembered again since, in a newer slot: that entry stays.
      if (this.slotById.get(evicted) === slot) this.slotById.delete(evicted);
      this.evictedSpans++;
    }
    this.ids[slot] = spanId;
    this.slotById.set(spanId, slot);
    this.environments[slot] = environment;
    this.services[slot] = service;
    this.destinations[slot] = destination;
    this.endTimes[slot] = endMs;
    this.flags[slot] = kindCodeOf(kind) | (error ? errorFlag : 0);
    return slot;
  }

  /** The slot of a remembered span, or -1 when it is not (or no longer) held. */
  slotOf(spanId: string): number {
    return this.slotById.get(spanId) ?? -1;
  }

  environmentAt(slot: number): string {
    return this.environments[slot] ?? "";
  }

  serviceAt(slot: number): string {
    return this.services[slot] ?? "";
  }

  kindAt(slot: number): SpanKind {
    return kindCodes[(this.flags[slot] ?? 0) & 7] ?? "unspecified";
  }

  /** End time of the span in a slot, ms since the epoch. */
  endMsAt(slot: number): number {
    return this.endTimes[slot] ?? Number.NaN;
  }

  destinationAt(slot: number): string | null {
    return this.destinations[slot] ?? null;
  }

  errorAt(slot: number): boolean {
    return ((this.flags[slot] ?? 0) & errorFlag) !== 0;
  }

  /** The remembered span with this id, if still held (allocates; the hot path uses the slot accessors). */
  find(spanId: string): JoinableSpan | undefined {
    const slot = this.slotOf(spanId);
    if (slot < 0) return undefined;
    return {
      environment: this.environmentAt(slot),
      service: this.serviceAt(slot),
      kind: this.kindAt(slot),
      endMs: this.endMsAt(slot),
      destination: this.destinationAt(slot),
      error: this.errorAt(slot),
    };
  }

  /** Parks a child until the span `awaitedSpanId` is remembered; see {@link takeWaiting}. */
  wait(awaitedSpanId: string, child: WaitingSpan): void {
    while (this.waitingTotal >= this.maxWaiting) {
      const oldest = this.waiting.entries().next();
      if (oldest.done) break;
      const [id, group] = oldest.value;
      const dropped = Array.isArray(group) ? group.length : 1;
      this.waiting.delete(id);
      this.waitingTotal -= dropped;
      this.evictedWaiting += dropped;
    }
    const existing = this.waiting.get(awaitedSpanId);
    if (existing === undefined) this.waiting.set(awaitedSpanId, child);
    else if (Array.isArray(existing)) existing.push(child);
    else this.waiting.set(awaitedSpanId, [existing, child]);
    this.waitingTotal++;
  }

  /** Removes and returns the children waiting for `spanId` (none: undefined), in arrival order. */
  takeWaiting(spanId: string): WaitingSpan | WaitingSpan[] | undefined {
    const group = this.waiting.get(spanId);
    if (group === undefined) return undefined;
    this.waiting.delete(spanId);
    this.waitingTotal -= Array.isArray(group) ? group.length : 1;
    return group;
  }
}
