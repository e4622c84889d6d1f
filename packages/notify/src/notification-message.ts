/** The incident changes that page (mirrors the outbox's event kinds). */
export const notificationEventKinds = [
  "opened",
  "escalated",
  "cause_changed",
  "resolved",
  "reopened",
  "acknowledged",
] as const;
export type NotificationEventKind = (typeof notificationEventKinds)[number];

/** A change named as the cause or top suspect, with the evidence behind it. Times in ms. */
export interface MessageChange {
  changeId: string;
  service: string;
  version: string | null;
  kind: string;
  description: string | null;
  author: string | null;
  url: string | null;
  startedAtMs: number;
  score: number | null;
  evidence: string[];
}

/** Everything every format needs, whatever the destination. Times in ms since the epoch. */
export interface NotificationMessage {
  /** Stable per (incident, event, destination): the receivers' dedup key for the one retry window. */
  idempotencyKey: string;
  event: NotificationEventKind;
  eventAtMs: number;
  actor: string | null;
  incident: {
    id: string;
    url: string;
    title: string;
    environment: string;
    status: string;
    severity: "sev1" | "sev2" | "sev3" | "sev4";
    signal: string;
    rootService: string | null;
    services: string[];
    surfaces: string[];
    affectedUsers: number;
    startedAtMs: number;
    detectedAtMs: number;
    endedAtMs: number | null;
  };
  /** The change attribution is confident caused it, if any. */
  cause: MessageChange | null;
  /** The best-ranked suspect (the cause when there is one). */
  topSuspect: MessageChange | null;
  /** A test a person sent from the notifications page: no incident behind it. */
  test?: true;
}

const text = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);
const num = (value: unknown, fallback = 0): number =>
  typeof value === "number" && Number.isFinite(value) ? value : fallback;
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

function changeOf(value: unknown): MessageChange | null {
  if (value === null || typeof value !== "object") return null;
  const change = value as Record<string, unknown>;
  return {
    changeId: text(change.changeId),
    service: text(change.service),
    version: typeof change.version === "string" ? change.version : null,
    kind: text(change.kind, "deploy"),
    description: typeof change.description === "string" ? change.description : null,
    author: typeof change.author === "string" ? change.author : null,
    url: typeof change.url === "string" ? change.url : null,
    startedAtMs: num(change.startedAtMs),
    score: typeof change.score === "number" ? change.score : null,
    evidence: strings(change.evidence),
  };
}

/**
 * Builds the message from an outbox event's incident snapshot. `publicUrl` is where people open the
 * UI (no trailing slash needed); the incident link is `<publicUrl>/incidents/<id>`.
 */
export function buildNotificationMessage(input: {
  idempotencyKey: string;
  event: NotificationEventKind;
  eventAtMs: number;
  actor: string | null;
  incidentId: string;
  snapshot: Record<string, unknown>;
  publicUrl: string;
}): NotificationMessage {
  const snapshot = input.snapshot;
  const severity = text(snapshot.severity, "sev4");
  return {
    idempotencyKey: input.idempotencyKey,
    event: input.event,
    eventAtMs: input.eventAtMs,
    actor: input.actor,
    incident: {
      id: input.incidentId,
      url: `${input.publicUrl.replace(/\/+$/, "")}/incidents/${encodeURIComponent(input.incidentId)}`,
      title: text(snapshot.title, input.incidentId),
      environment: text(snapshot.environment),
      status: text(snapshot.status, "open"),
      severity: (["sev1", "sev2", "sev3", "sev4"].includes(severity)
        ? severity
        : "sev4") as NotificationMessage["incident"]["severity"],
      signal: text(snapshot.signal),
      rootService: typeof snapshot.rootService === "string" ? snapshot.rootService : null,
      services: strings(snapshot.services),
      surfaces: strings(snapshot.surfaces),
      affectedUsers: num(snapshot.affectedUsers),
      startedAtMs: num(snapshot.startedAtMs),
      detectedAtMs: num(snapshot.detectedAtMs),
      endedAtMs: typeof snapshot.endedAtMs === "number" ? snapshot.endedAtMs : null,
    },
    cause: changeOf(snapshot.cause),
    topSuspect: changeOf(snapshot.topSuspect),
  };
}

/**
 * The message "send test" delivers: shaped like an opening page (so the receiver sees the real format,
 * signature and headers) but marked as a test, with a title that says so and a link to the
 * notifications page. The idempotency key is new for each test, so a receiver's dedup never drops one.
 */
export function buildTestNotificationMessage(input: {
  destinationId: string;
  nowMs: number;
  publicUrl: string;
  actor: string | null;
}): NotificationMessage {
  const base = input.publicUrl.replace(/\/+$/, "");
  return {
    idempotencyKey: `test/${input.destinationId}/${input.nowMs}`,
    event: "opened",
    eventAtMs: input.nowMs,
    actor: input.actor,
    incident: {
      id: "test",
      url: `${base}/notifications`,
      title: "Test message from Faultline (no incident)",
      environment: "test",
      status: "open",
      severity: "sev4",
      signal: "error_rate",
      rootService: null,
      services: [],
      surfaces: [],
      affectedUsers: 0,
      startedAtMs: input.nowMs,
      detectedAtMs: input.nowMs,
      endedAtMs: null,
    },
    cause: null,
    topSuspect: null,
    test: true,
  };
}

/** "config push to identity", "deploy of dm-api 3.42.0": how a change is named in a message. */
export function describeChange(change: MessageChange): string {
  const what =
    change.kind === "config"
      ? "config push to"
      : change.kind === "feature_flag"
        ? "feature flag flip on"
        : change.kind === "rollback"
          ? "rollback of"
          : "deploy of";
  return `${what} ${change.service}${change.version ? ` ${change.version}` : ""}`;
}

const eventHeadlines: Record<NotificationEventKind, string> = {
  opened: "Incident opened",
  escalated: "Incident escalated",
  cause_changed: "Cause identified",
  resolved: "Incident resolved",
  reopened: "Incident reopened",
  acknowledged: "Incident acknowledged",
};

/** One line that says what happened, for subjects, summaries and notification previews. */
export function summarizeMessage(message: NotificationMessage): string {
  const { incident } = message;
  const who =
    message.actor && (message.event === "acknowledged" || message.event === "resolved")
      ? ` by ${message.actor}`
      : "";
  const root = incident.rootService ? ` on ${incident.rootService}` : "";
  return `[${incident.severity.toUpperCase()}] ${eventHeadlines[message.event]}${who}: ${incident.title}${root}`;
}

/** The sentence about the cause: the confident cause, else the top suspect, else that none explains it. */
export function describeSuspicion(message: NotificationMessage): { line: string; evidence: string | null } {
  if (message.cause) {
    return { line: `Cause: ${describeChange(message.cause)}`, evidence: message.cause.evidence[0] ?? null };
  }
  if (message.topSuspect) {
    const score = message.topSuspect.score === null ? "" : ` (score ${message.topSuspect.score.toFixed(2)})`;
    return {
      line: `Top suspect: ${describeChange(message.topSuspect)}${score}`,
      evidence: message.topSuspect.evidence[0] ?? null,
    };
  }
  return { line: "No change explains this yet", evidence: null };
}
