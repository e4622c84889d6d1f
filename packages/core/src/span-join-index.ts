import type { SpanKind } from "@faultline/otlp";
import { hashString64, lastLowHashWord } from "./hash-string.ts";

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

// Hex digit values by char code; -1 for anything else.
const hexValue = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) hexValue[48 + c] = c;
for (let c = 0; c < 6; c++) {
  hexValue[97 + c] = 10 + c;
  hexValue[65 + c] = 10 + c;
}

// Index = OTLP enum value; "browser" (Faro signals, not an OTLP kind) takes the next free code.
const kindCodes = ["unspecified", "internal", "server", "client", "producer", "consumer", "browser"] as const;
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
 * What is joined: CLIENT and PRODUCER spans are remembered (by the OpenTelemetry conventions they are the
 * parents of cross-service hops); a SERVER span looks up its parent, a CONSUMER span its parent and each
 * of its links. So a SERVER span whose caller made no CLIENT span (an uninstrumented client, a proxy)
 * yields no `call` edge; it waits until evicted.
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
 * one object per span, found through an open-addressing table over the 64-bit span id: at ingest rates
 * that keeps the garbage collector and string hashing out of the hot path. The slot
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
  // Span id → slot, as an open-addressing table over the id's 64 bits (two int32 halves): a JS Map of
  // 200 000 string keys was a third of the whole ingest path; this is a couple of array reads.
  private readonly tableMask: number;
  private readonly tableHi: Int32Array;
  private readonly tableLo: Int32Array;
  /** Ring slot + 1; 0 marks an empty table entry. */
  private readonly tableSlot: Int32Array;
  private tableCount = 0;
  // The ring of remembered spans: each slot's id halves (for eviction) and data.
  private readonly ringUsed: Uint8Array;
  private readonly ringHi: Int32Array;
  private readonly ringLo: Int32Array;
  private readonly environments: string[];
  private readonly services: string[];
  private readonly destinations: Array<string | null>;
  private readonly endTimes: Float64Array;
  private readonly flags: Uint8Array;
  // The halves of the id last passed to splitId (no allocation per lookup).
  private idHi = 0;
  private idLo = 0;
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
    // Load factor at most 0.5: short probe runs.
    let tableSize = 16;
    while (tableSize < n * 2) tableSize *= 2;
    this.tableMask = tableSize - 1;
    this.tableHi = new Int32Array(tableSize);
    this.tableLo = new Int32Array(tableSize);
    this.tableSlot = new Int32Array(tableSize);
    this.ringUsed = new Uint8Array(n);
    this.ringHi = new Int32Array(n);
    this.ringLo = new Int32Array(n);
    this.environments = new Array<string>(n).fill("");
    this.services = new Array<string>(n).fill("");
    this.destinations = new Array<string | null>(n).fill(null);
    this.endTimes = new Float64Array(n);
    this.flags = new Uint8Array(n);
  }

  /** Distinct span ids now remembered. */
  get spanCount(): number {
    return this.tableCount;
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
    const slot = this.cursor;
    this.cursor = slot + 1 === this.ringUsed.length ? 0 : slot + 1;
    if (this.ringUsed[slot] === 1) {
      // The evicted id may have been remembered again since, in a newer slot: that entry stays.
      const at = this.positionOf(this.ringHi[slot] ?? 0, this.ringLo[slot] ?? 0);
      if (at >= 0 && this.tableSlot[at] === slot + 1) this.removeAt(at);
      this.evictedSpans++;
    }
    this.splitId(spanId);
    const hi = this.idHi;
    const lo = this.idLo;
    this.ringUsed[slot] = 1;
    this.ringHi[slot] = hi;
    this.ringLo[slot] = lo;
    let at = this.homeOf(hi, lo);
    for (;;) {
      const taken = this.tableSlot[at] ?? 0;
      if (taken === 0) {
        this.tableHi[at] = hi;
        this.tableLo[at] = lo;
        this.tableCount++;
        break;
      }
      if (this.tableHi[at] === hi && this.tableLo[at] === lo) break;
      at = (at + 1) & this.tableMask;
    }
    this.tableSlot[at] = slot + 1;
    this.environments[slot] = environment;
    this.services[slot] = service;
    this.destinations[slot] = destination;
    this.endTimes[slot] = endMs;
    this.flags[slot] = kindCodeOf(kind) | (error ? errorFlag : 0);
    return slot;
  }

  /** The slot of a remembered span, or -1 when it is not (or no longer) held. */
  slotOf(spanId: string): number {
    this.splitId(spanId);
    const at = this.positionOf(this.idHi, this.idLo);
    return at < 0 ? -1 : (this.tableSlot[at] ?? 0) - 1;
  }

  // A span id is 16 hex characters: 64 bits, used as is. Anything else (broken input) is hashed to
  // 64 bits instead, where a collision with a real id is as unlikely as one between real ids.
  private splitId(spanId: string): void {
    if (spanId.length === 16) {
      let hi = 0;
      let lo = 0;
      let valid = true;
      for (let i = 0; i < 8; i++) {
        const high = spanId.charCodeAt(i);
        const low = spanId.charCodeAt(i + 8);
        const h = high < 128 ? (hexValue[high] ?? -1) : -1;
        const l = low < 128 ? (hexValue[low] ?? -1) : -1;
        if (h < 0 || l < 0) {
          valid = false;
          break;
        }
        hi = (hi << 4) | h;
        lo = (lo << 4) | l;
      }
      if (valid) {
        this.idHi = hi;
        this.idLo = lo;
        return;
      }
    }
    this.idHi = hashString64(spanId) | 0;
    this.idLo = lastLowHashWord() | 0;
  }

  private homeOf(hi: number, lo: number): number {
    // Real ids are random, but test and replay tools use sequential ones: mix before masking.
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.tableMask;
  }

  /** Table position of an id, or -1. */
  private positionOf(hi: number, lo: number): number {
    let at = this.homeOf(hi, lo);
    for (;;) {
      if (this.tableSlot[at] === 0) return -1;
      if (this.tableHi[at] === hi && this.tableLo[at] === lo) return at;
      at = (at + 1) & this.tableMask;
    }
  }

  // Linear-probing delete by shifting later entries of the run back, so no tombstones build up.
  private removeAt(position: number): void {
    const mask = this.tableMask;
    let hole = position;
    let at = position;
    for (;;) {
      at = (at + 1) & mask;
      const slot = this.tableSlot[at] ?? 0;
      if (slot === 0) break;
      const home = this.homeOf(this.tableHi[at] ?? 0, this.tableLo[at] ?? 0);
      // The entry at `at` may move into the hole only if its home is not cyclically within (hole, at].
      const stays = hole <= at ? hole < home && home <= at : hole < home || home <= at;
      if (stays) continue;
      this.tableHi[hole] = this.tableHi[at] ?? 0;
      this.tableLo[hole] = this.tableLo[at] ?? 0;
      this.tableSlot[hole] = slot;
      hole = at;
    }
    this.tableSlot[hole] = 0;
    this.tableCount--;
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
