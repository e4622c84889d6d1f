import { pgTable, timestamp } from "drizzle-orm/pg-core";

/**
 * Raw (10 s) bucket times that hold series or edge data not yet folded into the 60 s and 3600 s rollups.
 * A group commit marks the bucket times it wrote, in the same transaction as the raw rows (and before
 * them, so a concurrent fold and commit lock in one order); the rollup fold adds the unfolded part of
 * those raw rows to the rollups, records it as folded and deletes the marks, all in one transaction.
 * Readers of rollup steps add the unfolded part of the marked raw buckets, so every span is counted
 * exactly once at any moment.
 */
export const rollupPending = pgTable("rollup_pending", {
  bucketStart: timestamp("bucket_start", { withTimezone: true, mode: "date" }).primaryKey(),
  markedAt: timestamp("marked_at", { withTimezone: true, mode: "date" }).notNull(),
});
