/** A postmortem's review workflow: written, then reviewed, then published for everyone. */
export const postmortemStatuses = ["draft", "in_review", "published"] as const;
export type PostmortemStatus = (typeof postmortemStatuses)[number];

export const actionItemPriorities = ["high", "medium", "low"] as const;
export type ActionItemPriority = (typeof actionItemPriorities)[number];

export const actionItemStatuses = ["open", "in_progress", "done", "wont_do"] as const;
export type ActionItemStatus = (typeof actionItemStatuses)[number];

/** A recorded change (deploy, config push, flag flip, rollback) as a postmortem describes it. */
export interface PostmortemChange {
  id: string;
  service: string;
  version: string | null;
  previousVersion: string | null;
  kind: "deploy" | "config" | "rollback" | "feature_flag";
  startedAtMs: number;
  commit: string | null;
  description: string | null;
  author: string | null;
  url: string | null;
}

/** Requests and failures of one service over the incident window (its entry spans). */
export interface ServiceTraffic {
  service: string;
  requests: number;
  failed: number;
}

/**
 * Everything a postmortem draft is written from, read from storage at writing time. Times are event
 * time in ms since the epoch. Every string may come from telemetry or a CI system: untrusted.
 */
export interface PostmortemIncidentFacts {
  incident: {
    id: string;
    environment: string;
    title: string;
    severity: string;
    signal: string;
    rootService: string | null;
    startedAtMs: number;
    detectedAtMs: number;
    endedAtMs: number | null;
    acknowledgedAtMs: number | null;
    acknowledgedBy: string | null;
    services: string[];
    surfaces: string[];
    affectedUsers: number;
  };
  /** The change attribution named as the cause, with its evidence; null when unexplained. */
  cause: (PostmortemChange & { score: number; evidence: string[] }) | null;
  /** Ranked suspects, best first (the cause among them when there is one). */
  suspects: (PostmortemChange & { score: number; evidence: string[] })[];
  /** The incident's timeline: detection's events and people's notes (`author` set, possibly backdated). */
  events: { atMs: number; kind: string; message: string; author: string | null }[];
  /** Changes to the incident's services after it started (rollbacks, fixes), oldest first. */
  laterChanges: PostmortemChange[];
  /** Per-service traffic over [start, end or the writing time]; empty when no series were stored. */
  traffic: ServiceTraffic[];
}
