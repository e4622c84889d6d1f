/** A service of the simulated platform at the start of every story. */
export interface ServiceSpec {
  name: string;
  version: string;
  instances: number;
  /** Own work time per request: lognormal mean and standard deviation, ms. */
  latencyMs: readonly [number, number];
  /** Probability that any of its SERVER/CONSUMER spans fails on a healthy day. */
  baseErrorRate: number;
}

/** The platform: two gateways, the DM path, a shared session service and the fan-out behind the topic. */
export const platformServices: readonly ServiceSpec[] = [
  { name: "web-gateway", version: "5.3.1", instances: 4, latencyMs: [4, 2], baseErrorRate: 0.0008 },
  { name: "mobile-gateway", version: "4.18.0", instances: 4, latencyMs: [5, 2], baseErrorRate: 0.0008 },
  { name: "identity", version: "7.2.0", instances: 3, latencyMs: [2.5, 1], baseErrorRate: 0.0003 },
  { name: "dm-api", version: "3.41.2", instances: 4, latencyMs: [14, 6], baseErrorRate: 0.0015 },
  { name: "profile", version: "1.92.0", instances: 3, latencyMs: [9, 4], baseErrorRate: 0.001 },
  { name: "delivery-worker", version: "6.0.4", instances: 3, latencyMs: [5, 2], baseErrorRate: 0.001 },
  { name: "inbox", version: "2.15.3", instances: 3, latencyMs: [11, 5], baseErrorRate: 0.001 },
  { name: "notification", version: "9.4.1", instances: 3, latencyMs: [18, 9], baseErrorRate: 0.002 },
  { name: "media", version: "2.8.3", instances: 2, latencyMs: [45, 20], baseErrorRate: 0.002 },
];

/** The topic between dm-api (producer) and delivery-worker (consumer). */
export const dmTopic = "dm.messages";

/** Regions the instances and users are spread over. */
export const regions = ["us-east-1", "eu-west-1"] as const;

/** Client platforms and their share of users; web goes through web-gateway, the apps through mobile-gateway. */
export const clientPlatforms = [
  { platform: "web", gateway: "web-gateway", users: 40_000, weight: 0.4 },
  { platform: "ios", gateway: "mobile-gateway", users: 30_000, weight: 0.33 },
  { platform: "android", gateway: "mobile-gateway", users: 25_000, weight: 0.27 },
] as const;

/** The browser app (Faro) that web users load. */
export const browserApp = { name: "dm-web", version: "2026.11.3" } as const;
