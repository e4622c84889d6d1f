import {
  activeContentIn,
  type ChartSnapshotData,
  renderPostmortemHtml,
  splitChartEmbeds,
  xssCorpus,
} from "@faultline/core";
import { ensureSeriesIds, recordChangeEvent, saveIncident, upsertIngestRows } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { TRPCError } from "@trpc/server";
import { beforeAll, expect, it } from "vitest";
import { appRouter } from "../app-router.ts";
import { createContext } from "../create-context.ts";
import { createCallerFactory } from "../trpc.ts";

const t0 = Date.parse("2026-11-27T10:00:00Z");
const minute = 60_000;
const writtenAt = t0 + 60 * minute;

describeEachDatabase("postmortems router", ({ db, handle }) => {
  const callerAs = (user: string | null, nowMs = writtenAt) =>
    createCallerFactory(appRouter)(
      createContext({ db: handle(), clock: () => nowMs, headers: user ? { "x-faultline-user": user } : {} }),
    );
  let causeId = "";

  beforeAll(async () => {
    causeId = (
      await recordChangeEvent(db(), {
        environment: "production",
        service: "identity",
        kind: "config",
        source: "api",
        startedAt: new Date(t0 + minute),
        idempotencyKey: "cfg",
        description: xssCorpus[0] ?? "",
        commit: xssCorpus[1] ?? "",
      })
    ).id;
    await recordChangeEvent(db(), {
      environment: "production",
      service: "identity",
      kind: "rollback",
      source: "api",
      startedAt: new Date(t0 + 8 * minute),
      idempotencyKey: "rb",
    });
    await saveIncident(handle(), {
      id: "inc-1",
      environment: "production",
      title: `identity errors ${xssCorpus[2]}`,
      status: "resolved",
      severity: "sev1",
      signal: "error_rate",
      rootService: "identity",
      startedAtMs: t0 + 2 * minute,
      detectedAtMs: t0 + 2 * minute + 40_000,
      endedAtMs: t0 + 9 * minute,
      services: ["identity", "dm-api"],
      surfaces: ["web", "ios"],
      affectedUsers: 4321,
      causeChangeId: causeId,
      suspects: [{ changeId: causeId, score: 0.9, evidence: [`span ${xssCorpus[4]} failed`] }],
      events: [{ atMs: t0 + 2 * minute + 40_000, kind: "opened", message: "opened" }],
    });
    // identity's server spans: 100 per 10 s, 60 failing during the incident (10:02–10:09).
    await handle().transaction(async (query) => {
      const [seriesId] = await ensureSeriesIds(query, [
        {
          environment: "production",
          service: "identity",
          operation: "validate",
          spanKind: "server",
          destination: null,
          version: null,
        },
      ]);
      const buckets = [];
      for (let t = t0 - 15 * minute; t < t0 + 20 * minute; t += 10_000) {
        const failing = t >= t0 + 2 * minute && t < t0 + 9 * minute;
        buckets.push({
          seriesId: seriesId ?? 0,
          stepSeconds: 10,
          bucketStartMs: t,
          spans: 100,
          errors: failing ? 60 : 0,
          durationSumMs: 1000,
          latencyBins: {},
          userRegisters: {},
        });
      }
      await upsertIngestRows(query, {
        seriesBuckets: buckets,
        exemplars: [],
        edges: [],
        instanceVersions: [],
        services: [],
      });
    });
  });

  it("drafts a postmortem from the incident with numbers, the trigger and a frozen chart", async () => {
    const created = await callerAs("alice").postmortems.createFromIncident({ incidentId: "inc-1" });
    const view = await callerAs("alice").postmortems.get({ id: created.id });
    expect(view.postmortem).toMatchObject({
      status: "draft",
      revision: 1,
      createdBy: "alice",
      incidentId: "inc-1",
    });
    // 42 buckets of 100 during the 7 minutes, 60 failing in each.
    expect(view.postmortem.body).toContain(
      "Requests failing: 60.0% (2,520 of 4,200 requests to **identity**)",
    );
    expect(view.postmortem.body).toContain("Distinct users affected: about 4,321");
    expect(view.postmortem.body).toContain("**Trigger:** config change to **identity**");
    expect(view.postmortem.body).toContain("- Rollback of **identity** at 2026-11-27 10:08:00 UTC");
    const charts = splitChartEmbeds(view.postmortem.body).filter((segment) => segment.kind === "chart");
    expect(charts.map((chart) => chart.kind === "chart" && chart.snapshotId)).toEqual(
      view.snapshots.map((s) => s.id),
    );
    const data = view.snapshots[0]?.data as ChartSnapshotData;
    expect(data.series.map((one) => one.service)).toEqual(["identity", "dm-api"]);
    expect(data.series[0]?.points.find((point) => point.t === t0 + 3 * minute)).toMatchObject({
      requests: 100,
      errors: 60,
    });
    expect(data.markers.map((marker) => marker.label)).toContain("rollback: identity");
    expect(view.actionItems.map((item) => item.priority)).toEqual(["high"]);
    expect(view.nextStatuses).toEqual(["in_review"]);
    // Hostile incident data renders harmless in the preview.
    expect(activeContentIn(renderPostmortemHtml(view.postmortem.body))).toEqual([]);
  });

  it("answers a stale save with a conflict carrying both versions and overwrites nothing", async () => {
    const { id } = await callerAs("alice").postmortems.createFromIncident({
      incidentId: "inc-1",
      templateId: "lightweight",
    });
    const alice = await callerAs("alice").postmortems.save({
      id,
      baseRevision: 1,
      title: "PM",
      body: "alice's text",
    });
    expect(alice.kind).toBe("saved");
    const bob = await callerAs("bob").postmortems.save({
      id,
      baseRevision: 1,
      title: "PM",
      body: "bob's text",
    });
    expect(bob).toMatchObject({
      kind: "conflict",
      theirs: { revision: 2, author: "alice", body: "alice's text" },
      yours: { baseRevision: 1, body: "bob's text" },
    });
    const merged = await callerAs("bob").postmortems.save({
      id,
      baseRevision: 2,
      title: "PM",
      body: "alice's and bob's text",
    });
    expect(merged.kind === "saved" && merged.postmortem.revision).toBe(3);
    const history = await callerAs(null).postmortems.history({ id });
    expect(history.map((entry) => [entry.revision, entry.author])).toEqual([
      [3, "bob"],
      [2, "alice"],
      [1, "alice"],
    ]);
    const diff = await callerAs(null).postmortems.diff({ id, from: 2, to: 3 });
    expect(diff.parts).toEqual([
      { kind: "removed", lines: ["alice's text"] },
      { kind: "added", lines: ["alice's and bob's text"] },
    ]);
  });

  it("walks the review workflow and refuses skipping review or a stale status", async () => {
    const { id } = await callerAs("alice").postmortems.createFromIncident({ incidentId: "inc-1" });
    const caller = callerAs("alice");
    await expect(caller.postmortems.setStatus({ id, from: "draft", to: "published" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect((await caller.postmortems.setStatus({ id, from: "draft", to: "in_review" })).status).toBe(
      "in_review",
    );
    await expect(caller.postmortems.setStatus({ id, from: "draft", to: "in_review" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    const published = await caller.postmortems.setStatus({ id, from: "in_review", to: "published" });
    expect(published.publishedAtMs).toBe(writtenAt);
  });

  it("tracks action items across postmortems with overdue ones flagged and first", async () => {
    const { id } = await callerAs("alice").postmortems.createFromIncident({ incidentId: "inc-1" });
    const added = await callerAs("alice").postmortems.addActionItem({
      postmortemId: id,
      title: "Alert on session errors",
      owner: "bob",
      dueDate: "2026-11-30",
      priority: "high",
      link: "https://tracker.example/OPS-1",
    });
    expect(added).toMatchObject({ status: "open", overdue: false, owner: "bob" });
    const later = callerAs(null, Date.parse("2026-12-02T09:00:00Z"));
    const all = await later.postmortems.actionItems();
    expect(all[0]).toMatchObject({ id: added.id, overdue: true, postmortemId: id });
    expect((await later.postmortems.actionItems({ overdueOnly: true })).map((item) => item.id)).toEqual([
      added.id,
    ]);
    const done = await callerAs("bob", Date.parse("2026-12-02T09:00:00Z")).postmortems.updateActionItem({
      id: added.id,
      patch: { status: "done" },
    });
    expect(done.overdue).toBe(false);
    await expect(
      callerAs("alice").postmortems.addActionItem({
        postmortemId: id,
        title: "x",
        link: "javascript:alert(1)",
      }),
    ).rejects.toBeInstanceOf(TRPCError);
    await expect(
      callerAs("alice").postmortems.addActionItem({ postmortemId: id, title: "x", dueDate: "soon" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await callerAs("alice").postmortems.removeActionItem({ id: added.id })).toEqual({ removed: true });
    await expect(callerAs("alice").postmortems.removeActionItem({ id: added.id })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("needs to know who acts, and says what is missing", async () => {
    await expect(
      callerAs(null).postmortems.createFromIncident({ incidentId: "inc-1" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      callerAs("alice").postmortems.createFromIncident({ incidentId: "nope" }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(callerAs("alice").postmortems.get({ id: "nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("exports harmless Markdown with the chart as a table and the action items", async () => {
    const { id } = await callerAs("alice").postmortems.createFromIncident({ incidentId: "inc-1" });
    const view = await callerAs("alice").postmortems.get({ id });
    await callerAs("alice").postmortems.save({
      id,
      baseRevision: 1,
      title: view.postmortem.title,
      body: `${view.postmortem.body}\n\n${xssCorpus.join("\n\n")}`,
    });
    await callerAs("alice").postmortems.addActionItem({
      postmortemId: id,
      title: xssCorpus[0] ?? "",
      owner: xssCorpus[3] ?? "",
    });
    const exported = await callerAs(null).postmortems.exportMarkdown({ id });
    expect(exported.fileName).toMatch(/^postmortem-identity-errors[a-z0-9-]*\.md$/);
    expect(exported.markdown).toContain("| Time (UTC) | Requests | Errors | Error rate | p95 ms |");
    expect(exported.markdown).toContain("## Action items (tracked)");
    // Raw HTML left the export only as escaped text (`\<script>`), which renders as characters.
    expect(exported.markdown).toContain("\\<script>alert(1)\\</script>");
    expect(activeContentIn(renderPostmortemHtml(exported.markdown))).toEqual([]);
  });

  it("lets teams edit templates and keeps built-ins seeded", async () => {
    const before = await callerAs(null).postmortems.templates();
    expect(before.map((template) => template.id)).toEqual(["google-sre", "lightweight"]);
    const saved = await callerAs("alice").postmortems.saveTemplate({
      id: "team-dm",
      name: "DM team",
      body: "# {{title}}\n{{summary}}\n{{whatever}}",
      team: "dm",
    });
    expect(saved.unknownPlaceholders).toEqual(["whatever"]);
    const { id } = await callerAs("alice").postmortems.createFromIncident({
      incidentId: "inc-1",
      templateId: "team-dm",
    });
    const view = await callerAs("alice").postmortems.get({ id });
    expect(view.postmortem.body.startsWith("# Postmortem: identity errors")).toBe(true);
    expect(view.postmortem.body).toContain("{{whatever}}");
  });
});
