import { expect, it } from "vitest";
import { describeEachDatabase } from "../testing/index.ts";
import { recordChangeEvent } from "./change-event-repository.ts";
import { saveIncident } from "./incident-repository.ts";
import {
  addActionItem,
  deleteActionItem,
  listActionItems,
  updateActionItem,
} from "./postmortem-action-item-repository.ts";
import { loadPostmortemIncidentSource } from "./postmortem-incident-source.ts";
import {
  createPostmortem,
  getPostmortem,
  getPostmortemRevision,
  listChartSnapshots,
  listPostmortemRevisions,
  listPostmortems,
  savePostmortem,
  updatePostmortemStatus,
} from "./postmortem-repository.ts";
import {
  ensurePostmortemTemplates,
  listPostmortemTemplates,
  savePostmortemTemplate,
} from "./postmortem-template-repository.ts";

const t0 = Date.parse("2026-11-27T10:00:00Z");
const minute = 60_000;

describeEachDatabase("postmortem storage", ({ db, handle }) => {
  let causeId = "";
  let rollbackId = "";

  it("reads an incident with its timeline, cause, suspects and later changes", async () => {
    causeId = (
      await recordChangeEvent(db(), {
        environment: "production",
        service: "identity",
        kind: "config",
        source: "api",
        startedAt: new Date(t0 + minute),
        idempotencyKey: "cfg-1",
        commit: "abc123",
        description: "raise pool",
      })
    ).id;
    rollbackId = (
      await recordChangeEvent(db(), {
        environment: "production",
        service: "identity",
        kind: "rollback",
        source: "api",
        startedAt: new Date(t0 + 8 * minute),
        idempotencyKey: "rb-1",
      })
    ).id;
    await recordChangeEvent(db(), {
      environment: "production",
      service: "unrelated",
      kind: "deploy",
      source: "api",
      startedAt: new Date(t0 + 5 * minute),
      idempotencyKey: "other-1",
    });
    await saveIncident(handle(), {
      id: "inc-1",
      environment: "production",
      title: "identity errors",
      status: "resolved",
      severity: "sev1",
      signal: "error_rate",
      rootService: "identity",
      startedAtMs: t0 + 2 * minute,
      detectedAtMs: t0 + 2 * minute + 40_000,
      endedAtMs: t0 + 9 * minute,
      services: ["identity", "dm-api"],
      surfaces: ["web"],
      affectedUsers: 1234,
      causeChangeId: causeId,
      suspects: [{ changeId: causeId, score: 0.9, evidence: ["errors rose after the push"] }],
      events: [{ atMs: t0 + 2 * minute + 40_000, kind: "opened", message: "opened" }],
    });
    // A person's backdated note sorts before detection's event.
    await handle().query(
      `INSERT INTO incident_events (incident_id, at, kind, message, author) VALUES ('inc-1', $1, 'note', 'saw errors', 'bob')`,
      [new Date(t0 + 2 * minute + 10_000).toISOString()],
    );
    const source = await loadPostmortemIncidentSource(handle(), "inc-1");
    expect(source?.incident.affectedUsers).toBe(1234);
    expect(source?.cause).toMatchObject({
      id: causeId,
      commit: "abc123",
      score: 0.9,
      evidence: ["errors rose after the push"],
    });
    expect(source?.events.map((event) => [event.kind, event.author])).toEqual([
      ["note", "bob"],
      ["opened", null],
    ]);
    expect(source?.laterChanges.map((change) => change.id)).toEqual([rollbackId]);
    expect(await loadPostmortemIncidentSource(handle(), "missing")).toBeNull();
  });

  it("creates a postmortem as revision 1 with its snapshots and action items", async () => {
    const created = await createPostmortem(handle(), {
      id: "pm-1",
      incidentId: "inc-1",
      title: "Postmortem: identity",
      body: "# v1\n",
      templateId: "google-sre",
      author: "alice",
      nowMs: t0 + 60 * minute,
      snapshots: [{ id: "snap-1", title: "Requests", data: { series: [] } }],
      actionItems: [{ title: "Canary config pushes", priority: "high" }],
    });
    expect(created).toMatchObject({ revision: 1, status: "draft", createdBy: "alice", incidentId: "inc-1" });
    expect((await listChartSnapshots(handle(), "pm-1")).map((snapshot) => snapshot.data)).toEqual([
      { series: [] },
    ]);
    expect(
      (await listActionItems(handle(), { nowMs: t0, postmortemId: "pm-1" })).map((item) => item.title),
    ).toEqual(["Canary config pushes"]);
    expect((await listPostmortems(handle(), { incidentId: "inc-1" }))[0]).toMatchObject({
      id: "pm-1",
      incidentTitle: "identity errors",
      openActionItems: 1,
    });
  });

  it("saves on the latest revision and returns a conflict with both versions on a stale one", async () => {
    const first = await savePostmortem(handle(), {
      id: "pm-1",
      baseRevision: 1,
      title: "Postmortem: identity",
      body: "# v2 by alice\n",
      author: "alice",
      nowMs: t0 + 61 * minute,
    });
    expect(first.kind === "saved" && first.postmortem.revision).toBe(2);
    const stale = await savePostmortem(handle(), {
      id: "pm-1",
      baseRevision: 1,
      title: "Postmortem: identity",
      body: "# v2 by bob\n",
      author: "bob",
      nowMs: t0 + 62 * minute,
    });
    expect(stale).toEqual({
      kind: "conflict",
      theirs: {
        revision: 2,
        title: "Postmortem: identity",
        body: "# v2 by alice\n",
        author: "alice",
        savedAtMs: t0 + 61 * minute,
      },
      yours: { baseRevision: 1, title: "Postmortem: identity", body: "# v2 by bob\n" },
    });
    // Nothing of bob's was written.
    expect((await getPostmortem(handle(), "pm-1"))?.body).toBe("# v2 by alice\n");
    const same = await savePostmortem(handle(), {
      id: "pm-1",
      baseRevision: 2,
      title: "Postmortem: identity",
      body: "# v2 by alice\n",
      author: "alice",
      nowMs: t0 + 63 * minute,
    });
    expect(same.kind).toBe("unchanged");
    expect(
      await savePostmortem(handle(), {
        id: "nope",
        baseRevision: 1,
        title: "",
        body: "",
        author: "a",
        nowMs: 0,
      }),
    ).toEqual({
      kind: "not_found",
    });
  });

  it("lets exactly one of two concurrent saves on the same base win", async () => {
    const results = await Promise.all(
      ["carol", "dave"].map((author) =>
        savePostmortem(handle(), {
          id: "pm-1",
          baseRevision: 2,
          title: "t",
          body: `# by ${author}\n`,
          author,
          nowMs: t0 + 64 * minute,
        }),
      ),
    );
    expect(results.map((result) => result.kind).sort()).toEqual(["conflict", "saved"]);
    const winner = results.find((result) => result.kind === "saved");
    const loser = results.find((result) => result.kind === "conflict");
    expect(loser?.kind === "conflict" && winner?.kind === "saved" && loser.theirs.body).toBe(
      winner?.kind === "saved" ? winner.postmortem.body : "",
    );
  });

  it("keeps every save as a revision for history and diffs", async () => {
    const history = await listPostmortemRevisions(handle(), "pm-1");
    expect(history.map((entry) => entry.revision)).toEqual([3, 2, 1]);
    expect((await getPostmortemRevision(handle(), "pm-1", 1))?.body).toBe("# v1\n");
    expect(await getPostmortemRevision(handle(), "pm-1", 9)).toBeNull();
  });

  it("moves status only from the status the caller saw", async () => {
    const moved = await updatePostmortemStatus(handle(), {
      id: "pm-1",
      from: "draft",
      to: "in_review",
      author: "alice",
      nowMs: t0,
    });
    expect(moved?.status).toBe("in_review");
    expect(
      await updatePostmortemStatus(handle(), {
        id: "pm-1",
        from: "draft",
        to: "in_review",
        author: "bob",
        nowMs: t0,
      }),
    ).toBeNull();
    const published = await updatePostmortemStatus(handle(), {
      id: "pm-1",
      from: "in_review",
      to: "published",
      author: "alice",
      nowMs: t0 + 70 * minute,
    });
    expect(published?.publishedAtMs).toBe(t0 + 70 * minute);
  });

  it("flags action items overdue after their due date in UTC, across postmortems", async () => {
    await createPostmortem(handle(), {
      id: "pm-2",
      incidentId: null,
      title: "Other",
      body: "x",
      templateId: null,
      author: "erin",
      nowMs: t0,
      snapshots: [],
      actionItems: [],
    });
    const due = await addActionItem(handle(), {
      postmortemId: "pm-2",
      title: "Due Dec 1",
      owner: "erin",
      dueDate: "2026-12-01",
      priority: "low",
      status: "open",
      link: "https://tracker.example/1",
      nowMs: t0,
    });
    const done = await addActionItem(handle(), {
      postmortemId: "pm-2",
      title: "Done long ago",
      owner: null,
      dueDate: "2026-11-01",
      priority: "high",
      status: "done",
      link: null,
      nowMs: t0,
    });
    expect(
      await addActionItem(handle(), {
        postmortemId: "missing",
        title: "x",
        owner: null,
        dueDate: null,
        priority: "low",
        status: "open",
        link: null,
        nowMs: t0,
      }),
    ).toBeNull();
    const lastMomentOfDueDay = Date.parse("2026-12-01T23:59:59Z");
    const nextDay = Date.parse("2026-12-02T00:00:00Z");
    const onDueDay = await listActionItems(handle(), { nowMs: lastMomentOfDueDay });
    expect(onDueDay.find((item) => item.id === due?.id)?.overdue).toBe(false);
    const after = await listActionItems(handle(), { nowMs: nextDay });
    expect(after[0]).toMatchObject({
      id: due?.id,
      overdue: true,
      postmortemTitle: "Other",
      dueDate: "2026-12-01",
    });
    expect(after.find((item) => item.id === done?.id)?.overdue).toBe(false);
    expect(after.length).toBe(3);
    expect(
      (await listActionItems(handle(), { nowMs: nextDay, overdueOnly: true })).map((item) => item.id),
    ).toEqual([due?.id]);
    const closed = await updateActionItem(handle(), due?.id ?? 0, { status: "done" }, nextDay);
    expect(closed).toMatchObject({
      status: "done",
      overdue: false,
      owner: "erin",
      link: "https://tracker.example/1",
    });
    const cleared = await updateActionItem(handle(), due?.id ?? 0, { owner: null }, nextDay);
    expect(cleared?.owner).toBeNull();
    expect(await deleteActionItem(handle(), done?.id ?? 0)).toBe(true);
    expect(await deleteActionItem(handle(), done?.id ?? 0)).toBe(false);
  });

  it("seeds built-in templates once and keeps a team's edits", async () => {
    const builtIns = [{ id: "google-sre", name: "Full", description: "d", body: "{{summary}}" }];
    await ensurePostmortemTemplates(handle(), builtIns);
    await savePostmortemTemplate(handle(), {
      id: "google-sre",
      name: "Full (ours)",
      description: "d",
      body: "## Ours\n{{summary}}",
      team: null,
      author: "alice",
      nowMs: t0,
    });
    await ensurePostmortemTemplates(handle(), builtIns);
    await savePostmortemTemplate(handle(), {
      id: "team-a",
      name: "Team A",
      description: "",
      body: "{{impact}}",
      team: "a",
      author: "bob",
      nowMs: t0,
    });
    const templates = await listPostmortemTemplates(handle());
    expect(templates.map((template) => [template.id, template.name, template.builtIn])).toEqual([
      ["google-sre", "Full (ours)", "google-sre"],
      ["team-a", "Team A", null],
    ]);
  });

  it("keeps a postmortem when detection merges its incident away", async () => {
    await handle().query("DELETE FROM incidents WHERE id = 'inc-1'");
    expect((await getPostmortem(handle(), "pm-1"))?.incidentId).toBeNull();
  });
});
