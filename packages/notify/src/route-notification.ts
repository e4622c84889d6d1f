import picomatch from "picomatch";
import { type NotificationEventKind, notificationEventKinds } from "./notification-message.ts";

export const severities = ["sev1", "sev2", "sev3", "sev4"] as const;
export type Severity = (typeof severities)[number];

/** A routing rule: every non-empty criterion must match. */
export interface RoutingRule {
  id: string;
  destinationId: string;
  environments: readonly string[];
  /** Globs (picomatch) on the root service or any affected service. */
  services: readonly string[];
  /** The least severe severity that pages: sev2 matches sev1 and sev2. */
  minSeverity: Severity;
  signals: readonly string[];
  /** Event kinds; empty: all of them. */
  events: readonly string[];
  enabled: boolean;
}

/** A maintenance window on an environment and/or a service glob (null: any). Times in ms. */
export interface Mute {
  id: string;
  environment: string | null;
  service: string | null;
  startsAtMs: number;
  endsAtMs: number;
  reason: string;
}

/** What routing reads of an outbox event. Times in ms since the epoch. */
export interface RoutableEvent {
  kind: NotificationEventKind;
  /** Event time of the change. */
  eventAtMs: number;
  /** Wall clock when the change was recorded. */
  createdAtMs: number;
  environment: string;
  rootService: string | null;
  services: readonly string[];
  severity: Severity;
  signal: string;
}

export interface RoutingPolicy {
  /** Only changes whose event time was within this of the wall clock when recorded page. Default 15 min. */
  recentWindowMs: number;
  /** Events not routed within this long of being recorded are dropped (notifications enabled later must not page old news). Default 1 h. */
  maxQueueAgeMs: number;
  /**
   * How long an opening page waits, wall clock, so its first message carries the settled severity,
   * blast radius and cause; escalations and cause changes in that time are folded into it. Default 30 s.
   */
  openHoldMs: number;
  /**
   * How long detection's resolution waits, wall clock, before it pages: a reopening in that time
   * cancels both (a flapping signal pages nobody twice). Default 60 s.
   */
  resolveHoldMs: number;
}

export const defaultRoutingPolicy: RoutingPolicy = {
  recentWindowMs: 15 * 60_000,
  maxQueueAgeMs: 60 * 60_000,
  openHoldMs: 30_000,
  resolveHoldMs: 60_000,
};

/** Whether a change is recent enough to page (see RoutingPolicy.recentWindowMs). */
export function isRecentChange(
  event: Pick<RoutableEvent, "eventAtMs" | "createdAtMs">,
  policy: RoutingPolicy,
): boolean {
  return event.createdAtMs - event.eventAtMs <= policy.recentWindowMs;
}

/**
 * Whether a page should still wait (history never waits): an opening, so its first message carries
 * the settled severity, blast radius and cause; and a resolution detection declared (not a person's),
 * in case the incident flares up again at once.
 */
export function isOnHold(
  event: Pick<RoutableEvent, "kind" | "eventAtMs" | "createdAtMs"> & { actor: string | null },
  nowMs: number,
  policy: RoutingPolicy = defaultRoutingPolicy,
): boolean {
  const holdMs =
    event.kind === "opened"
      ? policy.openHoldMs
      : event.kind === "resolved" && event.actor === null
        ? policy.resolveHoldMs
        : 0;
  return holdMs > 0 && nowMs - event.createdAtMs < holdMs && isRecentChange(event, policy);
}

/** Event kinds an opening page folds in when they happen during its hold. */
export const foldedIntoOpening: ReadonlySet<string> = new Set(["escalated", "cause_changed"]);

export type RoutingDecision =
  | { routing: "stale" | "expired"; deliveries: [] }
  | {
      routing: "routed";
      deliveries: { destinationId: string; status: "pending" | "suppressed"; note?: string }[];
    };

const globCache = new Map<string, (value: string) => boolean>();
function globMatcher(glob: string): (value: string) => boolean {
  let matcher = globCache.get(glob);
  if (!matcher) {
    matcher = picomatch(glob, { nocase: false, dot: true });
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, matcher);
  }
  return matcher;
}

function matchesAny(glob: string, names: readonly string[]): boolean {
  const matcher = globMatcher(glob);
  return names.some((name) => matcher(name));
}

/** Whether a rule selects this event. */
export function ruleMatches(rule: RoutingRule, event: RoutableEvent): boolean {
  if (!rule.enabled) return false;
  if (rule.environments.length > 0 && !rule.environments.includes(event.environment)) return false;
  if (severities.indexOf(event.severity) > severities.indexOf(rule.minSeverity)) return false;
  if (rule.signals.length > 0 && !rule.signals.includes(event.signal)) return false;
  if (rule.events.length > 0 && !rule.events.includes(event.kind)) return false;
  if (rule.services.length > 0) {
    const names = [...(event.rootService ? [event.rootService] : []), ...event.services];
    if (!rule.services.some((glob) => matchesAny(glob, names))) return false;
  }
  return true;
}

/**
 * The mute in force for an event, if any: one whose window holds the moment the change was recorded and
 * whose environment and service glob match (the service glob is matched against the root service,
 * or every affected service when the root is unknown — a maintenance on identity silences incidents
 * rooted at identity, not the callers' incidents that merely touch it).
 */
export function activeMute(mutes: readonly Mute[], event: RoutableEvent): Mute | null {
  for (const mute of mutes) {
    if (event.createdAtMs < mute.startsAtMs || event.createdAtMs >= mute.endsAtMs) continue;
    if (mute.environment !== null && mute.environment !== event.environment) continue;
    if (mute.service !== null) {
      const names = event.rootService ? [event.rootService] : event.services;
      if (!matchesAny(mute.service, names)) continue;
    }
    return mute;
  }
  return null;
}

/**
 * Routes one incident change: history (an event time already older than the paging window when it
 * was recorded: backfill, replays) pages nobody; so does an event that waited longer than
 * `maxQueueAgeMs` to be routed. Otherwise every enabled destination with a matching rule gets one
 * delivery, `suppressed` (recorded, not sent) while a mute is in force.
 */
export function routeNotification(input: {
  event: RoutableEvent;
  rules: readonly RoutingRule[];
  enabledDestinationIds: ReadonlySet<string>;
  mutes: readonly Mute[];
  nowMs: number;
  policy?: RoutingPolicy;
}): RoutingDecision {
  const policy = input.policy ?? defaultRoutingPolicy;
  const { event } = input;
  if (event.createdAtMs - event.eventAtMs > policy.recentWindowMs)
    return { routing: "stale", deliveries: [] };
  if (input.nowMs - event.createdAtMs > policy.maxQueueAgeMs) return { routing: "expired", deliveries: [] };
  const destinations = new Set<string>();
  for (const rule of input.rules) {
    if (input.enabledDestinationIds.has(rule.destinationId) && ruleMatches(rule, event)) {
      destinations.add(rule.destinationId);
    }
  }
  const mute = activeMute(input.mutes, event);
  return {
    routing: "routed",
    deliveries: [...destinations].sort().map((destinationId) =>
      mute
        ? {
            destinationId,
            status: "suppressed" as const,
            note: `muted by ${mute.id}${mute.reason ? ` (${mute.reason})` : ""}`,
          }
        : { destinationId, status: "pending" as const },
    ),
  };
}

export { notificationEventKinds };
