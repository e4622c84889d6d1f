// @vitest-environment jsdom
import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startFaroWhenSettled } from "./start-faro.ts";

// startFaro's first step is asking the server where the receiver is; no receiver URL ends it there.
const configCalls = () => fetchMock.mock.calls.filter(([url]) => url === "/trpc/config.get").length;
const fetchMock = vi.fn(async (_url: string) => new Response(JSON.stringify({ result: { data: {} } })));

describe("startFaroWhenSettled", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal("fetch", fetchMock);
    vi.stubGlobal("__FARO_THROUGH_DEV_PROXY__", false);
    fetchMock.mockClear();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("waits for the first page's queries to settle, then starts once", async () => {
    const queryClient = new QueryClient();
    let answer: (value: string) => void = () => {};
    void queryClient.prefetchQuery({
      queryKey: ["board"],
      queryFn: () => new Promise<string>((resolve) => (answer = resolve)),
    });
    startFaroWhenSettled(queryClient);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(configCalls()).toBe(0);

    answer("rows");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(configCalls()).toBe(1);
    // Later queries settling start nothing again.
    await queryClient.fetchQuery({ queryKey: ["other"], queryFn: async () => 1 });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(configCalls()).toBe(1);
  });

  it("starts after 10 s at most when the queries never settle", async () => {
    const queryClient = new QueryClient();
    void queryClient.prefetchQuery({ queryKey: ["hung"], queryFn: () => new Promise<string>(() => {}) });
    startFaroWhenSettled(queryClient);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(configCalls()).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(configCalls()).toBe(1);
  });
});
