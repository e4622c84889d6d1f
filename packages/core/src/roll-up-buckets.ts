import type { SeriesBucketDelta } from "./ingest-aggregate.ts";
import { LatencyIndexBins } from "./latency-index-bins.ts";
import { addLatencyBinsInto } from "./merge-latency-bins.ts";
import { maxUserRegistersInto } from "./merge-user-registers.ts";
import { emptySketchBins } from "./sketch-bins.ts";
import { bucketStartOf } from "./time-buckets.ts";

/** Rollup widths the storage keeps besides raw 10 s buckets, in ms. */
export const rollupStepsMs = [60_000, 3_600_000] as const;

function checkStep(stepMs: number, fromStepMs: number): void {
  if (!(stepMs > 0) || !(fromStepMs > 0) || stepMs % fromStepMs !== 0) {
    throw new RangeError(`cannot roll ${fromStepMs} ms buckets up into ${stepMs} ms buckets`);
  }
}

/**
 * Rolls series bucket deltas up into wider buckets of `stepMs` (e.g. 60 000 or 3 600 000): deltas of one
 * series whose buckets fall in the same wider bucket merge with the database's own math (counts and
 * duration sums add, latency bins add, user registers take the max). Because that merge is commutative
 * and associative, rolling up each batch's raw deltas and upserting them next to the raw rows gives the
 * same stored rollups as rolling up everything at once, in any batch order and with late data.
 *
 * Inputs are not changed; the output has fresh sketch objects, in order of first appearance.
 * @throws RangeError when `stepMs` is not a positive multiple of every input delta's `stepMs`.
 */
export function rollUpBuckets(deltas: readonly SeriesBucketDelta[], stepMs: number): SeriesBucketDelta[] {
  const byKey = new Map<string, SeriesBucketDelta>();
  const out: SeriesBucketDelta[] = [];
  for (const delta of deltas) {
    checkStep(stepMs, delta.stepMs);
    const bucketStartMs = bucketStartOf(delta.bucketStartMs, stepMs);
    const key = `${delta.seriesKey}\u001f${bucketStartMs}`;
    let rolled = byKey.get(key);
    if (rolled === undefined) {
      rolled = {
        seriesKey: delta.seriesKey,
        series: delta.series,
        stepMs,
        bucketStartMs,
        spans: 0,
        errors: 0,
        durationSumMs: 0,
        latencyBins: emptySketchBins(),
        userRegisters: emptySketchBins(),
      };
      // The numeric bins follow only while every merged delta has them (else they would undercount).
      if (delta.latencyIndexBins) rolled.latencyIndexBins = new LatencyIndexBins();
      byKey.set(key, rolled);
      out.push(rolled);
    }
    rolled.spans += delta.spans;
    rolled.errors += delta.errors;
    rolled.durationSumMs += delta.durationSumMs;
    addLatencyBinsInto(rolled.latencyBins, delta.latencyBins);
    if (rolled.latencyIndexBins) {
      if (delta.latencyIndexBins) rolled.latencyIndexBins.addAll(delta.latencyIndexBins);
      else delete rolled.latencyIndexBins;
    }
    maxUserRegistersInto(rolled.userRegisters, delta.userRegisters);
  }
  return out;
}
