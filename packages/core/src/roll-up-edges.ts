import type { GraphEdgeDelta } from "./ingest-aggregate.ts";
import { bucketStartOf } from "./time-buckets.ts";

/**
 * Rolls graph edge deltas up into wider buckets of `stepMs`, like rollUpBuckets: counts, errors, delay
 * sums and delay counts add, the delay maximum takes the max, all commutative. Inputs are not changed.
 * @throws RangeError when `stepMs` is not a positive multiple of every input delta's `stepMs`.
 */
export function rollUpEdges(edges: readonly GraphEdgeDelta[], stepMs: number): GraphEdgeDelta[] {
  const byKey = new Map<string, GraphEdgeDelta>();
  const out: GraphEdgeDelta[] = [];
  for (const edge of edges) {
    if (!(stepMs > 0) || !(edge.stepMs > 0) || stepMs % edge.stepMs !== 0) {
      throw new RangeError(`cannot roll ${edge.stepMs} ms buckets up into ${stepMs} ms buckets`);
    }
    const bucketStartMs = bucketStartOf(edge.bucketStartMs, stepMs);
    const key = `${edge.kind}\u001f${edge.environment}\u001f${edge.source}\u001f${edge.target}\u001f${bucketStartMs}`;
    let rolled = byKey.get(key);
    if (rolled === undefined) {
      rolled = {
        ...edge,
        stepMs,
        bucketStartMs,
        count: 0,
        errors: 0,
        delaySumMs: 0,
        delayMaxMs: 0,
        delayCount: 0,
      };
      byKey.set(key, rolled);
      out.push(rolled);
    }
    rolled.count += edge.count;
    rolled.errors += edge.errors;
    rolled.delaySumMs += edge.delaySumMs;
    rolled.delayCount += edge.delayCount;
    if (edge.delayMaxMs > rolled.delayMaxMs) rolled.delayMaxMs = edge.delayMaxMs;
  }
  return out;
}
