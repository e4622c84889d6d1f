import { type DbHandle, type IncidentRecord, recordChangeEvent, saveIncident } from "@faultline/db";

/** The period the fixture's report covers: one day of production. */
export const fixturePeriod = {
  environment: "production",
  from: "2026-11-27T00:00:00Z",
  to: "2026-11-28T00:00:00Z",
} as const;

/** Ids the seeding produced, for assertions. */
export interface SeededCorrelationFixture {
  failingDeploy: string;
  innocentDeploy: string;
  rollback: string;
  configPush: string;
  inferredDeploy: string;
  beforePeriod: string;
}

/**
 * Test support: seeds a day of changes and incidents whose report numbers are known by hand.
 *
 * Changes in the period: a failing authz deploy (causes two incidents), an innocent search deploy
 * (a low-ranked suspect), the authz rollback, a failing identity config push, and a dm-api version
 * seen first in telemetry (an inferred deploy, suspect of an unexplained incident). Also a change the
 * evening before (a suspect, not in the period's list) and a staging deploy and incident (other
 * environment, never in the report).
 *
 * Expected: 4 changes (the rollback is left out), 2 failed (authz once despite two incidents, the
 * config push), rate 0.5; 4 incidents, 3 with a cause; time to detect 20, 40, 60, 120 s → median 50;
 * time to recover 600, 900, 1800 s (the open incident has none) → median 900.
 */
export async function seedCorrelationReportFixture(handle: DbHandle): Promise<SeededCorrelationFixture> {
  const change = async (
    service: string,
    version: string | null,
    kind: "deploy" | "config" | "rollback" | "feature_flag",
    source: "api" | "webhook" | "telemetry",
    startedAt: string,
    environment = "production",
  ) =>
    (
      await recordChangeEvent(handle.db, {
        environment,
        service,
        version,
        kind,
        source,
        startedAt: new Date(startedAt),
        finishedAt: source === "telemetry" ? null : new Date(Date.parse(startedAt) + 120_000),
        idempotencyKey: `${environment}:${service}:${version}:${kind}:${startedAt}`,
      })
    ).id;
  const failingDeploy = await change("authz", "2.14.0", "deploy", "api", "2026-11-27T10:03:00Z");
  const innocentDeploy = await change("search", "1.2.0", "deploy", "webhook", "2026-11-27T09:00:00Z");
  const rollback = await change("authz", "2.13.9", "rollback", "api", "2026-11-27T10:20:00Z");
  const configPush = await change("identity", null, "config", "api", "2026-11-27T14:00:00Z");
  const inferredDeploy = await change("dm-api", "3.1.0", "deploy", "telemetry", "2026-11-27T16:00:00Z");
  const beforePeriod = await change("gateway", "9.0.0", "deploy", "api", "2026-11-26T23:30:00Z");
  const stagingDeploy = await change("authz", "2.15.0", "deploy", "api", "2026-11-27T08:00:00Z", "staging");

  const incident = (
    id: string,
    start: string,
    detectSeconds: number,
    recoverSeconds: number | null,
    rest: Partial<IncidentRecord>,
  ): IncidentRecord => ({
    id,
    environment: "production",
    title: `Errors on ${id}`,
    status: recoverSeconds === null ? "open" : "resolved",
    severity: "sev2",
    signal: "error_rate",
    rootService: "authz",
    startedAtMs: Date.parse(start),
    detectedAtMs: Date.parse(start) + detectSeconds * 1000,
    endedAtMs: recoverSeconds === null ? null : Date.parse(start) + recoverSeconds * 1000,
    services: ["dm-api", "authz"],
    surfaces: ["backend"],
    affectedUsers: 100,
    causeChangeId: null,
    suspects: [],
    events: [],
    ...rest,
  });
  await saveIncident(
    handle,
    incident("inc_login", "2026-11-27T10:06:00Z", 40, 900, {
      title: "Login failing on dm-api",
      affectedUsers: 1204,
      causeChangeId: failingDeploy,
      suspects: [
        { changeId: failingDeploy, score: 0.92, evidence: ["errors 41× higher on 2.14.0 than on 2.13.9"] },
        { changeId: innocentDeploy, score: 0.12, evidence: ["deployed 66 min before onset"] },
        { changeId: beforePeriod, score: 0.05, evidence: ["deployed 10 h before onset"] },
      ],
    }),
  );
  await saveIncident(
    handle,
    incident("inc_tokens", "2026-11-27T10:40:00Z", 60, 600, {
      services: ["token-issuer", "authz"],
      causeChangeId: failingDeploy,
      suspects: [{ changeId: failingDeploy, score: 0.81, evidence: ["token-issuer calls authz"] }],
    }),
  );
  await saveIncident(
    handle,
    incident("inc_sessions", "2026-11-27T14:05:00Z", 20, 1800, {
      rootService: "identity",
      services: ["identity"],
      signal: "throughput",
      causeChangeId: configPush,
      suspects: [{ changeId: configPush, score: 0.77, evidence: ["pushed 5 min before onset"] }],
    }),
  );
  await saveIncident(
    handle,
    incident("inc_unexplained", "2026-11-27T16:30:00Z", 120, null, {
      rootService: "dm-api",
      services: ["dm-api"],
      signal: "latency",
      suspects: [{ changeId: inferredDeploy, score: 0.3, evidence: ["deployed 30 min before onset"] }],
    }),
  );
  await saveIncident(handle, {
    ...incident("inc_staging", "2026-11-27T08:05:00Z", 10, 100, { causeChangeId: stagingDeploy }),
    environment: "staging",
    suspects: [{ changeId: stagingDeploy, score: 0.9, evidence: [] }],
  });
  return { failingDeploy, innocentDeploy, rollback, configPush, inferredDeploy, beforePeriod };
}
