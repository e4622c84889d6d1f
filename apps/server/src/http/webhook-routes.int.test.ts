import { createHmac } from "node:crypto";
import { type ChangeEventRow, type DbHandle, listChangeEvents } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ApiApp } from "./health-routes.ts";
import { registerWebhookRoutes } from "./webhook-routes.ts";

const nowMs = Date.parse("2026-11-27T12:00:00Z");
const githubSecret = "It's a Secret to Everybody";
const gitlabToken = "gitlab-hook-token";
const argocdToken = "argocd-hook-token";

const sign = (raw: string) =>
  `sha256=${createHmac("sha256", githubSecret).update(raw, "utf8").digest("hex")}`;

function githubDeployment(id: number, extra: Record<string, unknown> = {}) {
  return {
    action: "created",
    deployment: {
      id,
      sha: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
      ref: "main",
      task: "deploy",
      payload: { nested: { deep: [1, { x: null }] } },
      environment: "production",
      description: null,
      creator: { login: "octocat" },
      created_at: "2026-11-27T10:00:00Z",
      ...extra,
    },
    repository: { name: "dm-api", full_name: "acme/dm-api" },
  };
}

function githubStatus(id: number, state: string, at: string) {
  return {
    ...githubDeployment(id),
    deployment_status: {
      state,
      created_at: at,
      environment_url: "javascript:alert(1)",
      target_url: "https://ci.example/run/1",
    },
  };
}

describeEachDatabase("deploy webhooks", ({ handle }) => {
  let app: ApiApp;
  let failInsertsLeft = 0;
  beforeAll(async () => {
    app = Fastify();
    // A database whose next inserts can be made to fail, to play Argo CD's retry after a 5xx.
    const flaky = (): DbHandle => {
      const real = handle();
      const db = new Proxy(real.db, {
        get(target, property, receiver) {
          if (property === "insert" && failInsertsLeft > 0) {
            failInsertsLeft -= 1;
            return () => {
              throw new Error("simulated database outage");
            };
          }
          return Reflect.get(target, property, receiver);
        },
      });
      return { ...real, db };
    };
    registerWebhookRoutes(app, { db: flaky, githubSecret, gitlabToken, argocdToken, clock: () => nowMs });
    await app.ready();
  });
  afterAll(() => app.close());

  const changes = (service: string): Promise<ChangeEventRow[]> =>
    listChangeEvents(handle().db, {
      environment: "production",
      service,
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-12-31T00:00:00Z"),
    });

  const github = (event: string, body: unknown, headers: Record<string, string> = {}) => {
    const raw = typeof body === "string" ? body : JSON.stringify(body, null, 1);
    return app.inject({
      method: "POST",
      url: "/api/v1/webhooks/github",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": sign(raw),
        ...headers,
      },
      payload: raw,
    });
  };

  it("GitHub: deployment then statuses make one change, started then finished with its outcome", async () => {
    const started = performance.now();
    const created = await github("deployment", githubDeployment(101));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(created.statusCode).toBe(200);
    const { id } = created.json<{ id: string }>();
    expect(
      (await github("deployment_status", githubStatus(101, "in_progress", "2026-11-27T10:00:05Z"))).json(),
    ).toMatchObject({ id });
    let [row] = await changes("dm-api");
    expect(row).toMatchObject({ id, finishedAt: null, source: "webhook", kind: "deploy" });
    await github("deployment_status", githubStatus(101, "failure", "2026-11-27T10:04:00Z"));
    // A late or redelivered status of another outcome does not overwrite the first finish.
    await github("deployment_status", githubStatus(101, "success", "2026-11-27T10:09:00Z"));
    const rows = await changes("dm-api");
    expect(rows).toHaveLength(1);
    [row] = rows;
    expect(row).toMatchObject({
      id,
      environment: "production",
      version: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
      commit: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
      author: "octocat",
      startedAt: new Date("2026-11-27T10:00:00Z"),
      finishedAt: new Date("2026-11-27T10:04:00Z"),
      outcome: "failure",
      url: "https://ci.example/run/1",
    });
  });

  it("GitHub: rejects missing, wrong, sha1-only and re-serialized signatures with 401 before parsing", async () => {
    const raw = JSON.stringify(githubDeployment(102), null, 2);
    const attempt = (signature: string | undefined, body = raw) =>
      app.inject({
        method: "POST",
        url: "/api/v1/webhooks/github",
        headers: {
          "content-type": "application/json",
          "x-github-event": "deployment",
          ...(signature === undefined ? {} : { "x-hub-signature-256": signature }),
        },
        payload: body,
      });
    expect((await attempt(undefined)).statusCode).toBe(401);
    expect((await attempt("sha1=0123")).statusCode).toBe(401);
    expect((await attempt(sign(raw).slice(0, 40))).statusCode).toBe(401);
    expect((await attempt(sign(JSON.stringify(JSON.parse(raw))))).statusCode).toBe(401);
    expect((await attempt(sign(raw), raw.replace("dm-api", "evil-api"))).statusCode).toBe(401);
    expect((await attempt(sign("not json"), "not json")).statusCode).toBe(400);
    expect((await attempt(sign(raw).toUpperCase().replace("SHA256", "sha256"))).statusCode).toBe(200);
  });

  it("GitHub: answers ping, acknowledges unknown events and states, dedups redeliveries", async () => {
    const ping = await github("ping", { zen: "Design for failure.", hook_id: 1 });
    expect(ping.statusCode).toBe(200);
    expect((await github("push", { ref: "main" })).statusCode).toBe(202);
    expect(
      (await github("deployment_status", githubStatus(103, "inactive", "2026-11-27T10:00:00Z"))).statusCode,
    ).toBe(202);
    expect((await github("deployment", { ...githubDeployment(104), action: "deleted" })).statusCode).toBe(
      202,
    );
    expect((await github("deployment", { repository: {} })).statusCode).toBe(400);

    const delivery = { "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958" };
    const body = githubDeployment(105, {
      environment: "staging",
      payload: { service: "profile", version: "5.1.0" },
    });
    const first = await github("deployment", body, delivery);
    const again = await github("deployment", body, delivery);
    expect(first.json()).toMatchObject({ status: "recorded" });
    expect(again.json()).toEqual({ status: "duplicate", id: first.json<{ id: string }>().id });
    const staging = await listChangeEvents(handle().db, {
      environment: "staging",
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-12-31T00:00:00Z"),
    });
    expect(staging).toEqual([expect.objectContaining({ service: "profile", version: "5.1.0" })]);
  });

  const gitlab = (body: unknown, token = gitlabToken) =>
    app.inject({
      method: "POST",
      url: "/api/v1/webhooks/gitlab?service=notifications",
      headers: {
        "content-type": "application/json",
        "x-gitlab-event": "Deployment Hook",
        "x-gitlab-token": token,
      },
      payload: JSON.stringify(body),
    });
  const gitlabDeployment = (status: string, at: string) => ({
    object_kind: "deployment",
    status,
    status_changed_at: at,
    deployment_id: 15,
    deployable_id: 796,
    deployable_url: null,
    environment: "production",
    project: { id: 30, name: "notifier", path_with_namespace: "acme/notifier" },
    short_sha: "279484c0",
    user: { username: "gitlab-user" },
    commit_url: "https://gitlab.example/acme/notifier/-/commit/279484c09fbe69ededfced8c1bb6e6d24616b468",
    commit_title: "Add <b>bold</b> retries",
  });

  it("GitLab: running then success is one deploy with start and finish; short sha expanded", async () => {
    expect((await gitlab(gitlabDeployment("running", "2026-11-27 11:50:00 +0200"))).statusCode).toBe(200);
    expect((await gitlab(gitlabDeployment("success", "2026-11-27 11:53:30 +0200"))).statusCode).toBe(200);
    expect(await changes("notifications")).toEqual([
      expect.objectContaining({
        version: "279484c09fbe69ededfced8c1bb6e6d24616b468",
        commit: "279484c09fbe69ededfced8c1bb6e6d24616b468",
        startedAt: new Date("2026-11-27T09:50:00Z"),
        finishedAt: new Date("2026-11-27T09:53:30Z"),
        outcome: "success",
        author: "gitlab-user",
        description: "Add <b>bold</b> retries",
      }),
    ]);
  });

  it("GitLab: wrong or missing token → 401; other hooks and statuses acknowledged", async () => {
    expect((await gitlab(gitlabDeployment("running", "2026-11-27 11:50:00 +0200"), "nope")).statusCode).toBe(
      401,
    );
    expect((await gitlab(gitlabDeployment("running", "x"), "t".repeat(100_000))).statusCode).toBe(401);
    expect((await gitlab({ object_kind: "push" })).statusCode).toBe(202);
    expect((await gitlab({ ...gitlabDeployment("created", "garbage"), deployment_id: 16 })).statusCode).toBe(
      202,
    );
    expect((await gitlab({ object_kind: "deployment" })).statusCode).toBe(400);
  });

  it("GitLab: keeps the short sha when commit_url is missing; refuses bodies over 5 MiB with 413", async () => {
    const { commit_url: _omitted, ...shortOnly } = gitlabDeployment("success", "2026-11-28 08:00:00 +0000");
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/webhooks/gitlab?service=short-sha-only",
      headers: { "content-type": "application/json", "x-gitlab-token": gitlabToken },
      payload: JSON.stringify({ ...shortOnly, deployment_id: 77 }),
    });
    expect(response.statusCode).toBe(200);
    expect(await changes("short-sha-only")).toEqual([
      expect.objectContaining({
        version: "279484c0",
        startedAt: new Date("2026-11-28T08:00:00Z"),
        outcome: "success",
      }),
    ]);
    const huge = await app.inject({
      method: "POST",
      url: "/api/v1/webhooks/gitlab",
      headers: { "content-type": "application/json", "x-gitlab-token": gitlabToken },
      payload: JSON.stringify({ object_kind: "deployment", filler: "x".repeat(6 * 1024 * 1024) }),
    });
    expect(huge.statusCode).toBe(413);
  });

  const argocd = (body: unknown, token = argocdToken) =>
    app.inject({
      method: "POST",
      url: "/api/v1/webhooks/argocd",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      payload: typeof body === "string" ? body : JSON.stringify(body),
    });
  const argoSync = (phase: string) => ({
    app: "delivery-worker",
    service: "delivery-worker",
    version: "5f0c2e1",
    environment: "production",
    phase,
    startedAt: "2026-11-27T11:00:00Z",
    finishedAt: phase === "Running" ? "" : "2026-11-27T11:02:00Z",
    url: "https://argocd.example/applications/delivery-worker",
  });

  it("Argo CD: a retried POST after a 5xx creates one deploy, finished on Succeeded", async () => {
    failInsertsLeft = 1;
    const failed = await argocd(argoSync("Running"));
    expect(failed.statusCode).toBe(500);
    expect(failed.body).not.toContain("simulated");
    const retried = await argocd(argoSync("Running"));
    expect(retried.statusCode).toBe(200);
    const done = await argocd(argoSync("Succeeded"));
    expect(done.json()).toEqual(retried.json());
    expect(await changes("delivery-worker")).toEqual([
      expect.objectContaining({
        version: "5f0c2e1",
        startedAt: new Date("2026-11-27T11:00:00Z"),
        finishedAt: new Date("2026-11-27T11:02:00Z"),
        outcome: "success",
      }),
    ]);
  });

  it("Argo CD: token enforced; empty template fields and broken JSON → 400 naming the fields", async () => {
    expect((await argocd(argoSync("Running"), "wrong")).statusCode).toBe(401);
    const empty = await argocd({ app: "", service: "", version: "", phase: "", startedAt: "" });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({
      error: "invalid webhook",
      issues: [
        "service: is required (or app)",
        "phase: is required",
        "startedAt: must be an ISO-8601 date-time or epoch milliseconds",
      ],
    });
    const broken = await argocd('{"app": "x", "phase": "Running",}');
    expect(broken.statusCode).toBe(400);
    expect((await argocd({ ...argoSync("OutOfSync") })).statusCode).toBe(202);
  });
});

it("GitHub webhook is refused (404) when the API has a token but no GitHub secret is set", async () => {
  const app: ApiApp = Fastify();
  registerWebhookRoutes(app, {
    db: (): DbHandle => {
      throw new Error("unused");
    },
    token: "api-token-123",
    clock: () => nowMs,
  });
  const response = await app.inject({ method: "POST", url: "/api/v1/webhooks/github", payload: "{}" });
  expect(response.statusCode).toBe(404);
  await app.close();
});
