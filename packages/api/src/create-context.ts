import type { DbHandle } from "@faultline/db";
import type { TestSendOutcome } from "@faultline/notify";

/** Settings of `faultline serve` the UI needs to see or the routers need to act on. */
export interface ApiConfig {
  /** Environment the UI shows when it does not name one. */
  defaultEnvironment: string;
  /**
   * Link to a trace in the team's trace viewer, `{traceId}` replaced by the trace id, e.g.
   * `http://localhost:16686/trace/{traceId}` (Jaeger) or a Grafana Explore URL for Tempo. Null: no links.
   */
  traceUrlTemplate: string | null;
  /** Where the UI's own Faro SDK reports (Faultline's receiver, `<otlp http url>/collect`). Null: off. */
  faroCollectorUrl: string | null;
}

/**
 * The running delivery worker, as far as the API needs it: the notifications page's "send test" goes
 * through it, so a test uses the same transport, secrets and timeout as real pages.
 */
export interface NotificationTester {
  /** Null when there is no such destination. */
  sendTest(destinationId: string, actor: string | null): Promise<TestSendOutcome | null>;
}

/**
 * Checks an `Authorization` header value against the server's API token (`--token`). The server
 * passes the same constant-time verifier its REST writes and receivers use, so this package compares
 * no secrets itself.
 */
export type WriteTokenVerifier = (authorization: string | undefined) => boolean;

/** What every procedure gets: the database, a clock (ms since the epoch) and the serve settings. */
export interface ApiContext {
  db: DbHandle;
  clock: () => number;
  config: ApiConfig;
  /**
   * The acting person's name, from the `x-faultline-user` request header (the UI stores it locally).
   * There is no authentication yet: this is attribution for the timeline, not access control.
   */
  actor: string | null;
  /** Null when this process runs no delivery worker. */
  notifier: NotificationTester | null;
  /**
   * Whether this request may change anything: true when no token is configured, else whether its
   * `Authorization: Bearer` header carries the token. A function, so only mutations pay for the check.
   */
  mayWrite: () => boolean;
}

export interface CreateContextOptions {
  db: DbHandle;
  clock?: () => number;
  config?: Partial<ApiConfig>;
  /** Request headers, when called over HTTP. */
  headers?: Record<string, string | string[] | undefined>;
  notifier?: NotificationTester | null;
  /**
   * The server's token check; null or absent when no token is configured (writes open, which the CLI
   * allows only on a loopback address).
   */
  verifyWriteToken?: WriteTokenVerifier | null;
}

export const actorHeader = "x-faultline-user";

export function createContext(options: CreateContextOptions): ApiContext {
  return {
    db: options.db,
    clock: options.clock ?? Date.now,
    config: {
      defaultEnvironment: options.config?.defaultEnvironment ?? "production",
      traceUrlTemplate: options.config?.traceUrlTemplate ?? null,
      faroCollectorUrl: options.config?.faroCollectorUrl ?? null,
    },
    actor: actorFrom(options.headers?.[actorHeader]),
    notifier: options.notifier ?? null,
    mayWrite: mayWriteCheck(options.verifyWriteToken ?? null, options.headers?.authorization),
  };
}

function mayWriteCheck(
  verify: WriteTokenVerifier | null,
  authorization: string | string[] | undefined,
): () => boolean {
  if (verify === null) return () => true;
  // Node joins repeated headers except Authorization, which it keeps once; an array is never valid.
  const header = typeof authorization === "string" ? authorization : undefined;
  return () => verify(header);
}

function actorFrom(value: string | string[] | undefined): string | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  // The UI sends the name URI-encoded so any Unicode name survives an HTTP header.
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = raw;
  }
  const trimmed = decoded.trim().slice(0, 100);
  return trimmed === "" ? null : trimmed;
}
