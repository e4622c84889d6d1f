CREATE TABLE "rollup_pending" (
	"bucket_start" timestamp with time zone PRIMARY KEY NOT NULL,
	"marked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "graph_edges" ADD COLUMN "folded_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "graph_edges" ADD COLUMN "folded_errors" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "graph_edges" ADD COLUMN "folded_delay_sum_ms" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "graph_edges" ADD COLUMN "folded_delay_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "series_buckets" ADD COLUMN "folded_spans" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "series_buckets" ADD COLUMN "folded_errors" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "series_buckets" ADD COLUMN "folded_duration_sum_ms" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "series_buckets" ADD COLUMN "pending_latency_bins" jsonb;--> statement-breakpoint
-- Raw rows written before this migration were already added to the rollups by their commits.
UPDATE "series_buckets" SET "folded_spans" = "spans", "folded_errors" = "errors", "folded_duration_sum_ms" = "duration_sum_ms" WHERE "step_seconds" = 10;--> statement-breakpoint
UPDATE "graph_edges" SET "folded_count" = "count", "folded_errors" = "errors", "folded_delay_sum_ms" = "delay_sum_ms", "folded_delay_count" = "delay_count" WHERE "step_seconds" = 10;
