import { downsampleLttb } from "@faultline/core";
import {
  applyIncidentAction,
  type IncidentAction,
  type IncidentOverview,
  incidentSeverities,
  incidentStatuses,
  listChangeSummaries,
  listIncidentOverviews,
  readErrorExemplarGroups,
  readGraphEdges,
  readIncidentEvents,
  readIncidentOverview,
  readSeriesRange,
  readServiceSignals,
  readVersionErrorRates,
} from "@faultline/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { ApiContext } from "../create-context.ts";
import { round, signalPointsOf } from "../signal-points.ts";
import { stepFor } from "../time-ranges.ts";
import { publicProcedure, router } from "../trpc.ts";

const severityRank = { sev1: 0, sev2: 1, sev3: 2, sev4: 3 } as const;
const statusRank = { open: 0, acknowledged: 1, resolved: 2 } as const;
const sparklinePoints = 60;
/** How much of the time before an incident its charts show, for the baseline. */
const leadMs = 30 * 60_000;
/** How much after its end. */
const tailMs = 15 * 60_000;

const incidentId = z.object({ id: z.string().min(1).max(200) });

/**
 * Orders incidents by impact: unresolved before resolved, then severity, then affected users, then
 * the most recent first.
 */
export function compareByImpact(a: IncidentOverview, b: IncidentOverview): number {
  return (
    statusRank[a.status] - statusRank[b.status] ||
    severityRank[a.severity] - severityRank[b.severity] ||
    b.affectedUsers - a.affectedUsers ||
    b.startedAtMs - a.startedAtMs
  );
}

/** The window an incident's charts cover: a baseline before it, a tail after it, never past now. */
function chartWindowOf(incident: IncidentOverview, nowMs: number): { fromMs: number; toMs: number } {
  const fromMs = incident.startedAtMs - leadMs;
  const toMs = Math.min(nowMs, (incident.endedAtMs ?? nowMs) + tailMs);
  return { fromMs, toMs: Math.max(toMs, incident.detectedAtMs + 60_000) };
}

function causeOf(incident: IncidentOverview) {
  return incident.suspects.find((suspect) => suspect.change.id === incident.causeChangeId) ?? null;
}

function shapeIncident(incident: IncidentOverview) {
  return {
    ...incident,
    timeToDetectMs: Math.max(0, incident.detectedAtMs - incident.startedAtMs),
    cause: causeOf(incident),
  };
}

async function sparklineOf(ctx: ApiContext, incident: IncidentOverview) {
  const window = chartWindowOf(incident, ctx.clock());
  const services = incident.rootService ? [incident.rootService] : incident.services.slice(0, 1);
  const [signals] = await readServiceSignals(ctx.db, {
    environment: incident.environment,
    services,
    stepSeconds: 60,
    ...window,
  });
  const points = (signals?.buckets ?? []).map((bucket) => {
    const useRequests = bucket.requests > 0;
    const total = useRequests ? bucket.requests : bucket.spans;
    const errors = useRequests ? bucket.requestErrors : bucket.errors;
    return { t: bucket.bucketStartMs, errorRate: total > 0 ? round(errors / total, 4) : null };
  });
  return {
    ...window,
    points: downsampleLttb(
      points,
      sparklinePoints,
      (p) => p.t,
      (p) => p.errorRate,
    ),
  };
}

async function act(ctx: ApiContext, id: string, action: IncidentAction) {
  if (!ctx.actor) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: "who is acting? Set your name first (x-faultline-user)",
    });
  }
  const result = await applyIncidentAction(ctx.db, {
    incidentId: id,
    actor: ctx.actor,
    nowMs: ctx.clock(),
    action,
  });
  if (result.outcome === "not_found")
    throw new TRPCError({ code: "NOT_FOUND", message: `no incident ${id}` });
  if (result.outcome === "rejected") throw new TRPCError({ code: "BAD_REQUEST", message: result.reason });
  return { changed: result.outcome === "applied", incident: result.incident };
}

export const incidentsRouter = router({
  /** Triage: open and recent incidents by impact, each with its cause or suspects and a sparkline. */
  list: publicProcedure
    .input(
      z
        .object({
          environment: z.string().min(1).optional(),
          /** Resolved incidents that ended within this many hours are listed too. */
          recentHours: z
            .number()
            .int()
            .min(1)
            .max(24 * 30)
            .default(24),
          limit: z.number().int().min(1).max(200).default(50),
        })
        .default({ recentHours: 24, limit: 50 }),
    )
    .query(async ({ ctx, input }) => {
      const environment = input.environment ?? ctx.config.defaultEnvironment;
      const nowMs = ctx.clock();
      const incidents = await listIncidentOverviews(ctx.db, {
        environment,
        sinceMs: nowMs - input.recentHours * 3_600_000,
        limit: input.limit,
      });
      incidents.sort(compareByImpact);
      const withCharts = await Promise.all(
        incidents.map(async (incident, index) => {
          // Sparklines for the first screenful; the rest show without one rather than slow the page.
          const sparkline = index < 20 ? await sparklineOf(ctx, incident) : null;
          const changes =
            sparkline === null
              ? []
              : await listChangeSummaries(ctx.db, {
                  environment,
                  services: incident.services,
                  fromMs: sparkline.fromMs,
                  toMs: sparkline.toMs,
                  limit: 20,
                });
          return { ...shapeIncident(incident), sparkline, changes };
        }),
      );
      return { environment, nowMs, incidents: withCharts };
    }),

  /** Everything the incident page shows except the charts. */
  get: publicProcedure.input(incidentId).query(async ({ ctx, input }) => {
    const incident = await readIncidentOverview(ctx.db, input.id);
    if (!incident) throw new TRPCError({ code: "NOT_FOUND", message: `no incident ${input.id}` });
    const window = chartWindowOf(incident, ctx.clock());
    const [events, exemplars, edges] = await Promise.all([
      readIncidentEvents(ctx.db, incident.id),
      readErrorExemplarGroups(ctx.db, {
        environment: incident.environment,
        services: incident.services,
        fromMs: incident.startedAtMs,
        toMs: incident.endedAtMs ?? window.toMs,
        limit: 20,
      }),
      readGraphEdges(ctx.db, {
        environment: incident.environment,
        fromMs: incident.startedAtMs,
        toMs: incident.endedAtMs ?? window.toMs,
      }),
    ]);
    const affected = new Set(incident.services);
    // Services involved: the affected ones and their direct neighbours (calls and messaging hops).
    const involvedEdges = edges.filter((edge) => affected.has(edge.source) || affected.has(edge.target));
    const destinations = new Set(
      involvedEdges.flatMap((edge) =>
        edge.kind === "publish" ? [edge.target] : edge.kind === "consume" ? [edge.source] : [],
      ),
    );
    const graphEdges = edges.filter(
      (edge) =>
        affected.has(edge.source) ||
        affected.has(edge.target) ||
        (edge.kind === "consume" && destinations.has(edge.source)) ||
        (edge.kind === "publish" && destinations.has(edge.target)),
    );
    const nodes = new Map<
      string,
      { id: string; kind: "service" | "destination"; affected: boolean; root: boolean }
    >();
    const addNode = (id: string, kind: "service" | "destination") => {
      if (!nodes.has(id))
        nodes.set(id, { id, kind, affected: affected.has(id), root: id === incident.rootService });
    };
    for (const service of incident.services) addNode(service, "service");
    for (const edge of graphEdges) {
      addNode(edge.source, edge.kind === "consume" ? "destination" : "service");
      addNode(edge.target, edge.kind === "publish" ? "destination" : "service");
    }
    return {
      incident: shapeIncident(incident),
      events,
      exemplars: exemplars.map((group) => ({
        ...group,
        traces: group.traces.map((trace) => ({
          ...trace,
          url:
            ctx.config.traceUrlTemplate?.replaceAll("{traceId}", encodeURIComponent(trace.traceId)) ?? null,
        })),
      })),
      graph: { nodes: [...nodes.values()], edges: graphEdges },
    };
  }),

  /**
   * The incident page's charts: per affected service error rate, throughput and p95 over the incident
   * with a baseline before it; every change event of those services in the window; and for a version
   * change among the top suspects, the error rate on the old version against the new.
   */
  timeline: publicProcedure.input(incidentId).query(async ({ ctx, input }) => {
    const incident = await readIncidentOverview(ctx.db, input.id);
    if (!incident) throw new TRPCError({ code: "NOT_FOUND", message: `no incident ${input.id}` });
    const window = chartWindowOf(incident, ctx.clock());
    const stepSeconds = stepFor(window.toMs - window.fromMs);
    const services = incident.services.slice(0, 8);
    const [perService, changes] = await Promise.all([
      Promise.all(
        services.map(async (service) => ({
          service,
          points: signalPointsOf(
            await readSeriesRange(ctx.db, {
              environment: incident.environment,
              service,
              stepSeconds,
              ...window,
            }),
            stepSeconds,
          ),
        })),
      ),
      listChangeSummaries(ctx.db, {
        environment: incident.environment,
        services: incident.services,
        fromMs: window.fromMs,
        toMs: window.toMs,
        limit: 100,
      }),
    ]);
    const versionSuspect = (causeOf(incident) ? [causeOf(incident)] : incident.suspects.slice(0, 3)).find(
      (suspect) =>
        suspect?.change.version && (suspect.change.kind === "deploy" || suspect.change.kind === "rollback"),
    );
    let versions = null;
    if (versionSuspect) {
      const change = versionSuspect.change;
      const byVersion = await readVersionErrorRates(ctx.db, {
        environment: incident.environment,
        service: change.service,
        stepSeconds,
        ...window,
      });
      const wanted = byVersion
        .filter((entry) => entry.version === change.version || entry.version === change.previousVersion)
        .concat(
          change.previousVersion
            ? []
            : byVersion
                .filter((entry) => entry.version !== change.version)
                .sort((a, b) => total(b) - total(a))
                .slice(0, 1),
        );
      versions = {
        service: change.service,
        changeId: change.id,
        newVersion: change.version,
        series: wanted.map((entry) => ({
          version: entry.version,
          isNew: entry.version === change.version,
          points: downsampleLttb(
            entry.buckets.map((bucket) => ({
              t: bucket.bucketStartMs,
              errorRate: bucket.spans > 0 ? round(bucket.errors / bucket.spans, 5) : null,
              requests: bucket.spans,
            })),
            1000,
            (p) => p.t,
            (p) => p.errorRate,
          ),
        })),
      };
    }
    return {
      ...window,
      stepSeconds,
      incidentWindow: { fromMs: incident.startedAtMs, toMs: incident.endedAtMs },
      services: perService,
      changes,
      versions,
    };
  }),

  acknowledge: publicProcedure
    .input(incidentId)
    .mutation(({ ctx, input }) => act(ctx, input.id, { kind: "acknowledge" })),
  resolve: publicProcedure
    .input(incidentId)
    .mutation(({ ctx, input }) => act(ctx, input.id, { kind: "resolve" })),
  assign: publicProcedure
    .input(incidentId.extend({ assignee: z.string().trim().max(100).nullable() }))
    .mutation(({ ctx, input }) => act(ctx, input.id, { kind: "assign", assignee: input.assignee })),
  setSeverity: publicProcedure
    .input(incidentId.extend({ severity: z.enum(incidentSeverities) }))
    .mutation(({ ctx, input }) => act(ctx, input.id, { kind: "set_severity", severity: input.severity })),
  setStatus: publicProcedure
    .input(incidentId.extend({ status: z.enum(incidentStatuses) }))
    .mutation(({ ctx, input }) => act(ctx, input.id, { kind: "set_status", status: input.status })),
  addNote: publicProcedure
    .input(
      incidentId.extend({
        message: z.string().trim().min(1, "a note needs text").max(10_000),
        /** Backdates the note; defaults to now. */
        atMs: z.number().int().positive().optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      act(ctx, input.id, {
        kind: "note",
        message: input.message,
        ...(input.atMs !== undefined ? { atMs: input.atMs } : {}),
      }),
    ),
});

function total(entry: { buckets: { spans: number }[] }): number {
  return entry.buckets.reduce((sum, bucket) => sum + bucket.spans, 0);
}
