import { latencyIndexValueOf } from "../latency-bin-key-of.ts";
import { LatencyIndexBins, quantileIndexOfIndexBins } from "../latency-index-bins.ts";
import type { SketchBins } from "../sketch-bins.ts";
import { LatencyBinCounts } from "./latency-bin-counts.ts";

/** `p95` of a signal whose p95 has not been read since its last data. */
const unknownP95 = -1;
/** `p95` of a signal whose sketches hold no counts. */
const noP95 = -2;

// The value of each DDSketch index over a range far beyond 1 µs .. 1 day, computed once: reading it back
// is a power per p95 otherwise, for thousands of signals a bucket.
const valueTableMin = -2048;
const valueTable = Float64Array.from({ length: 4096 }, (_, at) => latencyIndexValueOf(at + valueTableMin));
/** {@link latencyIndexValueOf}, from the table where it can. */
function valueOfIndex(index: number): number {
  const at = index - valueTableMin;
  return at >= 0 && at < valueTable.length ? (valueTable[at] as number) : latencyIndexValueOf(index);
}

/** Scratch list of one signal's numeric sketches, for the quantile walk. */
const numericSources: LatencyIndexBins[] = [];
/** Latency scratch of object-form signals, reused across buckets. */
const freeLatencyCounts: LatencyBinCounts[] = [];

/**
 * What every signal saw in one open bucket, summed as data arrives, as columns indexed by the signal's
 * number: counts, the latency sketches handed in (kept by reference, chained per signal in arrival order,
 * read only when a detector wants the bucket's p95), the p95 once read, and the user-register sketches.
 * Columns rather than an object per signal and bucket: at ten thousand signals, finding and touching a
 * scattered object per observation cost more than the arithmetic, while a column entry is an index away.
 * Reusable: {@link clear} resets only the signals that had data.
 */
export class SignalColumns {
  /** Signal numbers with data here, in order of first arrival (the first `count` entries). */
  touched = new Int32Array(64);
  count = 0;
  spans: Float64Array;
  errors: Float64Array;
  /**
   * 1 while every latency sketch of the signal came in numeric form: if their counts are integral too,
   * the p95 is walked straight from them; else they are read, in arrival order, into a
   * {@link LatencyBinCounts}.
   */
  numericOnly: Uint8Array;
  /** The p95 (ms) once read, {@link unknownP95} before, {@link noP95} when there are no counts. */
  p95: Float64Array;
  /** Position in `sketches` of the signal's first and last sketch, −1: none (and then no data). */
  firstSketch: Int32Array;
  lastSketch: Int32Array;
  /** Position of the signal's first sketch not read into its `latency` counts yet, −1: none. */
  unreadSketch: Int32Array;
  /**
   * Latency sketches in arrival order (the first `sketchCount`), and the position of the same signal's
   * next one (−1: last). Entries are overwritten rather than the arrays emptied, which would give their
   * storage back and grow it again every bucket.
   */
  readonly sketches: (SketchBins | LatencyIndexBins | undefined)[] = [];
  readonly nextSketch: number[] = [];
  sketchCount = 0;
  /** Numeric latency of signals with sketches in object form, by signal number. */
  readonly latency = new Map<number, LatencyBinCounts>();
  /** User-register sketches and the signal each belongs to, in arrival order (the first `registerCount`). */
  readonly userRegisters: (SketchBins | undefined)[] = [];
  readonly userRegisterSignals: number[] = [];
  registerCount = 0;

  constructor(capacity: number) {
    this.spans = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
    this.numericOnly = new Uint8Array(capacity);
    this.p95 = new Float64Array(capacity);
    this.firstSketch = new Int32Array(capacity).fill(-1);
    this.lastSketch = new Int32Array(capacity).fill(-1);
    this.unreadSketch = new Int32Array(capacity).fill(-1);
  }

  get capacity(): number {
    return this.spans.length;
  }

  /** Makes room for signal numbers below `capacity`. */
  grow(capacity: number): void {
    if (capacity <= this.spans.length) return;
    this.spans = grown(this.spans, new Float64Array(capacity));
    this.errors = grown(this.errors, new Float64Array(capacity));
    this.numericOnly = grown(this.numericOnly, new Uint8Array(capacity));
    this.p95 = grown(this.p95, new Float64Array(capacity));
    this.firstSketch = grown(this.firstSketch, new Int32Array(capacity).fill(-1));
    this.lastSketch = grown(this.lastSketch, new Int32Array(capacity).fill(-1));
    this.unreadSketch = grown(this.unreadSketch, new Int32Array(capacity).fill(-1));
  }

  /** Whether signal `signal` has data in this bucket (any signal number; beyond the capacity: no). */
  has(signal: number): boolean {
    return (this.firstSketch[signal] ?? -1) !== -1;
  }

  /**
   * Adds one observation of `signal` (whose number is below {@link capacity}); `numeric` says whether
   * `latency` is a {@link LatencyIndexBins} (the caller knows without reading the sketch, which is
   * left for when a detector wants the p95). Returns whether this is the signal's first data here.
   */
  add(
    signal: number,
    spans: number,
    errors: number,
    latency: SketchBins | LatencyIndexBins,
    numeric: boolean,
  ): boolean {
    const first = this.firstSketch[signal] === -1;
    const position = this.sketchCount;
    this.sketchCount += 1;
    if (position < this.sketches.length) {
      this.sketches[position] = latency;
      this.nextSketch[position] = -1;
    } else {
      this.sketches.push(latency);
      this.nextSketch.push(-1);
    }
    if (first) {
      if (this.count === this.touched.length)
        this.touched = grown(this.touched, new Int32Array(this.count * 2));
      this.touched[this.count] = signal;
      this.count += 1;
      this.spans[signal] = spans;
      this.errors[signal] = errors;
      this.numericOnly[signal] = 1;
      this.firstSketch[signal] = position;
      this.unreadSketch[signal] = position;
    } else {
      this.spans[signal] = (this.spans[signal] ?? 0) + spans;
      this.errors[signal] = (this.errors[signal] ?? 0) + errors;
      this.nextSketch[this.lastSketch[signal] ?? 0] = position;
      if (this.unreadSketch[signal] === -1) this.unreadSketch[signal] = position;
    }
    this.lastSketch[signal] = position;
    this.p95[signal] = unknownP95;
    if (!numeric) this.numericOnly[signal] = 0;
    return first;
  }

  /** The p95 latency (ms) of everything `signal` holds in this bucket; null without data or counts. */
  p95Of(signal: number): number | null {
    if (!this.has(signal) || this.spans[signal] === 0) return null;
    let p95 = this.p95[signal] ?? unknownP95;
    if (p95 === unknownP95) {
      p95 = this.readP95(signal) ?? noP95;
      this.p95[signal] = p95;
    }
    return p95 === noP95 ? null : p95;
  }

  /**
   * Reads the p95 now when the signal's sketches are objects (reading their string keys is the costly
   * part, best done while they are in cache); numeric bins wait for the bucket to close.
   */
  readObjectsEarly(signal: number, minSpans: number): void {
    // (A numeric sketch with fractional counts is found only when the p95 is read: the same p95, later.)
    if (this.numericOnly[signal] === 0 && (this.spans[signal] ?? 0) >= minSpans)
      this.p95[signal] = this.readP95(signal) ?? noP95;
  }

  private readP95(signal: number): number | null {
    if (this.numericOnly[signal] === 1) {
      let integral = true;
      for (let at = this.firstSketch[signal] ?? -1; at !== -1; at = this.nextSketch[at] ?? -1) {
        const bins = this.sketches[at] as LatencyIndexBins;
        if (!bins.integral) integral = false;
        numericSources.push(bins);
      }
      const index = integral ? quantileIndexOfIndexBins(numericSources, 0.95) : undefined;
      while (numericSources.length > 0) numericSources.pop();
      if (index !== undefined) return index === null ? null : Number.isNaN(index) ? 0 : valueOfIndex(index);
      // Fractional counts (never from aggregation): sum them exactly as the object form would.
      this.numericOnly[signal] = 0;
    }
    let latency = this.latency.get(signal);
    if (!latency) {
      latency = freeLatencyCounts.pop() ?? new LatencyBinCounts();
      this.latency.set(signal, latency);
    }
    for (let at = this.unreadSketch[signal] ?? -1; at !== -1; at = this.nextSketch[at] ?? -1) {
      const bins = this.sketches[at];
      if (bins instanceof LatencyIndexBins) latency.addIndexBins(bins);
      else if (bins) latency.add(bins);
    }
    this.unreadSketch[signal] = -1;
    return latency.quantile(0.95);
  }

  /** Keeps a user-register sketch of `signal` (by reference). */
  addUserRegisters(signal: number, registers: SketchBins): void {
    const position = this.registerCount;
    this.registerCount += 1;
    if (position < this.userRegisters.length) {
      this.userRegisters[position] = registers;
      this.userRegisterSignals[position] = signal;
    } else {
      this.userRegisters.push(registers);
      this.userRegisterSignals.push(signal);
    }
  }

  /** Empties the columns for reuse, touching only the signals that had data. */
  clear(): void {
    for (let at = 0; at < this.count; at += 1) {
      const signal = this.touched[at] ?? 0;
      this.firstSketch[signal] = -1;
      this.lastSketch[signal] = -1;
      this.unreadSketch[signal] = -1;
    }
    this.count = 0;
    // Let go of the sketches (the caller's), keeping the slots.
    this.sketches.fill(undefined, 0, this.sketchCount);
    this.sketchCount = 0;
    for (const latency of this.latency.values()) {
      latency.clear();
      freeLatencyCounts.push(latency);
    }
    this.latency.clear();
    this.userRegisters.fill(undefined, 0, this.registerCount);
    this.registerCount = 0;
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
