import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultDetectionConfig } from "./detection-config.ts";
import type { ChangeCandidate } from "./detection-types.ts";
import { type IncidentEvidence, rankSuspects } from "./rank-suspects.ts";

const config = defaultDetectionConfig;
const step = config.stepMs;
const minute = 60_000;
const onset = Date.UTC(2026, 0, 5, 12);

/** Services by their place in the incident: root, another failing one, a neighbour, unrelated ones. */
const root = "root";
const failing = "caller";
const neighbour = "dep";
const unrelated = ["u1", "u2"] as const;
const allServices = [root, failing, neighbour, ...unrelated];

/** Constant traffic per service and version: spans and errors per 10 s bucket. */
type Traffic = Map<string, Map<string, { spans: number; errors: number }>>;

interface World {
  endedAtMs: number | null;
  failingBefore: ReadonlySet<string>;
  traffic: Traffic;
}

function evidenceOf(world: World, signal: IncidentEvidence["signal"] = "error_rate"): IncidentEvidence {
  const bucketsIn = (fromMs: number, toMs: number) =>
    Math.max(0, Math.ceil(toMs / step) - Math.floor(fromMs / step));
  return {
    environment: "production",
    startedAtMs: onset,
    endedAtMs: world.endedAtMs,
    rootService: root,
    signal,
    services: [root, failing],
    neighboursOfRoot: new Set([failing, neighbour]),
    versionCounts: (service, fromMs, toMs) => {
      const out = new Map<string, { spans: number; errors: number }>();
      const buckets = bucketsIn(fromMs, toMs);
      for (const [version, rate] of world.traffic.get(service) ?? []) {
        if (buckets > 0 && rate.spans > 0)
          out.set(version, { spans: rate.spans * buckets, errors: rate.errors * buckets });
      }
      return out;
    },
    versionBuckets: (service, fromMs, toMs) => {
      const out = new Map<string, { spans: number[]; errors: number[] }>();
      const buckets = bucketsIn(fromMs, toMs);
      for (const [version, rate] of world.traffic.get(service) ?? []) {
        out.set(version, {
          spans: Array.from({ length: buckets }, () => rate.spans),
          errors: Array.from({ length: buckets }, () => rate.errors),
        });
      }
      return out;
    },
    wasFailingBefore: (service) => world.failingBefore.has(service),
  };
}

const versions = ["1.0.0", "1.1.0", "2.0.0"] as const;

const trafficArb: fc.Arbitrary<Traffic> = fc
  .array(
    fc.record({
      service: fc.constantFrom(...allServices),
      version: fc.constantFrom(...versions),
      spans: fc.integer({ min: 0, max: 500 }),
      errorShare: fc.constantFrom(0, 0.001, 0.01, 0.05, 0.3, 0.9),
    }),
    { maxLength: 10 },
  )
  .map((rows) => {
    const traffic: Traffic = new Map();
    for (const row of rows) {
      const byVersion = traffic.get(row.service) ?? new Map();
      byVersion.set(row.version, { spans: row.spans, errors: Math.round(row.spans * row.errorShare) });
      traffic.set(row.service, byVersion);
    }
    return traffic;
  });

const worldArb: fc.Arbitrary<World> = fc.record({
  endedAtMs: fc.option(fc.integer({ min: 1, max: 120 }).map((minutes) => onset + minutes * minute)),
  failingBefore: fc.subarray([...allServices]).map((list) => new Set(list)),
  traffic: trafficArb,
});

/** Start times from 3 h before onset to 30 min after, on 1 s resolution (not bucket aligned). */
const startArb = fc.integer({ min: -3 * 3600, max: 1800 }).map((seconds) => onset + seconds * 1000);

const candidateArb = fc.record({
  service: fc.constantFrom(...allServices),
  version: fc.option(fc.constantFrom(...versions)),
  previousVersion: fc.option(fc.constantFrom(...versions)),
  kind: fc.constantFrom("deploy", "config", "rollback", "feature_flag") as fc.Arbitrary<
    ChangeCandidate["kind"]
  >,
  source: fc.constantFrom("api", "webhook", "telemetry") as fc.Arbitrary<ChangeCandidate["source"]>,
  startedAtMs: startArb,
});

const candidatesArb = fc
  .array(candidateArb, { maxLength: 8 })
  .map((list) =>
    list.map(
      (candidate, index): ChangeCandidate => ({ id: `c${index}`, environment: "production", ...candidate }),
    ),
  );

const runs = (seed: number, numRuns = 400) => ({ seed, numRuns });

describe("rankSuspects invariants", () => {
  it("never lists a change that started after onset (beyond one bucket of slack), nor blames it", () => {
    fc.assert(
      fc.property(candidatesArb, worldArb, (candidates, world) => {
        const { suspects, causeChangeId } = rankSuspects(candidates, evidenceOf(world), config);
        for (const suspect of suspects) expect(suspect.startedAtMs).toBeLessThanOrEqual(onset + step);
        const late = new Set(candidates.filter((c) => c.startedAtMs > onset + step).map((c) => c.id));
        for (const suspect of suspects) expect(late.has(suspect.changeId)).toBe(false);
        if (causeChangeId !== null) expect(late.has(causeChangeId)).toBe(false);
        // Everything in time is listed, once.
        const inTime = candidates.filter(
          (c) => c.startedAtMs <= onset + step && onset - c.startedAtMs <= config.attributionLookbackMs,
        );
        expect(suspects.map((s) => s.changeId).sort()).toEqual(inTime.map((c) => c.id).sort());
      }),
      runs(301),
    );
  });

  it("never ranks an unrelated service's change above the root service's with the same timing and no version evidence", () => {
    const pairArb = fc.record({
      startedAtMs: fc.integer({ min: -2 * 3600, max: 10 }).map((seconds) => onset + seconds * 1000),
      kind: fc.constantFrom("deploy", "config", "feature_flag") as fc.Arbitrary<ChangeCandidate["kind"]>,
      other: fc.constantFrom(...unrelated),
    });
    fc.assert(
      fc.property(candidatesArb, worldArb, pairArb, (candidates, world, pair) => {
        const base = {
          environment: "production",
          version: null,
          previousVersion: null,
          source: "api",
        } as const;
        const onRoot: ChangeCandidate = {
          ...base,
          id: "on-root",
          service: root,
          kind: pair.kind,
          startedAtMs: pair.startedAtMs,
        };
        const elsewhere: ChangeCandidate = {
          ...base,
          id: "elsewhere",
          service: pair.other,
          kind: pair.kind,
          startedAtMs: pair.startedAtMs,
        };
        const { suspects, causeChangeId } = rankSuspects(
          [...candidates, elsewhere, onRoot],
          evidenceOf(world),
          config,
        );
        const ids = suspects.map((suspect) => suspect.changeId);
        expect(ids.indexOf("on-root")).toBeGreaterThanOrEqual(0);
        expect(ids.indexOf("on-root")).toBeLessThan(ids.indexOf("elsewhere"));
        const rootScore = suspects.find((s) => s.changeId === "on-root")?.score ?? Number.NaN;
        const otherScore = suspects.find((s) => s.changeId === "elsewhere")?.score ?? Number.NaN;
        expect(rootScore).toBeGreaterThanOrEqual(otherScore);
        expect(causeChangeId).not.toBe("elsewhere");
      }),
      runs(302, 600),
    );
  });

  it("never names a change on a service unconnected to the incident the cause, whatever its version evidence", () => {
    fc.assert(
      fc.property(candidatesArb, worldArb, (candidates, world) => {
        const { causeChangeId } = rankSuspects(candidates, evidenceOf(world), config);
        const cause = candidates.find((candidate) => candidate.id === causeChangeId);
        if (cause) expect(unrelated).not.toContain(cause.service);
      }),
      runs(306, 1000),
    );
    // The sharp case: a bad canary on an unrelated service (its own errors 30% vs 0.5%) is no cause here.
    const world: World = {
      endedAtMs: null,
      failingBefore: new Set(),
      traffic: new Map([
        [
          "u1",
          new Map([
            ["1.0.0", { spans: 550, errors: 3 }],
            ["1.1.0", { spans: 50, errors: 15 }],
          ]),
        ],
      ]),
    };
    const canaryElsewhere: ChangeCandidate = {
      id: "u1-canary",
      environment: "production",
      service: "u1",
      version: "1.1.0",
      previousVersion: "1.0.0",
      kind: "deploy",
      source: "webhook",
      startedAtMs: onset - 4 * minute,
    };
    expect(rankSuspects([canaryElsewhere], evidenceOf(world), config).causeChangeId).toBeNull();
  });

  it("keeps that order when the unrelated service was rolled back as the incident ended", () => {
    const base = { environment: "production", version: null, previousVersion: null, source: "api" } as const;
    const at = onset - 60 * minute;
    const candidates: ChangeCandidate[] = [
      { ...base, id: "on-root", service: root, kind: "config", startedAtMs: at },
      { ...base, id: "elsewhere", service: "u1", kind: "config", startedAtMs: at },
      { ...base, id: "u1-rollback", service: "u1", kind: "rollback", startedAtMs: onset + 5 * minute },
    ];
    const world: World = { endedAtMs: onset + 8 * minute, failingBefore: new Set(), traffic: new Map() };
    const ids = rankSuspects(candidates, evidenceOf(world), config).suspects.map((s) => s.changeId);
    expect(ids.indexOf("on-root")).toBeLessThan(ids.indexOf("elsewhere"));
  });

  it("sets a cause only when the top score reaches the threshold with the margin, and then always", () => {
    fc.assert(
      fc.property(candidatesArb, worldArb, (candidates, world) => {
        const { suspects, causeChangeId } = rankSuspects(candidates, evidenceOf(world), config);
        for (const suspect of suspects) {
          expect(suspect.score).toBeGreaterThanOrEqual(0);
          expect(suspect.score).toBeLessThanOrEqual(1);
          expect(suspect.evidence.length).toBeGreaterThan(0);
        }
        for (let index = 1; index < suspects.length; index += 1) {
          expect(suspects[index - 1]?.score ?? 0).toBeGreaterThanOrEqual(suspects[index]?.score ?? 0);
        }
        const [top, second] = suspects;
        const confident =
          top !== undefined &&
          top.score >= config.causeThreshold &&
          (second === undefined || top.score - second.score >= config.causeMargin);
        expect(causeChangeId).toBe(confident ? (top?.changeId ?? null) : null);
      }),
      runs(303),
    );
  });

  it("does not depend on the order of the candidates", () => {
    fc.assert(
      fc.property(
        candidatesArb,
        worldArb,
        fc.integer({ min: 0, max: 1_000_000 }),
        (candidates, world, seed) => {
          const shuffled = [...candidates].sort(
            (a, b) =>
              ((Number(a.id.slice(1)) * 7919 + seed) % 101) - ((Number(b.id.slice(1)) * 7919 + seed) % 101),
          );
          expect(rankSuspects(shuffled, evidenceOf(world), config)).toEqual(
            rankSuspects(candidates, evidenceOf(world), config),
          );
        },
      ),
      runs(304, 200),
    );
  });
});

describe("rankSuspects: a 1-in-12 canary", () => {
  /** 12 instances at 50 spans per bucket each: 11 on 2.13.9 at `baseRate`, one on 2.14.0 at 30%. */
  const canaryTraffic = (baseRate: number): Traffic =>
    new Map([
      [
        root,
        new Map([
          ["2.13.9", { spans: 550, errors: Math.round(550 * baseRate) }],
          ["2.14.0", { spans: 50, errors: 15 }],
        ]),
      ],
    ]);
  const canary = (startedAtMs: number): ChangeCandidate => ({
    id: "canary",
    environment: "production",
    service: root,
    version: "2.14.0",
    previousVersion: "2.13.9",
    kind: "deploy",
    source: "webhook",
    startedAtMs,
  });

  it("is implicated by version evidence and is the cause against innocent changes elsewhere", () => {
    const innocentArb = fc
      .array(
        fc.record({
          service: fc.constantFrom(failing, neighbour, ...unrelated),
          kind: fc.constantFrom("deploy", "config", "feature_flag") as fc.Arbitrary<ChangeCandidate["kind"]>,
          version: fc.option(fc.constantFrom(...versions)),
          // Innocent changes earlier than the canary: closer in time would be a fair tie on timing alone.
          minutesBefore: fc.integer({ min: 10, max: 110 }),
        }),
        { maxLength: 6 },
      )
      .map((list) =>
        list.map(
          (candidate, index): ChangeCandidate => ({
            id: `innocent${index}`,
            environment: "production",
            service: candidate.service,
            version: candidate.version,
            previousVersion: null,
            kind: candidate.kind,
            source: "api",
            startedAtMs: onset - candidate.minutesBefore * minute,
          }),
        ),
      );
    fc.assert(
      fc.property(
        innocentArb,
        fc.constantFrom(0, 0.001, 0.005, 0.01),
        fc.integer({ min: 1, max: 30 }),
        (innocent, baseRate, leadMinutes) => {
          const world: World = {
            endedAtMs: null,
            failingBefore: new Set(),
            traffic: canaryTraffic(baseRate),
          };
          const { suspects, causeChangeId } = rankSuspects(
            [...innocent, canary(onset - leadMinutes * minute)],
            evidenceOf(world),
            config,
          );
          expect(suspects[0]?.changeId).toBe("canary");
          expect(suspects[0]?.evidence.some((line) => /higher on 2\.14\.0/.test(line))).toBe(true);
          expect(causeChangeId).toBe("canary");
        },
      ),
      runs(305, 200),
    );
  });

  it("is exonerated when the new version fails no more than the old", () => {
    const world: World = {
      endedAtMs: null,
      failingBefore: new Set(),
      traffic: new Map([
        [
          root,
          new Map([
            ["2.13.9", { spans: 550, errors: 55 }],
            ["2.14.0", { spans: 50, errors: 5 }],
          ]),
        ],
      ]),
    };
    const { suspects, causeChangeId } = rankSuspects([canary(onset - 2 * minute)], evidenceOf(world), config);
    expect(suspects[0]?.evidence.some((line) => /no higher/.test(line))).toBe(true);
    expect(causeChangeId).toBeNull();
  });
});

describe("rankSuspects by what failed", () => {
  it("clears a deploy with unchanged error rates of an error spike, not of a slowdown", () => {
    // The root's new version fails no more than the old one; a feature flag on a failing caller lands
    // at the same moment.
    const world: World = {
      endedAtMs: null,
      failingBefore: new Set(),
      traffic: new Map([
        [
          root,
          new Map([
            ["1.0.0", { spans: 200, errors: 1 }],
            ["1.1.0", { spans: 200, errors: 1 }],
          ]),
        ],
      ]),
    };
    const base = { environment: "production", previousVersion: "1.0.0", source: "api" } as const;
    const candidates: ChangeCandidate[] = [
      {
        ...base,
        id: "root-deploy",
        service: root,
        version: "1.1.0",
        kind: "deploy",
        startedAtMs: onset - minute,
      },
      {
        ...base,
        id: "caller-flag",
        service: failing,
        version: null,
        kind: "feature_flag",
        startedAtMs: onset - minute,
      },
    ];
    const spike = rankSuspects(candidates, evidenceOf(world, "error_rate"), config);
    expect(spike.suspects[0]?.changeId).toBe("caller-flag");
    expect(spike.suspects.find((s) => s.changeId === "root-deploy")?.evidence.join(" ")).toMatch(
      /no higher than on the other versions/,
    );
    const slowdown = rankSuspects(candidates, evidenceOf(world, "latency"), config);
    expect(slowdown.causeChangeId).toBe("root-deploy");
    expect(slowdown.suspects.find((s) => s.changeId === "root-deploy")?.evidence.join(" ")).not.toMatch(
      /no higher/,
    );
  });
});
