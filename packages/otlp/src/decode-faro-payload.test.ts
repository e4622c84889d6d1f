import { describe, expect, it } from "vitest";
import { decodeFaroPayload, FaroDecodeError, pageRouteOf } from "./decode-faro-payload.ts";

const receivedAtMs = Date.parse("2026-11-27T12:00:00Z");
const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const spanId = "00f067aa0ba902b7";

const meta = {
  sdk: { name: "@grafana/faro-web-sdk", version: "2.12.1", integrations: [] },
  app: { name: "dm-web", version: "4.2.0", environment: "production", release: "r1" },
  user: { id: "user-42", email: "someone@example.com" },
  session: { id: "sess-abc", attributes: { isSampled: "true" } },
  page: {
    id: "p1",
    url: "https://chat.example/conversations/12345/messages/9f8e7d6c5b4a39281706?x=token#top",
  },
  browser: { name: "Chromium", version: "130", os: "Linux", mobile: false },
};

const fullPayload = {
  meta,
  logs: [
    {
      message: "hello",
      level: "info",
      context: { a: "b" },
      timestamp: "2026-11-27T11:59:00.000Z",
      trace: { trace_id: traceId, span_id: spanId },
    },
  ],
  exceptions: [
    {
      type: "TypeError",
      value: "Cannot read properties of undefined (reading 'send')",
      timestamp: "2026-11-27T11:59:01.000Z",
      stacktrace: {
        frames: [{ filename: "https://chat.example/app.js", function: "sendMessage", lineno: 10, colno: 5 }],
      },
      trace: { trace_id: traceId, span_id: spanId },
    },
  ],
  measurements: [
    { type: "web-vitals", values: { lcp: 1234.5, cls: 0.01 }, timestamp: "2026-11-27T11:59:02.000Z" },
  ],
  events: [
    {
      name: "faro.performance.navigation",
      domain: "browser",
      attributes: { pageLoadTime: "850", type: "navigate" },
      timestamp: "2026-11-27T11:58:59.000Z",
    },
    { name: "session_start", timestamp: "2026-11-27T11:58:58.000Z" },
  ],
  traces: {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "dm-web" } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId,
                name: "HTTP POST",
                kind: 3,
                startTimeUnixNano: "1795780740000000000",
                endTimeUnixNano: "1795780740120000000",
              },
            ],
          },
        ],
      },
    ],
  },
};

describe("decodeFaroPayload", () => {
  it("decodes every signal kind and makes browser spans for exceptions and page loads", () => {
    const payload = decodeFaroPayload(JSON.stringify(fullPayload), receivedAtMs);
    expect(payload.meta).toMatchObject({
      appName: "dm-web",
      appVersion: "4.2.0",
      appEnvironment: "production",
      sessionId: "sess-abc",
      userId: "user-42",
      pageRoute: "/conversations/:id/messages/:id",
    });
    expect(payload.logs).toHaveLength(1);
    expect(payload.measurements[0]?.values).toEqual(
      new Map([
        ["lcp", 1234.5],
        ["cls", 0.01],
      ]),
    );
    expect(payload.events.map((e) => e.name)).toEqual(["faro.performance.navigation", "session_start"]);
    expect(payload.traces?.spans).toHaveLength(1);
    expect(payload.traces?.spans[0]).toMatchObject({ traceId, spanId, kind: "client", name: "HTTP POST" });

    const [error, pageLoad] = payload.browserSpans;
    expect(payload.browserSpans).toHaveLength(2);
    expect(error).toMatchObject({
      kind: "browser",
      name: "/conversations/:id/messages/:id",
      statusCode: "error",
      traceId,
      parentSpanId: spanId,
      startTimeMs: Date.parse("2026-11-27T11:59:01.000Z"),
      resource: {
        serviceName: "dm-web",
        serviceVersion: "4.2.0",
        environment: "production",
        sdkLanguage: "webjs",
      },
      attributes: { userId: "user-42", sessionId: "sess-abc", platform: "web", errorType: "TypeError" },
      exception: { type: "TypeError", stack: "sendMessage (https://chat.example/app.js:10:5)" },
    });
    expect(error?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(pageLoad).toMatchObject({ statusCode: "unset", durationMs: 850, parentSpanId: null });
    expect(pageLoad?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(pageLoad?.endTimeUnixNano).toBe(BigInt(Date.parse("2026-11-27T11:58:59.000Z") + 850) * 1_000_000n);
  });

  it("gives a retried batch the same span ids, and different items different ones", () => {
    const a = decodeFaroPayload(JSON.stringify(fullPayload), receivedAtMs);
    const b = decodeFaroPayload(JSON.stringify(fullPayload), receivedAtMs + 5000);
    expect(b.browserSpans.map((s) => s.spanId)).toEqual(a.browserSpans.map((s) => s.spanId));
    expect(new Set(a.browserSpans.map((s) => s.spanId)).size).toBe(2);
  });

  it("throws only for non-JSON or a non-object top level", () => {
    for (const bad of ["", "{", "<html>", "[]", '"text"', "42", "null"]) {
      expect(() => decodeFaroPayload(bad, receivedAtMs)).toThrow(FaroDecodeError);
    }
    expect(decodeFaroPayload(new TextEncoder().encode("\uFEFF{}"), receivedAtMs).browserSpans).toEqual([]);
  });

  it("survives odd field values without throwing, with defaults", () => {
    const odd = {
      meta: "not an object",
      extra: { whatever: true },
      logs: [
        null,
        1,
        "x",
        { message: 42, level: {}, timestamp: "0001-01-01T00:00:00Z", trace: { trace_id: "abc", span_id: 7 } },
      ],
      exceptions: [
        { type: ["x"], value: null, timestamp: "", stacktrace: { frames: "nope" }, trace: "x" },
        {
          type: "E",
          value: "v",
          timestamp: 1795780740000,
          stacktrace: { frames: [null, { lineno: "7" }] },
          trace: { trace_id: "0".repeat(32) },
        },
      ],
      measurements: [{ type: "web-vitals", values: { a: Number.NaN, b: "12", c: 3, __proto__: 5 } }],
      events: [
        {
          name: "faro.performance.navigation",
          attributes: { pageLoadTime: "unknown" },
          timestamp: "yesterday",
        },
      ],
      traces: { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "xyz" }] }] }] },
    };
    const payload = decodeFaroPayload(JSON.stringify(odd), receivedAtMs);
    expect(payload.meta.appName).toBeNull();
    expect(payload.droppedItems).toBe(3);
    expect(payload.logs[0]).toMatchObject({
      timestampMs: receivedAtMs,
      level: "log",
      message: "",
      trace: { traceId: null, spanId: null },
    });
    expect(payload.exceptions[0]).toMatchObject({
      type: "Error",
      value: "",
      stack: null,
      timestampMs: receivedAtMs,
    });
    expect(payload.exceptions[1]).toMatchObject({
      timestampMs: 1795780740000,
      stack: "? (?)",
      trace: { traceId: null },
    });
    expect([...(payload.measurements[0]?.values.entries() ?? [])]).toEqual([["c", 3]]);
    expect(payload.browserSpans.map((s) => s.resource.serviceName)).toEqual([
      "unknown_service",
      "unknown_service",
      "unknown_service",
    ]);
    expect(payload.browserSpans[2]).toMatchObject({
      durationMs: 0,
      startTimeMs: receivedAtMs,
      name: "unknown_page",
    });
    expect(payload.traces).toBeNull();
    expect(payload.tracesError).toMatch(/trace/i);
  });

  it("caps lists, strings and stack frames, and cleans names used as series keys", () => {
    const many = {
      meta: { app: { name: `dm-web\u0000<script>${"x".repeat(500)}` }, session: { id: "s\r\n1" } },
      exceptions: Array.from({ length: 1500 }, (_, index) =>
        index === 0
          ? {
              type: "E",
              value: "v".repeat(100_000),
              stacktrace: {
                frames: Array.from({ length: 10_000 }, (_, i) => ({ function: `f${i}`, filename: "a.js" })),
              },
            }
          : { type: "E", value: "v" },
      ),
      logs: Array.from({ length: 100_000 }, () => ({})),
    };
    const payload = decodeFaroPayload(JSON.stringify(many), receivedAtMs);
    expect(payload.exceptions).toHaveLength(1000);
    expect(payload.logs).toHaveLength(1000);
    expect(payload.droppedItems).toBe(500 + 99_000);
    expect(payload.exceptions[0]?.value).toHaveLength(1024);
    expect(payload.exceptions[0]?.stack?.split("\n")).toHaveLength(5);
    expect(payload.meta.appName).toHaveLength(128);
    expect(payload.meta.appName).not.toContain("\u0000");
    expect(payload.meta.sessionId).toBe("s  1");
  });
});

describe("pageRouteOf", () => {
  it.each([
    ["https://chat.example/", "/"],
    ["https://chat.example/users/42/profile", "/users/:id/profile"],
    ["https://chat.example/c/550e8400-e29b-41d4-a716-446655440000?token=secret", "/c/:id"],
    ["https://chat.example/app#/threads/998877/view", "/threads/:id/view"],
    ["https://chat.example/u/someone@example.com", "/u/:id"],
    ["https://chat.example/t/AbCdEf0123456789xyz", "/t/:id"],
    ["javascript:alert(document.cookie)", "unknown_page"],
    ["data:text/html,<script>alert(1)</script>", "unknown_page"],
    ["not a url", "unknown_page"],
    [null, "unknown_page"],
  ])("%s → %s", (url, route) => {
    expect(pageRouteOf(url)).toBe(route);
  });

  it("keeps at most 12 segments", () => {
    expect(pageRouteOf(`https://a.example/${"a/".repeat(40)}`)).toBe(`/${"a/".repeat(12)}…`);
  });
});
