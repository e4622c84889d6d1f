import type { MessagingPlatform } from "./messaging-platform.ts";

/** A change as a CI system reports it to `POST /api/v1/deploys`. */
export interface ChangeReport {
  service: string;
  version: string;
  kind: "deploy" | "config" | "rollback" | "feature_flag";
  description: string;
  commit: string;
  author: string;
}

/** One moment of a story: a change reported and applied to the platform. */
export interface StoryStep {
  /** Seconds after the story's first step. */
  atSeconds: number;
  change: ChangeReport;
  apply(platform: MessagingPlatform): void;
}

/** A scripted sequence of changes over steady traffic. */
export interface Story {
  name: StoryName;
  /** What a viewer should look for, printed when the story starts. */
  watchFor: string;
  /** Seconds from the first step until the story's traffic ends (recovery included). */
  durationSeconds: number;
  steps: StoryStep[];
}

export const storyNames = ["identity-outage", "dm-canary"] as const;
export type StoryName = (typeof storyNames)[number];

/**
 * The stories. `round` makes each telling's versions new (a loop deploys media 2.9.1, then 2.9.2, …),
 * as a real fleet's would be.
 */
export function buildStory(name: StoryName, round = 0): Story {
  return name === "identity-outage" ? identityOutage(round) : dmCanary(round);
}

/**
 * An innocent media deploy, then a config push to identity (the session service every DM and profile
 * request validates against) that makes 55 % of validations fail: sending and receiving DMs and
 * viewing profiles break on web and mobile at once. A rollback of the config recovers.
 */
function identityOutage(round: number): Story {
  const mediaVersion = `2.9.${round}`;
  return {
    name: "identity-outage",
    watchFor:
      "an innocent media deploy, then a config push to identity that breaks DMs and profile views on web and " +
      "mobile; Faultline opens ONE incident rooted at identity and names the config push as its cause",
    durationSeconds: 465,
    steps: [
      {
        atSeconds: 0,
        change: {
          service: "media",
          version: mediaVersion,
          kind: "deploy",
          description: "media: faster thumbnail encoder",
          commit: `7c1e${round}a9`,
          author: "ci-bot",
        },
        apply: (platform) => platform.setVersion("media", mediaVersion),
      },
      {
        // Soon after the innocent deploy, so a fresh `npm start` reaches the outage quickly; attribution
        // must still tell the two apart.
        atSeconds: 15,
        change: {
          service: "identity",
          version: "7.2.0",
          kind: "config",
          description: "session-policy v43: rotate the token signing key set",
          commit: `c0f1${round}43`,
          author: "platform-config",
        },
        apply: (platform) =>
          platform.addFault("identity-config", {
            service: "identity",
            errorRate: 0.55,
            errorType: "UNAVAILABLE",
            message: "session validation failed: signing key set 2026-11 not found",
          }),
      },
      {
        atSeconds: 315,
        change: {
          service: "identity",
          version: "7.2.0",
          kind: "rollback",
          description: "revert session-policy to v42",
          commit: `c0f1${round}42`,
          author: "on-call",
        },
        apply: (platform) => platform.removeFault("identity-config"),
      },
    ],
  };
}

/** A dm-api canary on one of four instances fails half of its message sends and reads; rolled back. */
function dmCanary(round: number): Story {
  const canary = `3.42.${round}`;
  const stable = "3.41.2";
  const paths = ["POST /v1/dm/messages", "GET /v1/dm/conversations/{id}/messages"];
  return {
    name: "dm-canary",
    watchFor:
      `a dm-api canary (${canary}) on one instance fails half of its requests; Faultline opens an incident on ` +
      `dm-api and names version ${canary} as its cause`,
    durationSeconds: 420,
    steps: [
      {
        atSeconds: 0,
        change: {
          service: "dm-api",
          version: canary,
          kind: "deploy",
          description: `dm-api ${canary} canary (1 of 4 instances): new message store client`,
          commit: `d4a2${round}e7`,
          author: "ci-bot",
        },
        apply: (platform) => {
          platform.setVersion("dm-api", canary, 1);
          platform.addFault("dm-canary", {
            service: "dm-api",
            version: canary,
            operations: paths,
            errorRate: 0.5,
            errorType: "500",
            message: "message store client: connection pool exhausted",
          });
        },
      },
      {
        atSeconds: 240,
        change: {
          service: "dm-api",
          version: stable,
          kind: "rollback",
          description: `roll the canary back to ${stable}`,
          commit: "b81f0c2",
          author: "on-call",
        },
        apply: (platform) => {
          platform.setVersion("dm-api", stable, 1);
          platform.removeFault("dm-canary");
        },
      },
    ],
  };
}
