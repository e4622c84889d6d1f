import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per acknowledged export request, written in the same transaction as its aggregates. A client
 * that retries a request it got no answer to (OTLP clients do, for up to five minutes) finds its receipt
 * and is answered without counting the spans twice.
 */
export const ingestReceipts = pgTable(
  "ingest_receipts",
  {
    /** SHA-256 of the decompressed request body, hex. */
    key: text("key").primaryKey(),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull(),
    acceptedSpans: integer("accepted_spans").notNull(),
    rejectedSpans: integer("rejected_spans").notNull(),
    /** The partial-success message first answered, repeated to a retry. */
    rejectionMessage: text("rejection_message"),
  },
  (t) => [index("ingest_receipts_received_idx").on(t.receivedAt)],
);
