import { randomUUID } from "node:crypto";
import {
  actionItemPriorities,
  actionItemStatuses,
  buildChartSnapshot,
  buildPostmortemDraft,
  builtInPostmortemTemplates,
  type ChartSnapshotData,
  canChangePostmortemStatus,
  diffPostmortemRevisions,
  nextPostmortemStatuses,
  postmortemStatuses,
  renderPostmortemExport,
  trafficOfSnapshot,
  unknownTemplatePlaceholders,
} from "@faultline/core";
import {
  addActionItem,
  createPostmortem,
  type DbHandle,
  deleteActionItem,
  ensurePostmortemTemplates,
  getPostmortem,
  getPostmortemRevision,
  getPostmortemTemplate,
  listActionItems,
  listChartSnapshots,
  listPostmortemRevisions,
  listPostmortems,
  listPostmortemTemplates,
  loadPostmortemIncidentSource,
  type PostmortemIncidentSource,
  readSeriesRange,
  savePostmortem,
  savePostmortemTemplate,
  updateActionItem,
  updatePostmortemStatus,
} from "@faultline/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { ApiContext } from "../create-context.ts";
import { publicProcedure, router } from "../trpc.ts";

/** Longest Markdown body a save accepts (a generous postmortem is tens of kilobytes). */
const maxBodyChars = 500_000;
/** The chart window around an incident: enough before to see the baseline, after to see recovery. */
const chartMarginMs = 15 * 60_000;

const id = z.string().min(1).max(200);
const title = z.string().trim().min(1).max(300);
const body = z.string().max(maxBodyChars);
const status = z.enum(postmortemStatuses);
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2000);
const actionItemFields = z.object({
  title: z.string().trim().min(1).max(500),
  owner: z.string().trim().max(200).nullable(),
  dueDate: z.iso.date({ error: "must be a date, YYYY-MM-DD" }).nullable(),
  priority: z.enum(actionItemPriorities),
  status: z.enum(actionItemStatuses),
  link: httpUrl.nullable(),
});

function requireActor(ctx: ApiContext): string {
  if (!ctx.actor) throw new TRPCError({ code: "BAD_REQUEST", message: "who is acting? (x-faultline-user)" });
  return ctx.actor;
}

function notFound(what: string): never {
  throw new TRPCError({ code: "NOT_FOUND", message: `${what} not found` });
}

async function templates(db: DbHandle) {
  await ensurePostmortemTemplates(db, builtInPostmortemTemplates);
  return listPostmortemTemplates(db);
}

/** Freezes the incident's services' series around it into one chart snapshot. */
async function snapshotIncidentCharts(
  db: DbHandle,
  source: PostmortemIncidentSource,
  nowMs: number,
): Promise<ChartSnapshotData> {
  const incident = source.incident;
  const endMs = incident.endedAtMs ?? Math.max(nowMs, incident.startedAtMs);
  const fromMs = incident.startedAtMs - chartMarginMs;
  const toMs = Math.min(endMs + chartMarginMs, Math.max(nowMs, endMs));
  const stepSeconds = toMs - fromMs <= 3 * 3_600_000 ? 10 : 60;
  const alignedFrom = Math.floor(fromMs / (stepSeconds * 1000)) * stepSeconds * 1000;
  const series = (
    await Promise.all(
      incident.services.map((service) =>
        readSeriesRange(db, {
          environment: incident.environment,
          service,
          stepSeconds,
          fromMs: alignedFrom,
          toMs,
        }),
      ),
    )
  ).flat();
  const markers = [
    { atMs: incident.startedAtMs, label: "started" },
    { atMs: incident.detectedAtMs, label: "detected" },
    ...(incident.endedAtMs === null ? [] : [{ atMs: incident.endedAtMs, label: "recovered" }]),
    ...(source.cause
      ? [{ atMs: source.cause.startedAtMs, label: `${source.cause.kind}: ${source.cause.service}` }]
      : []),
    ...source.laterChanges.map((change) => ({
      atMs: change.startedAtMs,
      label: `${change.kind}: ${change.service}`,
    })),
  ];
  return buildChartSnapshot({
    services: incident.services,
    series,
    stepSeconds,
    fromMs: alignedFrom,
    toMs,
    markers,
  });
}

async function loadPostmortemView(db: DbHandle, postmortemId: string, nowMs: number) {
  const postmortem = await getPostmortem(db, postmortemId);
  if (!postmortem) notFound("postmortem");
  const [snapshots, actionItems] = await Promise.all([
    listChartSnapshots(db, postmortemId),
    listActionItems(db, { nowMs, postmortemId }),
  ]);
  return {
    postmortem,
    nextStatuses: [...nextPostmortemStatuses(postmortem.status)],
    snapshots: snapshots.map((snapshot) => ({
      ...snapshot,
      data: snapshot.data as unknown as ChartSnapshotData,
    })),
    actionItems,
  };
}

export const postmortemsRouter = router({
  templates: publicProcedure.query(async ({ ctx }) =>
    (await templates(ctx.db)).map((template) => ({
      ...template,
      unknownPlaceholders: unknownTemplatePlaceholders(template.body),
    })),
  ),

  saveTemplate: publicProcedure
    .input(
      z.object({
        id: z
          .string()
          .regex(/^[a-z0-9-]{1,60}$/, "lower-case letters, digits and dashes")
          .optional(),
        name: title,
        description: z.string().max(500).default(""),
        body: body.min(1),
        team: z.string().trim().min(1).max(100).nullable().default(null),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const author = requireActor(ctx);
      const saved = await savePostmortemTemplate(ctx.db, {
        id: input.id ?? `tpl-${randomUUID()}`,
        name: input.name,
        description: input.description,
        body: input.body,
        team: input.team,
        author,
        nowMs: ctx.clock(),
      });
      return { ...saved, unknownPlaceholders: unknownTemplatePlaceholders(saved.body) };
    }),

  list: publicProcedure
    .input(z.object({ incidentId: id.optional() }).default({}))
    .query(({ ctx, input }) =>
      listPostmortems(ctx.db, input.incidentId ? { incidentId: input.incidentId } : {}),
    ),

  /** Writes a draft from the incident's data through a template; charts are frozen as of now. */
  createFromIncident: publicProcedure
    .input(z.object({ incidentId: id, templateId: id.default("google-sre") }))
    .mutation(async ({ ctx, input }) => {
      const author = requireActor(ctx);
      const nowMs = ctx.clock();
      await ensurePostmortemTemplates(ctx.db, builtInPostmortemTemplates);
      const template = await getPostmortemTemplate(ctx.db, input.templateId);
      if (!template) notFound("template");
      const source = await loadPostmortemIncidentSource(ctx.db, input.incidentId);
      if (!source) notFound("incident");
      const chart = await snapshotIncidentCharts(ctx.db, source, nowMs);
      const endMs = source.incident.endedAtMs ?? Math.max(nowMs, source.incident.startedAtMs);
      const hasData = chart.series.some((one) => one.points.length > 0);
      const snapshotId = `snap_${randomUUID().replaceAll("-", "")}`;
      const chartTitle = "Requests, errors and p95 latency of the affected services";
      const draft = buildPostmortemDraft({
        facts: { ...source, traffic: trafficOfSnapshot(chart, source.incident.startedAtMs, endMs) },
        templateBody: template.body,
        charts: hasData ? [{ id: snapshotId, title: chartTitle }] : [],
        writtenAtMs: nowMs,
      });
      const created = await createPostmortem(ctx.db, {
        id: `pm_${randomUUID()}`,
        incidentId: source.incident.id,
        title: draft.title,
        body: draft.body,
        templateId: template.id,
        author,
        nowMs,
        snapshots: hasData
          ? [{ id: snapshotId, title: chartTitle, data: chart as unknown as Record<string, unknown> }]
          : [],
        actionItems: draft.suggestedActionItems,
      });
      return { id: created.id, revision: created.revision };
    }),

  get: publicProcedure
    .input(z.object({ id }))
    .query(({ ctx, input }) => loadPostmortemView(ctx.db, input.id, ctx.clock())),

  /**
   * Saves a revision on top of `baseRevision`. A stale base is not an error but an answer: `conflict`
   * with their latest version and yours, so the editor can show both and nothing is overwritten.
   */
  save: publicProcedure
    .input(z.object({ id, baseRevision: z.number().int().min(1), title, body }))
    .mutation(async ({ ctx, input }) => {
      const author = requireActor(ctx);
      const result = await savePostmortem(ctx.db, { ...input, author, nowMs: ctx.clock() });
      if (result.kind === "not_found") notFound("postmortem");
      return result;
    }),

  history: publicProcedure
    .input(z.object({ id }))
    .query(({ ctx, input }) => listPostmortemRevisions(ctx.db, input.id)),

  revision: publicProcedure
    .input(z.object({ id, revision: z.number().int().min(1) }))
    .query(async ({ ctx, input }) => {
      return (await getPostmortemRevision(ctx.db, input.id, input.revision)) ?? notFound("revision");
    }),

  /** Line diff from revision `from` to revision `to` (either order of age works; `from` is the older side). */
  diff: publicProcedure
    .input(z.object({ id, from: z.number().int().min(1), to: z.number().int().min(1) }))
    .query(async ({ ctx, input }) => {
      const [older, newer] = await Promise.all([
        getPostmortemRevision(ctx.db, input.id, input.from),
        getPostmortemRevision(ctx.db, input.id, input.to),
      ]);
      if (!older || !newer) notFound("revision");
      return {
        from: {
          revision: older.revision,
          author: older.author,
          savedAtMs: older.savedAtMs,
          title: older.title,
        },
        to: {
          revision: newer.revision,
          author: newer.author,
          savedAtMs: newer.savedAtMs,
          title: newer.title,
        },
        ...diffPostmortemRevisions(older.body, newer.body),
      };
    }),

  /** Moves along the review workflow from the status the caller saw (compare-and-set). */
  setStatus: publicProcedure
    .input(z.object({ id, from: status, to: status }))
    .mutation(async ({ ctx, input }) => {
      const author = requireActor(ctx);
      if (!canChangePostmortemStatus(input.from, input.to)) {
        throw new TRPCError({ code: "BAD_REQUEST", message: `cannot go from ${input.from} to ${input.to}` });
      }
      const updated = await updatePostmortemStatus(ctx.db, { ...input, author, nowMs: ctx.clock() });
      if (updated) return updated;
      const current = await getPostmortem(ctx.db, input.id);
      if (!current) notFound("postmortem");
      throw new TRPCError({
        code: "CONFLICT",
        message: `status changed meanwhile: it is ${current.status} now, not ${input.from}`,
      });
    }),

  actionItems: publicProcedure
    .input(
      z
        .object({
          postmortemId: id.optional(),
          overdueOnly: z.boolean().default(false),
          openOnly: z.boolean().default(false),
        })
        .default({ overdueOnly: false, openOnly: false }),
    )
    .query(({ ctx, input }) =>
      listActionItems(ctx.db, {
        nowMs: ctx.clock(),
        overdueOnly: input.overdueOnly,
        ...(input.postmortemId ? { postmortemId: input.postmortemId } : {}),
        ...(input.openOnly ? { statuses: ["open", "in_progress"] as const } : {}),
      }),
    ),

  addActionItem: publicProcedure
    .input(
      actionItemFields.extend({
        postmortemId: id,
        owner: actionItemFields.shape.owner.default(null),
        dueDate: actionItemFields.shape.dueDate.default(null),
        priority: actionItemFields.shape.priority.default("medium"),
        status: actionItemFields.shape.status.default("open"),
        link: actionItemFields.shape.link.default(null),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      requireActor(ctx);
      const owner = input.owner === "" ? null : input.owner;
      return (await addActionItem(ctx.db, { ...input, owner, nowMs: ctx.clock() })) ?? notFound("postmortem");
    }),

  updateActionItem: publicProcedure
    .input(z.object({ id: z.number().int().min(1), patch: actionItemFields.partial() }))
    .mutation(async ({ ctx, input }) => {
      requireActor(ctx);
      const patch = { ...input.patch };
      if (patch.owner === "") patch.owner = null;
      return (await updateActionItem(ctx.db, input.id, patch, ctx.clock())) ?? notFound("action item");
    }),

  removeActionItem: publicProcedure
    .input(z.object({ id: z.number().int().min(1) }))
    .mutation(async ({ ctx, input }) => {
      requireActor(ctx);
      if (!(await deleteActionItem(ctx.db, input.id))) notFound("action item");
      return { removed: true };
    }),

  /** The Markdown export: raw HTML and unsafe links defused, charts as tables, action items appended. */
  exportMarkdown: publicProcedure.input(z.object({ id })).query(async ({ ctx, input }) => {
    const view = await loadPostmortemView(ctx.db, input.id, ctx.clock());
    const markdown = renderPostmortemExport({
      title: view.postmortem.title,
      status: view.postmortem.status,
      incidentId: view.postmortem.incidentId,
      revision: view.postmortem.revision,
      updatedAtMs: view.postmortem.updatedAtMs,
      body: view.postmortem.body,
      snapshots: view.snapshots,
      actionItems: view.actionItems,
    });
    const slug =
      view.postmortem.title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")
        .slice(0, 60) || "postmortem";
    return { fileName: `${slug}.md`, markdown };
  }),
});
