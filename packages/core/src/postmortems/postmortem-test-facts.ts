import type { PostmortemChange, PostmortemIncidentFacts } from "./postmortem-types.ts";

const t0 = Date.parse("2026-11-27T10:00:00Z");

/** Minutes after 2026-11-27 10:00 UTC, in ms. */
export const at = (minutes: number): number => t0 + minutes * 60_000;

export function testChange(overrides: Partial<PostmortemChange> = {}): PostmortemChange {
  return {
    id: "chg-config",
    service: "identity",
    version: null,
    previousVersion: null,
    kind: "config",
    startedAtMs: at(1),
    commit: null,
    description: null,
    author: null,
    url: null,
    ...overrides,
  };
}

/** The identity outage: a config push at 10:01, onset 10:02, detected 10:02:40, rollback 10:08, over 10:09. */
export function identityOutageFacts(
  overrides: Partial<PostmortemIncidentFacts> = {},
): PostmortemIncidentFacts {
  const cause = { ...testChange(), score: 0.91, evidence: ["errors on identity rose 40 s after the push"] };
  return {
    incident: {
      id: "inc-1",
      environment: "production",
      title: "identity: session validation errors",
      severity: "sev1",
      signal: "error_rate",
      rootService: "identity",
      startedAtMs: at(2),
      detectedAtMs: at(2) + 40_000,
      endedAtMs: at(9),
      acknowledgedAtMs: at(4),
      acknowledgedBy: "alice",
      services: ["identity", "dm-api", "profile"],
      surfaces: ["web", "ios", "android"],
      affectedUsers: 12_345,
    },
    cause,
    suspects: [
      cause,
      {
        ...testChange({ id: "chg-media", service: "media", kind: "deploy", version: "2.0.0" }),
        score: 0.1,
        evidence: [],
      },
    ],
    events: [
      {
        atMs: at(2) + 40_000,
        kind: "opened",
        message: "error rate of identity above baseline",
        author: null,
      },
      { atMs: at(3), kind: "note", message: "support reports DMs failing", author: "bob" },
      { atMs: at(9), kind: "recovered", message: "signals back to baseline", author: null },
    ],
    laterChanges: [testChange({ id: "chg-rollback", kind: "rollback", startedAtMs: at(8) })],
    traffic: [
      { service: "identity", requests: 20_000, failed: 11_000 },
      { service: "dm-api", requests: 8_000, failed: 4_000 },
    ],
    ...overrides,
  };
}
