CREATE TABLE "ingest_receipts" (
	"key" text PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"accepted_spans" integer NOT NULL,
	"rejected_spans" integer NOT NULL,
	"rejection_message" text
);
--> statement-breakpoint
ALTER TABLE "graph_edges" ADD COLUMN "delay_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "ingest_receipts_received_idx" ON "ingest_receipts" USING btree ("received_at");