import { saveIncident } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ApiApp } from "./health-routes.ts";
import { registerTrpcRoutes } from "./trpc-routes.ts";

const nowMs = Date.parse("2026-12-06T10:00:00Z");
const token = "s3cret-api-token-value";
const wrongToken = "wrong-token-presented-here";

describeEachDatabase("tRPC route with --token", ({ handle }) => {
  let guarded: ApiApp;
  let open: ApiApp;
  beforeAll(async () => {
    guarded = Fastify();
    await registerTrpcRoutes(guarded, { db: handle, clock: () => nowMs, config: () => ({}), token });
    open = Fastify();
    await registerTrpcRoutes(open, { db: handle, clock: () => nowMs, config: () => ({}) });
    await Promise.all([guarded.ready(), open.ready()]);
    for (const id of ["inc-guarded", "inc-open"]) {
      await saveIncident(handle(), {
        id,
        environment: "production",
        title: "checkout errors",
        status: "open",
        severity: "sev2",
        signal: "error_rate",
        rootService: "checkout",
        startedAtMs: nowMs,
        detectedAtMs: nowMs,
        endedAtMs: null,
        services: ["checkout"],
        surfaces: [],
        affectedUsers: 1,
        causeChangeId: null,
        suspects: [],
        events: [],
      });
    }
  });
  afterAll(async () => {
    await guarded.close();
    await open.close();
  });

  const acknowledge = (app: ApiApp, id: string, authorization?: string) =>
    app.inject({
      method: "POST",
      url: "/trpc/incidents.acknowledge",
      headers: {
        "content-type": "application/json",
        "x-faultline-user": "ana",
        ...(authorization ? { authorization } : {}),
      },
      payload: JSON.stringify({ id }),
    });
  const statusOf = async (app: ApiApp, id: string) => {
    const response = await app.inject({
      method: "GET",
      url: `/trpc/incidents.get?input=${encodeURIComponent(JSON.stringify({ id }))}`,
    });
    expect(response.statusCode).toBe(200);
    return response.json<{ result: { data: { incident: { status: string } } } }>().result.data.incident
      .status;
  };

  it("answers 401 to a mutation without the token or with a wrong one, never echoing it", async () => {
    const missing = await acknowledge(guarded, "inc-guarded");
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({
      error: { message: expect.stringContaining("API token"), data: { code: "UNAUTHORIZED" } },
    });
    const wrong = await acknowledge(guarded, "inc-guarded", `Bearer ${wrongToken}`);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).not.toContain(wrongToken);
    const bare = await acknowledge(guarded, "inc-guarded", token);
    expect(bare.statusCode).toBe(401);
    // Reads stay open, and nothing was changed.
    expect(await statusOf(guarded, "inc-guarded")).toBe("open");
  });

  it("runs the mutation with the right token (scheme in any case)", async () => {
    const accepted = await acknowledge(guarded, "inc-guarded", `bearer ${token}`);
    expect(accepted.statusCode).toBe(200);
    expect(await statusOf(guarded, "inc-guarded")).toBe("acknowledged");
  });

  it("leaves mutations open when no token is configured", async () => {
    expect((await acknowledge(open, "inc-open")).statusCode).toBe(200);
    expect(await statusOf(open, "inc-open")).toBe("acknowledged");
  });
});
