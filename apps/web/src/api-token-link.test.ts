// @vitest-environment jsdom

import type { AppRouter } from "@faultline/api";
import { createTRPCClient, TRPCClientError, type TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  answerApiTokenRequest,
  apiTokenHeaders,
  apiTokenProblem,
  currentApiToken,
  forgetApiToken,
  pendingApiTokenRequest,
} from "./api-token.ts";
import { apiTokenLink } from "./api-token-link.ts";

const goodToken = "good-token";

/**
 * A server in a link: writes need `Bearer good-token` (reads never do), each call's Authorization
 * header is recorded as the real link would send it ("none" when absent).
 */
function clientOfGuardedServer(sent: string[]) {
  const server: TRPCLink<AppRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        const authorization = apiTokenHeaders().authorization ?? "none";
        sent.push(`${op.type} ${authorization}`);
        if (
          op.path === "incidents.list" ||
          (op.type === "mutation" && authorization !== `Bearer ${goodToken}`)
        ) {
          observer.error(
            TRPCClientError.from({
              error: {
                code: -32001,
                message: "needs the token",
                data: { code: "UNAUTHORIZED", httpStatus: 401 },
              },
            }) as never,
          );
          return;
        }
        observer.next({ result: { type: "data", data: { ok: true } } });
        observer.complete();
      });
  return createTRPCClient<AppRouter>({ links: [apiTokenLink(), server] });
}

describe("apiTokenLink", () => {
  beforeEach(() => {
    answerApiTokenRequest(null);
    forgetApiToken();
  });

  it("asks for the token when a change is refused, asks again after a wrong one, and sends the change with it", async () => {
    const sent: string[] = [];
    const acknowledged = clientOfGuardedServer(sent).incidents.acknowledge.mutate({ id: "inc-1" });
    await vi.waitFor(() => expect(pendingApiTokenRequest()).toMatchObject({ rejected: false }));

    answerApiTokenRequest("wrong-token");
    await vi.waitFor(() => expect(pendingApiTokenRequest()).toMatchObject({ rejected: true }));
    // A refused token is not kept.
    expect(currentApiToken()).toBeNull();

    answerApiTokenRequest(goodToken);
    await expect(acknowledged).resolves.toEqual({ ok: true });
    expect(sent).toEqual(["mutation none", "mutation Bearer wrong-token", `mutation Bearer ${goodToken}`]);
    expect(sessionStorage.getItem("faultline.apiToken")).toBe(goodToken);
    expect(pendingApiTokenRequest()).toBeNull();
  });

  it("lets the refusal through when the person cancels", async () => {
    const sent: string[] = [];
    const note = clientOfGuardedServer(sent).incidents.addNote.mutate({ id: "inc-1", message: "hi" });
    await vi.waitFor(() => expect(pendingApiTokenRequest()).not.toBeNull());
    answerApiTokenRequest(null);
    await expect(note).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
    expect(sent).toEqual(["mutation none"]);
  });

  it("shares one request between changes refused together, and never holds a query", async () => {
    const sent: string[] = [];
    const client = clientOfGuardedServer(sent);
    await expect(client.incidents.list.query({})).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
    expect(pendingApiTokenRequest()).toBeNull();

    const first = client.incidents.acknowledge.mutate({ id: "inc-1" });
    const second = client.incidents.resolve.mutate({ id: "inc-2" });
    await vi.waitFor(() => expect(sent.filter((line) => line === "mutation none")).toHaveLength(2));
    // One answer releases both: had each opened its own request, the first would still be waiting.
    answerApiTokenRequest(goodToken);
    await expect(Promise.all([first, second])).resolves.toEqual([{ ok: true }, { ok: true }]);
    expect(sent.filter((line) => line === `mutation Bearer ${goodToken}`)).toHaveLength(2);
  });
});

describe("apiTokenProblem", () => {
  it("accepts visible ASCII and refuses what cannot travel in a header", () => {
    expect(apiTokenProblem("abc-123_XYZ.~")).toBeNull();
    expect(apiTokenProblem("")).toBe("Enter the token.");
    expect(apiTokenProblem("tökén")).toMatch(/visible ASCII/);
    expect(apiTokenProblem("two\nlines")).toMatch(/visible ASCII/);
  });
});
