import { DDSketch } from "@datadog/sketches-js";

/**
 * Relative accuracy of the latency sketch: a quantile read back from the bins is within ±2% of a real
 * sample's duration. 2% rather than 1% because it halves the number of bins per series and bucket (the
 * JSON the database merges in every upsert and keeps per 10 s bucket), while latency shifts worth an
 * incident are tens of percent and the sampling noise of a p99 over one bucket is far above 2%.
 */
export const latencyRelativeAccuracy = 0.02;

/**
 * Durations below this (in ms, i.e. under 1 µs) go to the zero bin: they are below any clock resolution
 * that instrumentation reports meaningfully, and cutting them off bounds the negative key range.
 */
export const minIndexableLatencyMs = 0.001;

/** Key of the bin that holds zero and sub-microsecond durations; reads back as 0 ms. */
export const zeroLatencyBinKey = "z";

// The library's entry point exports the sketch classes but not the mapping classes; a plain DDSketch is
// built on its LogarithmicMapping (memory-optimal: the fewest bins for a given accuracy), so we borrow
// that instance rather than deep-importing a dist file that may move between releases.
const mapping = new DDSketch({ relativeAccuracy: latencyRelativeAccuracy }).mapping;

// Keys of the usual range (1 µs .. ~1 day at 2%) are precomputed so the hot path builds no strings.
const tableMinKey = mapping.key(minIndexableLatencyMs) - 1;
const tableMaxKey = mapping.key(86_400_000) + 1;
const keyTable: string[] = [];
for (let key = tableMinKey; key <= tableMaxKey; key++) keyTable.push(`b${key}`);

/**
 * The sketch bin of a span duration in milliseconds: `b` + the DDSketch logarithmic index
 * (`ceil(log_gamma(durationMs))`, gamma = (1 + a) / (1 - a), a = {@link latencyRelativeAccuracy}), e.g.
 * `b116` for 100 ms, or {@link zeroLatencyBinKey} for 0, sub-microsecond, negative or NaN durations (the
 * decoders never produce negative ones; counting them as 0 keeps the span counted).
 */
export function latencyBinKeyOf(durationMs: number): string {
  if (!(durationMs >= minIndexableLatencyMs)) return zeroLatencyBinKey;
  const key = mapping.key(durationMs);
  return keyTable[key - tableMinKey] ?? `b${key}`;
}

/**
 * The DDSketch index of a span duration's bin, the number in {@link latencyBinKeyOf}'s key (`b116` →
 * 116), or NaN when the duration goes to the zero bin.
 */
export function latencyIndexOf(durationMs: number): number {
  return durationMs >= minIndexableLatencyMs ? mapping.key(durationMs) : Number.NaN;
}

/** The bin key of a {@link latencyIndexOf} result: `b<index>`, or the zero bin's key for NaN. */
export function latencyBinKeyAt(index: number): string {
  if (Number.isNaN(index)) return zeroLatencyBinKey;
  return keyTable[index - tableMinKey] ?? `b${index}`;
}

/**
 * The DDSketch index of a bin key (`b116` → 116), or NaN for the zero bin and for anything that is not a
 * bin key written by {@link latencyBinKeyOf}.
 */
export function latencyBinIndexOf(key: string): number {
  if (key.length < 2 || key.charCodeAt(0) !== 98 /* "b" */) return Number.NaN;
  const index = Number(key.slice(1));
  return Number.isInteger(index) && `b${index}` === key ? index : Number.NaN;
}

/** The representative duration (ms) of a DDSketch index: its samples are within ±relative accuracy of it. */
export function latencyIndexValueOf(index: number): number {
  return mapping.value(index);
}

/**
 * The representative duration (ms) of a bin: the value the bin's samples are within ±relative accuracy
 * of. 0 for the zero bin; NaN for a key that is not a bin key.
 */
export function latencyBinValueOf(key: string): number {
  if (key === zeroLatencyBinKey) return 0;
  const index = latencyBinIndexOf(key);
  return Number.isNaN(index) ? index : mapping.value(index);
}
