import { type DbHandle, listChangeEvents } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { registerChangeRoutes } from "./change-routes.ts";
import type { ApiApp } from "./health-routes.ts";

const nowMs = Date.parse("2026-11-27T12:00:00Z");
const token = "s3cret-token-value";

describeEachDatabase("deploy API", ({ handle }) => {
  let app: ApiApp;
  let open: ApiApp;
  beforeAll(async () => {
    app = Fastify();
    registerChangeRoutes(app, { db: handle, token, clock: () => nowMs });
    await app.ready();
    open = Fastify();
    registerChangeRoutes(open, { db: handle, clock: () => nowMs });
    await open.ready();
  });
  afterAll(async () => {
    await app.close();
    await open.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: "POST",
      url: "/api/v1/deploys",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      payload: typeof body === "string" ? body : JSON.stringify(body),
    });

  const benchDeploy = {
    service: "dm-api",
    version: "3.42.0",
    environment: "production",
    kind: "deploy",
    startedAt: "2026-11-27T10:00:00Z",
    finishedAt: "2026-11-27T10:03:00Z",
    commit: "9f3a1c",
    description: "rollout",
    report: true,
  };

  it("answers 201 { id } and the same id for the same event posted again, ignoring unknown fields", async () => {
    const first = await post(benchDeploy);
    expect(first.statusCode).toBe(201);
    const { id } = first.json<{ id: string }>();
    expect(id).toMatch(/^chg_/);
    const repeat = await post({
      ...benchDeploy,
      description: "edited",
      startedAt: Date.parse(benchDeploy.startedAt),
    });
    expect(repeat.statusCode).toBe(201);
    expect(repeat.json()).toEqual({ id });
    expect(repeat.headers["idempotent-replayed"]).toBe("true");
    const stored = await listChangeEvents(handle().db, {
      environment: "production",
      service: "dm-api",
      from: new Date("2026-11-27T00:00:00Z"),
      to: new Date("2026-11-28T00:00:00Z"),
    });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      kind: "deploy",
      source: "api",
      version: "3.42.0",
      finishedAt: new Date("2026-11-27T10:03:00Z"),
      commit: "9f3a1c",
    });
  });

  it("keeps changes that differ in kind or version apart, and honours an Idempotency-Key header", async () => {
    const base = { service: "identity", startedAt: "2026-11-27T11:00:00Z", version: "7" };
    const deploy = (await post(base)).json<{ id: string }>().id;
    const config = (await post({ ...base, kind: "config" })).json<{ id: string }>().id;
    const other = (await post({ ...base, version: "8" })).json<{ id: string }>().id;
    expect(new Set([deploy, config, other]).size).toBe(3);
    const keyed = await post({ ...base, kind: "feature_flag" }, { "idempotency-key": "flag-42" });
    const keyedAgain = await post(
      { ...base, kind: "feature_flag", version: "9" },
      { "idempotency-key": "flag-42" },
    );
    expect(keyed.statusCode).toBe(201);
    expect(keyedAgain.json()).toEqual(keyed.json());
  });

  it("stores a scope and defaults environment and kind", async () => {
    const response = await post({
      service: "gateway",
      startedAt: nowMs - 60_000,
      scope: { regions: ["eu-1"], percentage: 5 },
    });
    expect(response.statusCode).toBe(201);
    const listed = await app.inject({ url: "/api/v1/deploys?service=gateway" });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toMatchObject({
      environment: "production",
      deploys: [
        {
          service: "gateway",
          kind: "deploy",
          source: "api",
          version: null,
          startedAt: new Date(nowMs - 60_000).toISOString(),
          scope: { regions: ["eu-1"], percentage: 5 },
        },
      ],
    });
  });

  it("answers 400 naming each bad field, without quoting the input", async () => {
    const response = await post({
      kind: "<script>alert(1)</script>",
      startedAt: "yesterday <img onerror=x>",
      url: "javascript:alert(1)",
      scope: { percentage: 150 },
      finishedAt: 5,
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ issues: string[] }>();
    const fields = body.issues.map((issue) => issue.split(":")[0]);
    expect(fields).toEqual(
      expect.arrayContaining(["service", "kind", "startedAt", "url", "scope.percentage"]),
    );
    expect(body.issues).toContain("service: is required");
    expect(response.body).not.toMatch(/script|onerror|yesterday/);

    const early = await post({
      service: "a",
      startedAt: "2026-11-27T10:00:00Z",
      finishedAt: "2026-11-27T09:00:00Z",
    });
    expect(early.json<{ issues: string[] }>().issues).toEqual(["finishedAt: must not be before startedAt"]);
    const badJson = await post('{"service": "<b>oops');
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toEqual({ error: "invalid deploy", issues: ["body: must be valid JSON"] });
    expect((await post([1, 2])).statusCode).toBe(400);
    const longKey = await post(benchDeploy, { "idempotency-key": "k".repeat(300) });
    expect(longKey.statusCode).toBe(400);
  });

  it("refuses other content types with 415 and a fixed message", async () => {
    const response = await post("service=x", { "content-type": "text/x-evil<script>" });
    expect(response.statusCode).toBe(415);
    expect(response.body).not.toContain("script");
  });

  it("requires the bearer token for writes when one is configured, never echoing it", async () => {
    const missing = await app.inject({
      method: "POST",
      url: "/api/v1/deploys",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(benchDeploy),
    });
    expect(missing.statusCode).toBe(401);
    const wrong = await post(benchDeploy, { authorization: `Bearer wrong-${"x".repeat(5000)}` });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).not.toContain("wrong-");
    const withoutTokenConfigured = await open.inject({
      method: "POST",
      url: "/api/v1/deploys",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ ...benchDeploy, service: "open" }),
    });
    expect(withoutTokenConfigured.statusCode).toBe(201);
  });

  it("lists by environment, service and time range, and validates the query", async () => {
    await post({ service: "billing", environment: "staging", startedAt: "2026-11-20T10:00:00Z" });
    await post({ service: "billing", environment: "staging", startedAt: "2026-11-21T10:00:00Z" });
    const listed = await app.inject({
      url: "/api/v1/deploys?environment=staging&service=billing&from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z",
    });
    expect(listed.json<{ deploys: { startedAt: string }[] }>().deploys.map((d) => d.startedAt)).toEqual([
      "2026-11-21T10:00:00.000Z",
    ]);
    const epoch = await app.inject({
      url: `/api/v1/deploys?environment=staging&from=${Date.parse("2026-11-19T00:00:00Z")}&to=${nowMs}`,
    });
    expect(epoch.json<{ deploys: unknown[] }>().deploys).toHaveLength(2);
    const bad = await app.inject({ url: "/api/v1/deploys?from=soon&to=2026-11-22T00:00:00Z" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ issues: string[] }>().issues).toEqual([
      "from: must be an ISO-8601 date-time or epoch milliseconds",
    ]);
    const reversed = await app.inject({
      url: "/api/v1/deploys?from=2026-11-22T00:00:00Z&to=2026-11-21T00:00:00Z",
    });
    expect(reversed.json<{ issues: string[] }>().issues).toEqual(["to: must be after from"]);
  });
});

it("answers 503 while the database is still opening", async () => {
  const app: ApiApp = Fastify();
  registerChangeRoutes(app, {
    db: (): DbHandle => {
      throw new Error("database not open yet");
    },
    clock: () => nowMs,
  });
  const response = await app.inject({
    method: "POST",
    url: "/api/v1/deploys",
    headers: { "content-type": "application/json" },
    payload: JSON.stringify({ service: "a", startedAt: nowMs }),
  });
  expect(response.statusCode).toBe(503);
  expect(response.headers["retry-after"]).toBe("1");
  await app.close();
});
