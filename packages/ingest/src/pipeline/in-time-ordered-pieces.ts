import type { GraphEdgeRow, IngestRows, SeriesBucketRow } from "@faultline/db";

/**
 * Splits a checkpoint's rows into pieces of whole bucket times, earliest first, each of about `maxRows`
 * series buckets, edges and exemplars; instance versions and services go with the last piece.
 *
 * Why this shape, written in order inside one transaction: every raw row of a bucket time is written
 * after its rollup mark (upsertIngestRows marks first), and marks are taken in ascending time across
 * pieces, the order the rollup fold locks them in, so pieces add no lock-order cycle with a fold or
 * another writer; the unkeyed-by-time tables come last, after every mark, as in one whole statement.
 * A bucket time is never split, so the exemplar cap of a (series, bucket) sees all of this
 * checkpoint's fingerprints in one statement, as before.
 */
export function inTimeOrderedPieces(rows: IngestRows, maxRows: number): IngestRows[] {
  const byTime = <Row extends { bucketStartMs: number }>(list: readonly Row[]): Row[] =>
    [...list].sort((a, b) => a.bucketStartMs - b.bucketStartMs);
  const buckets = byTime(rows.seriesBuckets);
  const edges = byTime(rows.edges);
  const exemplars = byTime(rows.exemplars);
  const pieces: IngestRows[] = [];
  let piece: IngestRows = { seriesBuckets: [], edges: [], exemplars: [], instanceVersions: [], services: [] };
  let pieceRows = 0;
  let b = 0;
  let e = 0;
  let x = 0;
  for (;;) {
    const time = Math.min(
      buckets[b]?.bucketStartMs ?? Number.POSITIVE_INFINITY,
      edges[e]?.bucketStartMs ?? Number.POSITIVE_INFINITY,
      exemplars[x]?.bucketStartMs ?? Number.POSITIVE_INFINITY,
    );
    if (time === Number.POSITIVE_INFINITY) break;
    if (pieceRows >= maxRows) {
      pieces.push(piece);
      piece = { seriesBuckets: [], edges: [], exemplars: [], instanceVersions: [], services: [] };
      pieceRows = 0;
    }
    for (; b < buckets.length && buckets[b]?.bucketStartMs === time; b += 1, pieceRows += 1)
      piece.seriesBuckets.push(buckets[b] as SeriesBucketRow);
    for (; e < edges.length && edges[e]?.bucketStartMs === time; e += 1, pieceRows += 1)
      piece.edges.push(edges[e] as GraphEdgeRow);
    for (; x < exemplars.length && exemplars[x]?.bucketStartMs === time; x += 1, pieceRows += 1)
      piece.exemplars.push(exemplars[x] as IngestRows["exemplars"][number]);
  }
  piece.instanceVersions = rows.instanceVersions;
  piece.services = rows.services;
  pieces.push(piece);
  return pieces;
}
