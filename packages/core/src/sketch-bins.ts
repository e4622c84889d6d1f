/**
 * A sparse, mergeable sketch as the database stores it (`series_buckets.latency_bins` and
 * `user_registers`): a JSON object from a bin or register index, written as a canonical decimal string
 * (or "z" for the latency zero bin), to a count or a rank. Absent keys mean 0.
 */
export type SketchBins = Record<string, number>;
