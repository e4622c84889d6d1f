import { saveIncident } from "@faultline/db";
import { describeEachDatabase } from "@faultline/db/testing";
import { TRPCError } from "@trpc/server";
import { expect, it } from "vitest";
import { appRouter } from "./app-router.ts";
import { createContext, type WriteTokenVerifier } from "./create-context.ts";
import { createCallerFactory, writeTokenRequiredMessage } from "./trpc.ts";

const now = Date.parse("2026-12-06T10:00:00Z");
const token = "s3cret-api-token";
const wrongToken = "not-the-token-0123456789";
const createCaller = createCallerFactory(appRouter);

/**
 * The server hands the api the constant-time verifier of @faultline/ingest (apps/server's tRPC route
 * test runs with it); here a plain check stands in, since these tests are about which calls are guarded.
 */
const verifyWriteToken: WriteTokenVerifier = (authorization) => authorization === `Bearer ${token}`;

/**
 * Every procedure of the app router as [dotted path, type]. At run time tRPC keeps them in one flat map
 * keyed by path (its type describes the nested shape instead).
 */
const flatProcedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
const procedures = Object.entries(flatProcedures).map(
  ([path, procedure]) => [path, procedure._def.type] as const,
);
const mutations = procedures.filter(([, type]) => type !== "query").map(([path]) => path);
const queries = procedures.filter(([, type]) => type === "query").map(([path]) => path);

/** Calls a procedure by its dotted path with an empty input; resolves to the tRPC error code, or "ok". */
async function outcomeOf(caller: ReturnType<typeof createCaller>, path: string): Promise<string> {
  const call = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller);
  try {
    await (call as (input: unknown) => Promise<unknown>)(undefined);
    return "ok";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

describeEachDatabase("app router write token", ({ handle }) => {
  const caller = (authorization?: string, verifier: WriteTokenVerifier | null = verifyWriteToken) =>
    createCaller(
      createContext({
        db: handle(),
        clock: () => now,
        headers: { "x-faultline-user": "ana", ...(authorization === undefined ? {} : { authorization }) },
        verifyWriteToken: verifier,
      }),
    );

  it("finds the mutations it must check", () => {
    // A walk that found nothing would prove nothing: these are a few of the UI's writes.
    expect(mutations).toEqual(
      expect.arrayContaining([
        "incidents.acknowledge",
        "notifications.sendTest",
        "notifications.upsertDestination",
        "postmortems.createFromIncident",
      ]),
    );
    expect(mutations.length).toBeGreaterThan(15);
    expect(queries).toEqual(expect.arrayContaining(["incidents.list", "notifications.config"]));
  });

  it("refuses every mutation without the token or with a wrong one, before reading its input", async () => {
    for (const path of mutations) {
      expect([path, await outcomeOf(caller(), path)]).toEqual([path, "UNAUTHORIZED"]);
      expect([path, await outcomeOf(caller(`Bearer ${wrongToken}`), path)]).toEqual([path, "UNAUTHORIZED"]);
      expect([path, await outcomeOf(caller(token), path)]).toEqual([path, "UNAUTHORIZED"]);
      // With the token the call gets as far as its input check (the empty input is refused there).
      expect([path, await outcomeOf(caller(`Bearer ${token}`), path)]).not.toEqual([path, "UNAUTHORIZED"]);
    }
  });

  it("leaves queries open, and writes open when no token is configured", async () => {
    for (const path of queries) {
      expect([path, await outcomeOf(caller(), path)]).not.toEqual([path, "UNAUTHORIZED"]);
    }
    for (const path of mutations) {
      expect([path, await outcomeOf(caller(undefined, null), path)]).not.toEqual([path, "UNAUTHORIZED"]);
    }
  });

  it("acknowledges an incident only with the right token, and never echoes a presented token", async () => {
    await saveIncident(handle(), {
      id: "inc-token",
      environment: "production",
      title: "checkout errors",
      status: "open",
      severity: "sev2",
      signal: "error_rate",
      rootService: "checkout",
      startedAtMs: now,
      detectedAtMs: now,
      endedAtMs: null,
      services: ["checkout"],
      surfaces: [],
      affectedUsers: 1,
      causeChangeId: null,
      suspects: [],
      events: [],
    });
    const refusal = { code: "UNAUTHORIZED", message: writeTokenRequiredMessage };
    await expect(caller().incidents.acknowledge({ id: "inc-token" })).rejects.toMatchObject(refusal);
    const wrong = caller(`Bearer ${wrongToken}`).incidents.acknowledge({ id: "inc-token" });
    await expect(wrong).rejects.toMatchObject(refusal);
    await expect(wrong.catch((error: Error) => error.message)).resolves.not.toContain(wrongToken);
    expect((await caller().incidents.get({ id: "inc-token" })).incident.status).toBe("open");

    await caller(`Bearer ${token}`).incidents.acknowledge({ id: "inc-token" });
    expect((await caller().incidents.get({ id: "inc-token" })).incident.status).toBe("acknowledged");
  });
});
