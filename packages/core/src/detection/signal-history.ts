/**
 * Every signal's spans and errors over the ring of recent closed buckets, and whether each bucket counts
 * in its baseline: one array per quantity, slot-major (all signals of one ring slot side by side). Closing
 * a bucket touches one slot of every signal, so the detectors walk memory in order instead of reading
 * three small arrays per signal scattered over the heap.
 */
export class SignalHistory {
  /** Signals each slot has room for. */
  private width: number;
  spans: Float64Array;
  errors: Float64Array;
  /** 1 when the slot counts in the signal's baseline (a normal bucket); anomalous buckets are left out. */
  inBaseline: Uint8Array;

  constructor(
    /** Ring slots per signal. */
    readonly slots: number,
    width = 1024,
  ) {
    this.width = width;
    this.spans = new Float64Array(slots * width);
    this.errors = new Float64Array(slots * width);
    this.inBaseline = new Uint8Array(slots * width);
  }

  /** Makes room for signal numbers below `signals` (new signals start with empty slots). */
  ensure(signals: number): void {
    if (signals <= this.width) return;
    const width = Math.max(signals, Math.ceil(this.width * 1.5));
    this.spans = widened(this.spans, new Float64Array(this.slots * width), this.width, width);
    this.errors = widened(this.errors, new Float64Array(this.slots * width), this.width, width);
    this.inBaseline = widened(this.inBaseline, new Uint8Array(this.slots * width), this.width, width);
    this.width = width;
  }

  /** Position of (slot, signal) in the arrays. */
  cell(slot: number, signal: number): number {
    return slot * this.width + signal;
  }
}

function widened<T extends Float64Array | Uint8Array>(from: T, to: T, fromWidth: number, toWidth: number): T {
  const slots = from.length / fromWidth;
  for (let slot = 0; slot < slots; slot += 1) {
    to.set(from.subarray(slot * fromWidth, (slot + 1) * fromWidth), slot * toWidth);
  }
  return to;
}
