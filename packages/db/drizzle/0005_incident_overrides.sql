ALTER TABLE "incidents" ADD COLUMN "detection_status" text DEFAULT 'open' NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "status_set_by" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "severity_set_by" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
-- Rows written before this migration: detection's view is the stored status, except that an
-- acknowledged incident was set so by a person while detection still saw it open.
UPDATE "incidents" SET "detection_status" = CASE WHEN "status" = 'resolved' THEN 'resolved' ELSE 'open' END,
  "status_set_by" = CASE WHEN "status" = 'acknowledged' THEN coalesce("acknowledged_by", 'unknown') END;
