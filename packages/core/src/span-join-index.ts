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
  /** CLIENT/PRODUCER spans remembered; default 200 000 (about 30–40 MB at worst). */
  maxSpans?: number;
  /** Waiting children kept; default 200 000. */
  maxWaiting?: number;
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
 * with the defaults, over a second at 200 k CLIENT/PRODUCER spans/s, far more at usual rates.
 *
 * On eviction: a parent evicted before its late children arrive leaves those children waiting (and
 * eventually evicted); an evicted waiting SERVER child loses its `call` edge; an evicted waiting
 * CONSUMER loses that producer's delay sample (its `consume` count was already emitted unless it had no
 * destination of its own). Counts of evictions are kept in `evictedSpans` and `evictedWaiting`, for
 * metrics. Series counts never depend on this index.
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
  private readonly spans = new Map<string, JoinableSpan>();
  // One waiting child is stored bare, several as an array: most parents have exactly one child.
  private readonly waiting = new Map<string, WaitingSpan | WaitingSpan[]>();
  private waitingTotal = 0;

  constructor(options: SpanJoinIndexOptions = {}) {
    this.maxSpans = options.maxSpans ?? 200_000;
    this.maxWaiting = options.maxWaiting ?? 200_000;
    if (!(this.maxSpans >= 1) || !(this.maxWaiting >= 1)) {
      throw new RangeError("SpanJoinIndex capacities must be at least 1");
    }
  }

  /** Remembered spans now held. */
  get spanCount(): number {
    return this.spans.size;
  }

  /** Waiting children now held. */
  get waitingCount(): number {
    return this.waitingTotal;
  }

  /** Remembers a span by id (a repeated id replaces the earlier one but keeps its eviction age). */
  remember(spanId: string, span: JoinableSpan): void {
    if (!this.spans.has(spanId) && this.spans.size >= this.maxSpans) {
      const oldest = this.spans.keys().next();
      if (!oldest.done) {
        this.spans.delete(oldest.value);
        this.evictedSpans++;
      }
    }
    this.spans.set(spanId, span);
  }

  /** The remembered span with this id, if still held. */
  find(spanId: string): JoinableSpan | undefined {
    return this.spans.get(spanId);
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
