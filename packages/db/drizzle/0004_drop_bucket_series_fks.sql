ALTER TABLE "error_exemplars" DROP CONSTRAINT "error_exemplars_series_id_series_id_fk";
--> statement-breakpoint
ALTER TABLE "series_buckets" DROP CONSTRAINT "series_buckets_series_id_series_id_fk";
