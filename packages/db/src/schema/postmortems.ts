import {
  bigserial,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { incidents } from "./incidents.ts";

export const postmortemStatuses = ["draft", "in_review", "published"] as const;
export type PostmortemStatusValue = (typeof postmortemStatuses)[number];

export const actionItemPriorities = ["high", "medium", "low"] as const;
export type ActionItemPriorityValue = (typeof actionItemPriorities)[number];

export const actionItemStatuses = ["open", "in_progress", "done", "wont_do"] as const;
export type ActionItemStatusValue = (typeof actionItemStatuses)[number];

/** Postmortem templates: the built-in ones (seeded from core) and teams' own; all editable. */
export const postmortemTemplates = pgTable("postmortem_templates", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  body: text("body").notNull(),
  /** The team that owns it; NULL for templates shared by everyone. */
  team: text("team"),
  /** Which built-in template this row was seeded from, if any (kept when a team edits it). */
  builtIn: text("built_in"),
  updatedBy: text("updated_by"),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * A postmortem of one incident (an incident may have several). `revision` is the number of its latest
 * saved revision: a save names the revision it was based on and fails with a conflict when another
 * save landed in between. The incident link survives detection merging the incident away as NULL.
 */
export const postmortems = pgTable(
  "postmortems",
  {
    id: text("id").primaryKey(),
    incidentId: text("incident_id").references(() => incidents.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    status: text("status").$type<PostmortemStatusValue>().notNull().default("draft"),
    templateId: text("template_id"),
    revision: integer("revision").notNull(),
    body: text("body").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    updatedBy: text("updated_by").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull(),
    publishedAt: timestamp("published_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("postmortems_incident_idx").on(t.incidentId),
    index("postmortems_updated_idx").on(t.updatedAt),
  ],
);

/** Every save of a postmortem, in full, for its history and diffs. */
export const postmortemRevisions = pgTable(
  "postmortem_revisions",
  {
    postmortemId: text("postmortem_id")
      .notNull()
      .references(() => postmortems.id, { onDelete: "cascade" }),
    revision: integer("revision").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    author: text("author").notNull(),
    savedAt: timestamp("saved_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.postmortemId, t.revision] })],
);

/** Follow-up work from a postmortem, tracked across postmortems. `dueDate` is a calendar date. */
export const postmortemActionItems = pgTable(
  "postmortem_action_items",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    postmortemId: text("postmortem_id")
      .notNull()
      .references(() => postmortems.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    owner: text("owner"),
    dueDate: date("due_date", { mode: "string" }),
    priority: text("priority").$type<ActionItemPriorityValue>().notNull().default("medium"),
    status: text("status").$type<ActionItemStatusValue>().notNull().default("open"),
    link: text("link"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    index("postmortem_action_items_postmortem_idx").on(t.postmortemId),
    index("postmortem_action_items_status_due_idx").on(t.status, t.dueDate),
  ],
);

/** An incident's series frozen when the postmortem was written, embedded from its Markdown by id. */
export const postmortemChartSnapshots = pgTable(
  "postmortem_chart_snapshots",
  {
    id: text("id").primaryKey(),
    postmortemId: text("postmortem_id")
      .notNull()
      .references(() => postmortems.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    capturedAt: timestamp("captured_at", { withTimezone: true, mode: "date" }).notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index("postmortem_chart_snapshots_postmortem_idx").on(t.postmortemId)],
);
