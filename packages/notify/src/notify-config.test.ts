import { describe, expect, it } from "vitest";
import { NotifyConfigError, notifyConfigRows, parseNotifyConfig } from "./notify-config.ts";

describe("parseNotifyConfig", () => {
  it("reads YAML with durations, env-referenced secrets and a default rule for an unrouted destination", () => {
    const config = parseNotifyConfig(`
publicUrl: https://faultline.example.com
recentWindow: 10m
destinations:
  - id: oncall
    kind: webhook
    url: http://127.0.0.1:9000/hook
    secretEnv: ONCALL_SECRET
  - id: pd
    kind: pagerduty
    routingKeyEnv: PD_ROUTING_KEY
rules:
  - id: pd-sev1
    destination: pd
    minSeverity: sev1
    services: ["identity*"]
mutes:
  - id: maint
    service: media
    from: 2026-12-06T10:00:00Z
    until: 2026-12-06T12:00:00Z
`);
    expect(config.recentWindow).toBe(600_000);
    expect(config.rules.map((rule) => rule.id)).toEqual(["pd-sev1", "oncall.all"]);
    const rows = notifyConfigRows(config);
    expect(rows.destinations[0]).toEqual({
      id: "oncall",
      kind: "webhook",
      name: "oncall",
      enabled: true,
      rateLimitPerMinute: 30,
      settings: { url: "http://127.0.0.1:9000/hook", secretEnv: "ONCALL_SECRET" },
    });
    expect(rows.mutes[0]).toMatchObject({
      service: "media",
      environment: null,
      startsAtMs: Date.parse("2026-12-06T10:00:00Z"),
    });
  });

  it("reports every problem with its path, and refuses secrets written inline", () => {
    const attempt = () =>
      parseNotifyConfig(
        JSON.stringify({
          destinations: [
            { id: "a", kind: "pagerduty", routingKeyEnv: "R0ut1ngK3y-value!" },
            { id: "b", kind: "email", to: ["not-an-address"] },
          ],
          rules: [{ id: "r", destination: "missing" }],
        }),
        "notify.json",
      );
    expect(attempt).toThrow(NotifyConfigError);
    expect(attempt).toThrow(/destinations\.0\.routingKeyEnv/);
    expect(attempt).toThrow(/destinations\.1\.to\.0/);
    expect(attempt).toThrow(/rules\.0\.destination: no destination with id missing/);
    expect(attempt).toThrow(/smtp: email destinations need an smtp section/);
    expect(() => parseNotifyConfig("destinations: [")).toThrow(/not valid YAML/);
  });
});
