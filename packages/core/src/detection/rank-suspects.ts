import type { DetectionConfig } from "./detection-config.ts";
import type { ChangeCandidate, DetectorSignal, RankedSuspect } from "./detection-types.ts";
import { fitRolloutRate, fitRolloutTracking, type TrackingBucket } from "./rollout-tracking.ts";
import { type RateStratum, stratifiedRateTest, twoProportionTest } from "./two-proportion-test.ts";

/** What attribution may ask about an incident. */
export interface IncidentEvidence {
  environment: string;
  startedAtMs: number;
  endedAtMs: number | null;
  rootService: string | null;
  /** How the root service failed: errors, latency or throughput. */
  signal: DetectorSignal;
  services: readonly string[];
  neighboursOfRoot: ReadonlySet<string>;
  /** Spans and errors per version of `service` over [fromMs, toMs) (event time). */
  versionCounts(
    service: string,
    fromMs: number,
    toMs: number,
  ): Map<string, { spans: number; errors: number }>;
  /** The same per bucket: for each version, spans and errors of each bucket in [fromMs, toMs), aligned. */
  versionBuckets(
    service: string,
    fromMs: number,
    toMs: number,
  ): Map<string, { spans: number[]; errors: number[] }>;
  /** Whether `service` was already failing in the half hour before `beforeMs`. */
  wasFailingBefore(service: string, beforeMs: number): boolean;
}

type VersionVerdict = { kind: "implicates" | "exonerates" | "neutral"; line: string } | null;

/** Fewest spans on each side before version evidence is trusted. */
const minVersionSpans = 30;

/**
 * Ranks change events as causes of an incident (after Gandalf's time decay, spatial and veto terms,
 * and Kayenta's new-vs-old comparison):
 *
 * - **time**: only changes started before onset (one bucket of slack for rounding) and within the
 *   lookback; weight `exp(-Δ / decay)`;
 * - **position**: on the root service 1, on another failing service 0.6, next to the root in the graph
 *   0.5, elsewhere 0.1;
 * - **version evidence** (deploys and rollbacks with a version): errors on the new version against the
 *   other versions during the incident (two-proportion test; a p-value and a rate ratio), or, once the
 *   rollout is complete, against the service before the change — unless the new version ran clean
 *   before onset (then time, not version, tells them apart). A clear excess implicates the change
 *   whatever the other terms say; equal rates with enough traffic exonerate it;
 * - **rollout tracking** (a versioned change on another service): the root's error rate rising with
 *   the new version's share of that service's traffic, better than any single step explains it (see
 *   rollout-tracking.ts), implicates the change — a producer's schema breaking its consumers. Its own
 *   healthy versions then say nothing;
 * - **veto**: the same service was already failing before the change;
 * - **rollback**: errors stopped soon after the change was reverted.
 *
 * The top suspect becomes the cause only when its score reaches `causeThreshold` and leads the
 * runner-up by `causeMargin`; otherwise the cause is null: blaming an innocent change is worse than
 * saying "unexplained". A change after onset is never a suspect.
 */
export function rankSuspects(
  candidates: readonly ChangeCandidate[],
  incident: IncidentEvidence,
  config: Pick<
    DetectionConfig,
    | "stepMs"
    | "attributionLookbackMs"
    | "attributionDecayMs"
    | "causeThreshold"
    | "causeMargin"
    | "recoveryBuckets"
  >,
): {
  suspects: RankedSuspect[];
  causeChangeId: string | null;
  /**
   * The cause's service when its rollout tracks the incident's signal and it is not among the
   * incident's services (a producer whose lost messages starve a consumer): it belongs in the incident.
   */
  trackedCauseService: string | null;
} {
  const onset = incident.startedAtMs;
  const suspects: RankedSuspect[] = [];
  // Unrounded scores order the suspects: rounding to 3 decimals ties small scores (a vetoed root change
  // 2 h before onset and an unrelated one both show 0), and the id must not break such a tie.
  const rawScores = new Map<RankedSuspect, number>();
  const inRange = candidates.filter((change) => {
    const lead = onset - change.startedAtMs;
    return lead >= -config.stepMs && lead <= config.attributionLookbackMs;
  });
  const tracking = rolloutTrackingLines(inRange, incident, config);
  for (const change of inRange) {
    const lead = onset - change.startedAtMs;
    const evidence: string[] = [];
    const time = Math.exp(-Math.max(0, lead) / config.attributionDecayMs);
    evidence.push(`${describeChange(change)} ${describeLead(lead)}`);
    const position = positionOf(change.service, incident, evidence);
    let score = time * position;
    // The root's errors following this change's rollout implicate it like a failing new version of its
    // own (its own versions then say nothing: a producer breaking its consumer stays healthy itself).
    const tracked = tracking.get(change.id);
    const verdict: VersionVerdict = tracked
      ? { kind: "implicates", line: tracked }
      : versionVerdict(change, incident, config.stepMs);
    if (verdict?.kind === "implicates") {
      // Evidence ties a change to this incident only on a service in it or next to its root: a bad
      // canary (or a matching ramp) elsewhere is some other incident's cause, or coincidence.
      if (position > 0.1) score = 0.6 + 0.4 * score;
      evidence.push(verdict.line);
    } else if (verdict?.kind === "exonerates" && incident.signal === "error_rate") {
      // Equal error rates clear a change of an error spike only: they say nothing about a slowdown or
      // a stall (a slower search ranking fails nothing).
      score *= 0.15;
      evidence.push(verdict.line);
    } else if (verdict?.kind === "neutral") {
      evidence.push(verdict.line);
    }
    if (incident.rootService && incident.wasFailingBefore(incident.rootService, change.startedAtMs)) {
      score *= 0.2;
      evidence.push(`${incident.rootService} was already failing before this change`);
    }
    // An unrelated service's rollback landing as the incident ends is coincidence, not evidence (and its
    // bonus would lift an unrelated change above the root service's change of the same time).
    const rollback = position > 0.1 ? rollbackOf(change, candidates, incident) : null;
    if (rollback) {
      score = Math.min(1, score + 0.15);
      evidence.push(rollback);
    }
    const suspect: RankedSuspect = {
      changeId: change.id,
      service: change.service,
      version: change.version,
      kind: change.kind,
      startedAtMs: change.startedAtMs,
      score: Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000,
      evidence,
    };
    suspects.push(suspect);
    rawScores.set(suspect, Math.min(1, Math.max(0, score)));
  }
  // Ties break on the later change (closer to onset), then the id, so the order is deterministic.
  suspects.sort(
    (a, b) =>
      (rawScores.get(b) ?? b.score) - (rawScores.get(a) ?? a.score) ||
      b.startedAtMs - a.startedAtMs ||
      a.changeId.localeCompare(b.changeId),
  );
  const [top, second] = suspects;
  const confident =
    top !== undefined &&
    top.score >= config.causeThreshold &&
    (second === undefined || top.score - second.score >= config.causeMargin);
  const causeChangeId = confident && top ? top.changeId : null;
  const trackedCause = causeChangeId !== null && tracking.has(causeChangeId) ? top : undefined;
  const trackedCauseService =
    trackedCause && !incident.services.includes(trackedCause.service) ? trackedCause.service : null;
  return { suspects, causeChangeId, trackedCauseService };
}

function positionOf(service: string, incident: IncidentEvidence, evidence: string[]): number {
  if (service === incident.rootService) {
    evidence.push(`${service} is the root service of the incident`);
    return 1;
  }
  if (incident.services.includes(service)) {
    evidence.push(
      `${service} is failing too, but its errors are explained by ${incident.rootService ?? "another service"}`,
    );
    return 0.6;
  }
  if (incident.neighboursOfRoot.has(service)) {
    evidence.push(`${service} is next to ${incident.rootService ?? "the root"} in the call graph`);
    return 0.5;
  }
  evidence.push(`${service} is not connected to the failing services`);
  return 0.1;
}

function versionVerdict(change: ChangeCandidate, incident: IncidentEvidence, stepMs: number): VersionVerdict {
  if (change.version === null || (change.kind !== "deploy" && change.kind !== "rollback")) return null;
  const windowStart = Math.max(change.startedAtMs, incident.startedAtMs - 60_000);
  const windowEnd = Math.min(
    incident.endedAtMs ?? Number.POSITIVE_INFINITY,
    incident.startedAtMs + 15 * 60_000,
  );
  if (windowEnd <= windowStart) return null;
  const byVersion = incident.versionBuckets(change.service, windowStart, windowEnd);
  const fresh = byVersion.get(change.version);
  const freshSpans = fresh ? sum(fresh.spans) : 0;
  if (!fresh || freshSpans < minVersionSpans) return null;
  // New version against every other version, bucket by bucket (see stratifiedRateTest).
  const strata: RateStratum[] = fresh.spans.map((spans, index) => {
    let errorsB = 0;
    let spansB = 0;
    for (const [version, other] of byVersion) {
      if (version === change.version) continue;
      spansB += other.spans[index] ?? 0;
      errorsB += other.errors[index] ?? 0;
    }
    return { errorsA: fresh.errors[index] ?? 0, spansA: spans, errorsB, spansB };
  });
  const overlapping = strata.filter((stratum) => stratum.spansA > 0 && stratum.spansB > 0);
  const otherSpans = sum(overlapping.map((stratum) => stratum.spansB));
  if (otherSpans >= minVersionSpans && sum(overlapping.map((stratum) => stratum.spansA)) >= minVersionSpans) {
    const test = stratifiedRateTest(strata);
    return judgeVersions(change, test, "the other versions in the same minutes", freshSpans);
  }
  // The rollout is complete. Comparing with the service before the change is evidence only where the
  // service fails on its own (the root): a caller's errors rise with any outage below it, new version or not.
  if (change.service !== incident.rootService) return null;
  let before = { spans: 0, errors: 0 };
  for (const value of incident
    .versionCounts(change.service, change.startedAtMs - 30 * 60_000, change.startedAtMs)
    .values()) {
    before = { spans: before.spans + value.spans, errors: before.errors + value.errors };
  }
  if (before.spans < minVersionSpans) return null;
  // A new version that served plenty before onset with no more errors than before did not start this
  // on arrival: after a complete rollout every span is the new version's, so "new vs before" is just
  // "during the incident vs before it" and would implicate any deploy in the lookback.
  const early = incident
    .versionCounts(change.service, change.startedAtMs, incident.startedAtMs - stepMs)
    .get(change.version);
  if (early && early.spans >= 100) {
    const cleanTest = twoProportionTest(early.errors, early.spans, before.errors, before.spans);
    if (early.errors === 0 || cleanTest.ratio < 1.5) {
      return {
        kind: "neutral",
        line: `${change.version} served ${early.spans} spans before onset with no more errors than before the change (${percent(cleanTest.rateA)} vs ${percent(cleanTest.rateB)})`,
      };
    }
  }
  const test = twoProportionTest(sum(fresh.errors), freshSpans, before.errors, before.spans);
  return judgeVersions(change, test, `${change.service} before the change`, freshSpans);
}

function judgeVersions(
  change: ChangeCandidate,
  test: ReturnType<typeof twoProportionTest>,
  comparedWith: string,
  freshSpans: number,
): VersionVerdict {
  const ratePair = `${percent(test.rateA)} vs ${percent(test.rateB)}`;
  if (test.pValue < 1e-4 && test.ratio >= 2) {
    return {
      kind: "implicates",
      line: `errors ${formatRatio(test.ratio)}× higher on ${change.version} than on ${comparedWith} (${ratePair}, p ${formatP(test.pValue)})`,
    };
  }
  if (test.ratio < 1.5 && freshSpans >= 100) {
    return {
      kind: "exonerates",
      line: `error rate on ${change.version} no higher than on ${comparedWith} (${ratePair}, ${freshSpans} spans)`,
    };
  }
  return null;
}

/** Partial rollout buckets, log-likelihood margins and the rate ratio a tracking fit must reach. */
const tracking = { minPartialBuckets: 3, minGainOverStep: 10, minGainOverConstant: 20, minRatio: 2, lead: 5 };

/**
 * The one change (if any) whose rollout the root's error rate follows (see rollout-tracking.ts), with
 * its evidence line. Only versioned deploys and rollbacks on other services, whose rollout was under
 * way during the incident; when two rollouts explain it about equally, neither is named.
 */
function rolloutTrackingLines(
  candidates: readonly ChangeCandidate[],
  incident: IncidentEvidence,
  config: Pick<DetectionConfig, "stepMs" | "recoveryBuckets">,
): Map<string, string> {
  const root = incident.rootService;
  const out = new Map<string, string>();
  if (root === null) return out;
  // From before onset (detection may see a gradual fall only once it is deep) to when it stopped failing:
  // after the fault stops, the new version's share stays where it was while the signal recovers.
  const fromMs = incident.startedAtMs - 5 * 60_000;
  // (An incident ends only after `recoveryBuckets` normal ones.)
  const failingUntil =
    incident.endedAtMs === null
      ? Number.POSITIVE_INFINITY
      : incident.endedAtMs - config.recoveryBuckets * config.stepMs;
  const toMs = Math.min(failingUntil, incident.startedAtMs + 15 * 60_000);
  let rootBuckets: { spans: number[]; errors: number[] } | null = null;
  const fits: { change: ChangeCandidate; gain: number; line: string }[] = [];
  for (const change of candidates) {
    if (change.version === null || (change.kind !== "deploy" && change.kind !== "rollback")) continue;
    if (change.service === root) continue;
    const changed = incident.versionBuckets(change.service, fromMs, toMs);
    const fresh = changed.get(change.version);
    if (!fresh) continue;
    rootBuckets ??= totalsOf(incident.versionBuckets(root, fromMs, toMs));
    const totals = totalsOf(changed);
    const shareAt = (index: number): number | null => {
      const all = totals.spans[index] ?? 0;
      if (all === 0 || index >= judged) return null;
      return (fresh.spans[index] ?? 0) / all;
    };
    // The rollout and three minutes after it: that is where a tracking failure shows. Later buckets add
    // nothing but the fault's own end, which the new version outlives (a fix behind a flag, a rollback
    // of something else) and which would contradict a failure that did follow the rollout.
    let judged = rootBuckets.spans.length;
    for (let index = 0; index < judged; index++) {
      const all = totals.spans[index] ?? 0;
      if (all > 0 && (fresh.spans[index] ?? 0) / all >= 0.95) {
        judged = Math.min(judged, index + Math.round(plateauMs / config.stepMs));
        break;
      }
    }
    if (incident.signal === "throughput") {
      // A starving consumer: its rate falls as the change's new version takes over.
      const fit = fitRolloutRate(rootBuckets.spans.map((spans, index) => ({ spans, share: shareAt(index) })));
      if (fit && trackingHolds(fit) && fit.rateAtNew <= fit.rateAtOld / tracking.minRatio) {
        fits.push({
          change,
          gain: fit.gainOverStep,
          line: `${root}'s throughput falls with the rollout of ${change.service} ${change.version}: about ${fit.rateAtOld.toFixed(0)} spans a bucket on its old version's share of traffic, ${fit.rateAtNew.toFixed(0)} on the new one's (share ${percent(fit.shareRange[0])} → ${percent(fit.shareRange[1])}; fits better than any single step by ${fit.gainOverStep.toFixed(0)} log-likelihood units)`,
        });
      }
      continue;
    }
    if (incident.signal !== "error_rate") continue;
    const buckets: TrackingBucket[] = rootBuckets.spans.map((spans, index) => ({
      spans,
      errors: rootBuckets?.errors[index] ?? 0,
      share: shareAt(index),
    }));
    const fit = fitRolloutTracking(buckets);
    if (fit && trackingHolds(fit) && fit.rateAtNew >= tracking.minRatio * fit.rateAtOld) {
      fits.push({
        change,
        gain: fit.gainOverStep,
        line: `errors on ${root} follow the rollout of ${change.service} ${change.version}: ${percent(fit.rateAtOld)} of spans fail on its old version's share of traffic, ${percent(fit.rateAtNew)} on the new one's (share ${percent(fit.shareRange[0])} → ${percent(fit.shareRange[1])}; fits better than any single step by ${fit.gainOverStep.toFixed(0)} log-likelihood units)`,
      });
    }
  }
  fits.sort((a, b) => b.gain - a.gain);
  const [best, runnerUp] = fits;
  if (!best || (runnerUp && best.gain - runnerUp.gain < tracking.lead)) return out;
  out.set(best.change.id, best.line);
  return out;
}

/** How long after a rollout completes its tracking is still judged. */
const plateauMs = 3 * 60_000;

/** The margins every tracking fit must reach, whatever it tracks. */
function trackingHolds(fit: { partialBuckets: number; gainOverStep: number; gainOverConstant: number }) {
  return (
    fit.partialBuckets >= tracking.minPartialBuckets &&
    fit.gainOverStep >= tracking.minGainOverStep &&
    fit.gainOverConstant >= tracking.minGainOverConstant
  );
}

/** Spans and errors per bucket summed over versions. */
function totalsOf(byVersion: ReadonlyMap<string, { spans: number[]; errors: number[] }>): {
  spans: number[];
  errors: number[];
} {
  const spans: number[] = [];
  const errors: number[] = [];
  for (const version of byVersion.values()) {
    for (const [index, count] of version.spans.entries()) spans[index] = (spans[index] ?? 0) + count;
    for (const [index, count] of version.errors.entries()) errors[index] = (errors[index] ?? 0) + count;
  }
  return { spans, errors };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function rollbackOf(
  change: ChangeCandidate,
  candidates: readonly ChangeCandidate[],
  incident: IncidentEvidence,
): string | null {
  if (incident.endedAtMs === null || change.kind === "rollback") return null;
  for (const other of candidates) {
    if (other.service !== change.service || other.startedAtMs <= change.startedAtMs) continue;
    const reverts =
      other.kind === "rollback" ||
      (change.previousVersion !== null && other.version === change.previousVersion);
    if (!reverts || other.startedAtMs < incident.startedAtMs) continue;
    const after = incident.endedAtMs - other.startedAtMs;
    if (after >= 0 && after <= 10 * 60_000) {
      return `errors stopped ${describeMinutes(after)} after it was rolled back`;
    }
  }
  return null;
}

function describeChange(change: ChangeCandidate): string {
  const what =
    change.kind === "config"
      ? "config push"
      : change.kind === "feature_flag"
        ? "feature flag change"
        : change.kind === "rollback"
          ? "rollback"
          : change.source === "telemetry"
            ? "unreported deploy (seen in telemetry)"
            : "deploy";
  return `${what} of ${change.service}${change.version ? ` ${change.version}` : ""}`;
}

function describeLead(leadMs: number): string {
  if (leadMs < 0) return "started with the onset";
  return `started ${describeMinutes(leadMs)} before onset`;
}

function describeMinutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 6_000) / 10} min`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate < 0.01 ? 2 : 1)}%`;
}

function formatRatio(ratio: number): string {
  return ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1);
}

function formatP(p: number): string {
  return p < 1e-9 ? "< 1e-9" : `= ${p.toExponential(1)}`;
}
