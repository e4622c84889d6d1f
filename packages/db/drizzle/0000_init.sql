CREATE TABLE "change_events" (
	"id" text PRIMARY KEY NOT NULL,
	"environment" text NOT NULL,
	"service" text NOT NULL,
	"version" text,
	"previous_version" text,
	"kind" text NOT NULL,
	"source" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"outcome" text,
	"commit" text,
	"url" text,
	"author" text,
	"description" text,
	"scope" jsonb,
	"idempotency_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "graph_edges" (
	"environment" text NOT NULL,
	"kind" text NOT NULL,
	"source" text NOT NULL,
	"target" text NOT NULL,
	"step_seconds" integer NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"count" bigint NOT NULL,
	"errors" bigint NOT NULL,
	"delay_sum_ms" double precision DEFAULT 0 NOT NULL,
	"delay_max_ms" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "graph_edges_environment_kind_source_target_step_seconds_bucket_start_pk" PRIMARY KEY("environment","kind","source","target","step_seconds","bucket_start")
);
--> statement-breakpoint
CREATE TABLE "incident_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"message" text NOT NULL,
	"author" text,
	"data" jsonb
);
--> statement-breakpoint
CREATE TABLE "incident_suspects" (
	"incident_id" text NOT NULL,
	"change_event_id" text NOT NULL,
	"rank" integer NOT NULL,
	"score" double precision NOT NULL,
	"evidence" jsonb NOT NULL,
	CONSTRAINT "incident_suspects_incident_id_change_event_id_pk" PRIMARY KEY("incident_id","change_event_id")
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" text PRIMARY KEY NOT NULL,
	"environment" text NOT NULL,
	"title" text NOT NULL,
	"status" text NOT NULL,
	"severity" text NOT NULL,
	"signal" text NOT NULL,
	"root_service" text,
	"started_at" timestamp with time zone NOT NULL,
	"detected_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"affected_services" text[] NOT NULL,
	"surfaces" text[] NOT NULL,
	"affected_users" integer DEFAULT 0 NOT NULL,
	"cause_change_id" text,
	"assignee" text,
	"acknowledged_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "error_exemplars" (
	"series_id" bigint NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"fingerprint" text NOT NULL,
	"exception_type" text,
	"message" text,
	"stack" text,
	"trace_id" text NOT NULL,
	"span_id" text NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "error_exemplars_series_id_bucket_start_fingerprint_pk" PRIMARY KEY("series_id","bucket_start","fingerprint")
);
--> statement-breakpoint
CREATE TABLE "series" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"environment" text NOT NULL,
	"service" text NOT NULL,
	"operation" text NOT NULL,
	"span_kind" text NOT NULL,
	"destination" text,
	"version" text,
	CONSTRAINT "series_identity_key" UNIQUE NULLS NOT DISTINCT("environment","service","operation","span_kind","destination","version")
);
--> statement-breakpoint
CREATE TABLE "series_buckets" (
	"series_id" bigint NOT NULL,
	"step_seconds" integer NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"spans" bigint NOT NULL,
	"errors" bigint NOT NULL,
	"duration_sum_ms" double precision NOT NULL,
	"latency_bins" jsonb NOT NULL,
	"user_registers" jsonb NOT NULL,
	CONSTRAINT "series_buckets_series_id_step_seconds_bucket_start_pk" PRIMARY KEY("series_id","step_seconds","bucket_start")
);
--> statement-breakpoint
CREATE TABLE "service_instance_versions" (
	"environment" text NOT NULL,
	"service" text NOT NULL,
	"instance_id" text NOT NULL,
	"version" text NOT NULL,
	"region" text,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "service_instance_versions_environment_service_instance_id_version_pk" PRIMARY KEY("environment","service","instance_id","version")
);
--> statement-breakpoint
CREATE TABLE "services" (
	"environment" text NOT NULL,
	"name" text NOT NULL,
	"sdk_language" text,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "services_environment_name_pk" PRIMARY KEY("environment","name")
);
--> statement-breakpoint
ALTER TABLE "incident_events" ADD CONSTRAINT "incident_events_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_suspects" ADD CONSTRAINT "incident_suspects_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_suspects" ADD CONSTRAINT "incident_suspects_change_event_id_change_events_id_fk" FOREIGN KEY ("change_event_id") REFERENCES "public"."change_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_cause_change_id_change_events_id_fk" FOREIGN KEY ("cause_change_id") REFERENCES "public"."change_events"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "error_exemplars" ADD CONSTRAINT "error_exemplars_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "series_buckets" ADD CONSTRAINT "series_buckets_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "change_events_idempotency_key_idx" ON "change_events" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "change_events_env_started_idx" ON "change_events" USING btree ("environment","started_at");--> statement-breakpoint
CREATE INDEX "change_events_env_service_started_idx" ON "change_events" USING btree ("environment","service","started_at");--> statement-breakpoint
CREATE INDEX "graph_edges_env_time_idx" ON "graph_edges" USING btree ("environment","step_seconds","bucket_start");--> statement-breakpoint
CREATE INDEX "incident_events_incident_at_idx" ON "incident_events" USING btree ("incident_id","at");--> statement-breakpoint
CREATE INDEX "incidents_env_started_idx" ON "incidents" USING btree ("environment","started_at");--> statement-breakpoint
CREATE INDEX "incidents_status_idx" ON "incidents" USING btree ("status");--> statement-breakpoint
CREATE INDEX "error_exemplars_time_idx" ON "error_exemplars" USING btree ("bucket_start");--> statement-breakpoint
CREATE INDEX "series_env_service_idx" ON "series" USING btree ("environment","service");--> statement-breakpoint
CREATE INDEX "series_buckets_step_time_idx" ON "series_buckets" USING btree ("step_seconds","bucket_start");--> statement-breakpoint
CREATE INDEX "service_instance_versions_service_seen_idx" ON "service_instance_versions" USING btree ("environment","service","last_seen_at");