CREATE TABLE "postmortem_action_items" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"postmortem_id" text NOT NULL,
	"title" text NOT NULL,
	"owner" text,
	"due_date" date,
	"priority" text DEFAULT 'medium' NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"link" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "postmortem_chart_snapshots" (
	"id" text PRIMARY KEY NOT NULL,
	"postmortem_id" text NOT NULL,
	"title" text NOT NULL,
	"captured_at" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "postmortem_revisions" (
	"postmortem_id" text NOT NULL,
	"revision" integer NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"author" text NOT NULL,
	"saved_at" timestamp with time zone NOT NULL,
	CONSTRAINT "postmortem_revisions_postmortem_id_revision_pk" PRIMARY KEY("postmortem_id","revision")
);
--> statement-breakpoint
CREATE TABLE "postmortem_templates" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"body" text NOT NULL,
	"team" text,
	"built_in" text,
	"updated_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "postmortems" (
	"id" text PRIMARY KEY NOT NULL,
	"incident_id" text,
	"title" text NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"template_id" text,
	"revision" integer NOT NULL,
	"body" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "postmortem_action_items" ADD CONSTRAINT "postmortem_action_items_postmortem_id_postmortems_id_fk" FOREIGN KEY ("postmortem_id") REFERENCES "public"."postmortems"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "postmortem_chart_snapshots" ADD CONSTRAINT "postmortem_chart_snapshots_postmortem_id_postmortems_id_fk" FOREIGN KEY ("postmortem_id") REFERENCES "public"."postmortems"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "postmortem_revisions" ADD CONSTRAINT "postmortem_revisions_postmortem_id_postmortems_id_fk" FOREIGN KEY ("postmortem_id") REFERENCES "public"."postmortems"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "postmortems" ADD CONSTRAINT "postmortems_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "postmortem_action_items_postmortem_idx" ON "postmortem_action_items" USING btree ("postmortem_id");--> statement-breakpoint
CREATE INDEX "postmortem_action_items_status_due_idx" ON "postmortem_action_items" USING btree ("status","due_date");--> statement-breakpoint
CREATE INDEX "postmortem_chart_snapshots_postmortem_idx" ON "postmortem_chart_snapshots" USING btree ("postmortem_id");--> statement-breakpoint
CREATE INDEX "postmortems_incident_idx" ON "postmortems" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "postmortems_updated_idx" ON "postmortems" USING btree ("updated_at");