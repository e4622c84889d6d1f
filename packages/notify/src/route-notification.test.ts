import { describe, expect, it } from "vitest";
import { parseRetryAfterMs, retryDelayMs } from "./retry-delay.ts";
import { type RoutableEvent, type RoutingRule, routeNotification } from "./route-notification.ts";

const now = Date.parse("2026-12-06T10:00:00Z");
const event: RoutableEvent = {
  kind: "opened",
  eventAtMs: now - 30_000,
  createdAtMs: now - 1_000,
  environment: "production",
  rootService: "identity",
  services: ["identity", "dm-api"],
  severity: "sev2",
  signal: "error_rate",
};
const rule = (overrides: Partial<RoutingRule>): RoutingRule => ({
  id: "r",
  destinationId: "d",
  environments: [],
  services: [],
  minSeverity: "sev4",
  signals: [],
  events: [],
  enabled: true,
  ...overrides,
});
const route = (
  rules: RoutingRule[],
  overrides: Partial<RoutableEvent> = {},
  mutes = [] as Parameters<typeof routeNotification>[0]["mutes"],
) =>
  routeNotification({
    event: { ...event, ...overrides },
    rules,
    enabledDestinationIds: new Set(["d", "e", "off-is-missing"]),
    mutes,
    nowMs: now,
  });

describe("routeNotification", () => {
  it("matches environment, service glob, severity, signal and event kind", () => {
    const rules = [
      rule({ id: "prod-identity", destinationId: "d", environments: ["production"], services: ["ident*"] }),
      rule({ id: "sev1-only", destinationId: "e", minSeverity: "sev1" }),
    ];
    expect(route(rules).deliveries).toEqual([{ destinationId: "d", status: "pending" }]);
    expect(route(rules, { severity: "sev1" }).deliveries.map((d) => d.destinationId)).toEqual(["d", "e"]);
    expect(route(rules, { environment: "staging" }).deliveries).toEqual([]);
    // The glob also matches an affected service, not only the root.
    expect(route([rule({ services: ["dm-*"] })]).deliveries).toHaveLength(1);
    expect(route([rule({ services: ["media"] })]).deliveries).toHaveLength(0);
    expect(route([rule({ signals: ["latency"] })]).deliveries).toHaveLength(0);
    expect(route([rule({ events: ["resolved"] })]).deliveries).toHaveLength(0);
    expect(route([rule({ enabled: false })]).deliveries).toHaveLength(0);
    expect(route([rule({ destinationId: "disabled" })]).deliveries).toHaveLength(0);
  });

  it("one delivery per destination however many rules match", () => {
    expect(route([rule({ id: "a" }), rule({ id: "b" })]).deliveries).toEqual([
      { destinationId: "d", status: "pending" },
    ]);
  });

  it("suppresses (records, does not send) while a mute on the environment or the root service is in force", () => {
    const mute = {
      id: "maint",
      environment: "production",
      service: "iden*",
      startsAtMs: now - 60_000,
      endsAtMs: now + 60_000,
      reason: "upgrade",
    };
    expect(route([rule({})], {}, [mute]).deliveries).toEqual([
      { destinationId: "d", status: "suppressed", note: "muted by maint (upgrade)" },
    ]);
    expect(route([rule({})], { rootService: "dm-api" }, [mute]).deliveries[0]?.status).toBe("pending");
    expect(route([rule({})], { environment: "staging" }, [mute]).deliveries[0]?.status).toBe("pending");
    expect(route([rule({})], {}, [{ ...mute, endsAtMs: now - 2_000 }]).deliveries[0]?.status).toBe("pending");
    expect(route([rule({})], {}, [{ ...mute, environment: null, service: null }]).deliveries[0]?.status).toBe(
      "suppressed",
    );
  });

  it("pages nobody for history (backfill, replays) or for events that waited past the queue age", () => {
    expect(route([rule({})], { eventAtMs: now - 16 * 60_000 })).toEqual({ routing: "stale", deliveries: [] });
    expect(route([rule({})], { eventAtMs: now - 14 * 60_000 }).routing).toBe("routed");
    expect(route([rule({})], { createdAtMs: now - 2 * 3_600_000, eventAtMs: now - 2 * 3_600_000 })).toEqual({
      routing: "expired",
      deliveries: [],
    });
  });
});

describe("backoff and rate limits", () => {
  it("doubles the delay per failure within [half, all] of the ceiling, capped", () => {
    const policy = { baseMs: 1000, maxMs: 10_000, maxAttempts: 5 };
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelayMs(n, policy, () => 0.999999))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(retryDelayMs(3, policy, () => 0)).toBe(2000);
  });

  it("reads Retry-After in seconds or as a date", () => {
    expect(parseRetryAfterMs("30", now)).toBe(30_000);
    expect(parseRetryAfterMs(new Date(now + 5_000).toUTCString(), now)).toBe(5_000);
    expect(parseRetryAfterMs("soon", now)).toBeNull();
  });
});
