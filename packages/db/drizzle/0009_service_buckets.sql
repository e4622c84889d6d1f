CREATE TABLE "service_buckets" (
	"environment" text NOT NULL,
	"service" text NOT NULL,
	"step_seconds" integer NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"requests" bigint NOT NULL,
	"request_errors" bigint NOT NULL,
	"spans" bigint NOT NULL,
	"errors" bigint NOT NULL,
	"duration_sum_ms" double precision NOT NULL,
	"request_latency_bins" jsonb NOT NULL,
	CONSTRAINT "service_buckets_environment_step_seconds_bucket_start_service_pk" PRIMARY KEY("environment","step_seconds","bucket_start","service")
);
--> statement-breakpoint
CREATE INDEX "service_buckets_service_time_idx" ON "service_buckets" USING btree ("environment","service","step_seconds","bucket_start");--> statement-breakpoint
-- The services' rollups of everything already folded into the series rollups; the fold keeps them
-- from here on (and adds what is still pending to both). Same statement as rebuildServiceBuckets().
INSERT INTO "service_buckets" ("environment", "service", "step_seconds", "bucket_start", "requests", "request_errors", "spans", "errors", "duration_sum_ms", "request_latency_bins")
SELECT t.environment, t.service, t.step_seconds, t.bucket_start, t.requests, t.request_errors, t.spans, t.errors,
  t.duration_sum_ms, coalesce(l.bins, '{}'::jsonb)
FROM (
  SELECT s.environment, s.service, b.step_seconds, b.bucket_start,
    sum(CASE WHEN s.span_kind IN ('server', 'consumer', 'browser') THEN b.spans ELSE 0 END) AS requests,
    sum(CASE WHEN s.span_kind IN ('server', 'consumer', 'browser') THEN b.errors ELSE 0 END) AS request_errors,
    sum(b.spans) AS spans, sum(b.errors) AS errors, sum(b.duration_sum_ms) AS duration_sum_ms
  FROM series_buckets b JOIN series s ON s.id = b.series_id
  WHERE b.step_seconds IN (60, 3600)
  GROUP BY s.environment, s.service, b.step_seconds, b.bucket_start
) AS t
LEFT JOIN (
  SELECT environment, service, step_seconds, bucket_start, jsonb_object_agg(bin, total) AS bins
  FROM (
    SELECT s.environment, s.service, b.step_seconds, b.bucket_start, kv.key AS bin, sum(kv.value::numeric) AS total
    FROM series_buckets b JOIN series s ON s.id = b.series_id, jsonb_each_text(b.latency_bins) AS kv
    WHERE b.step_seconds IN (60, 3600) AND s.span_kind IN ('server', 'consumer', 'browser')
    GROUP BY s.environment, s.service, b.step_seconds, b.bucket_start, kv.key
  ) AS per_bin
  GROUP BY environment, service, step_seconds, bucket_start
) AS l USING (environment, service, step_seconds, bucket_start);
