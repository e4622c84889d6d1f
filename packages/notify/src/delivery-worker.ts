import { randomUUID } from "node:crypto";
import {
  type ClaimedDelivery,
  claimDelivery,
  completeDelivery,
  type DbHandle,
  type DeliveryOutcome,
  listDueDeliveries,
  listUnroutedNotificationEvents,
  loadNotificationConfig,
  routeNotificationEvent,
} from "@faultline/db";
import { buildNotificationMessage, buildTestNotificationMessage } from "./notification-message.ts";
import {
  createNotificationTransport,
  type NotificationTransport,
  type SendResult,
  type SmtpSettings,
} from "./notification-transport.ts";
import { type BackoffPolicy, defaultBackoffPolicy, retryDelayMs } from "./retry-delay.ts";
import {
  defaultRoutingPolicy,
  foldedIntoOpening,
  isOnHold,
  isRecentChange,
  type RoutingPolicy,
  routeNotification,
  type Severity,
} from "./route-notification.ts";

export interface NotifyLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

const silentLogger: NotifyLogger = { info() {}, warn() {}, error() {} };

export interface DeliveryWorkerOptions {
  db: DbHandle;
  /** Where people open the UI; incident links are `<publicUrl>/incidents/<id>`. */
  publicUrl: string;
  /** Secrets named by `*Env` settings are read here. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Wall clock, ms since the epoch. */
  clock?: () => number;
  logger?: NotifyLogger;
  /** This worker's name on the leases it takes. Default a random UUID per worker. */
  owner?: string;
  /** How often the outbox is polled, ms. Default 1000. */
  pollMs?: number;
  /** Longest wait for one receiver, ms. Default 10 s. */
  timeoutMs?: number;
  /** How long a claim holds before another worker may take it over, ms. Default 3 × timeout. */
  leaseMs?: number;
  backoff?: Partial<BackoffPolicy>;
  routing?: Partial<RoutingPolicy>;
  smtp?: SmtpSettings | undefined;
  /** Injected for tests; default the real HTTP/SMTP transport. */
  transport?: NotificationTransport;
  random?: () => number;
}

/** What a test send came to, as the notifications page shows it. */
export type TestSendOutcome = SendResult & { destinationId: string; durationMs: number };

/** The idempotency key of one delivery, the same on every attempt: `<incident>/<event key>/<destination>`. */
export function deliveryIdempotencyKey(
  delivery: Pick<ClaimedDelivery, "incidentId" | "eventKey" | "destination">,
): string {
  return `${delivery.incidentId}/${delivery.eventKey}/${delivery.destination.id}`;
}

/**
 * Delivers the notification outbox: routes new events to destinations, then claims due deliveries
 * with a lease, sends them, and records the outcome (retrying with exponential backoff, within each
 * destination's rate limit). Several workers, or a restarted one, may run against one database:
 * claims are atomic, and a delivery whose worker died is taken over when its lease expires.
 */
export class DeliveryWorker {
  private readonly db: DbHandle;
  private readonly publicUrl: string;
  private readonly clock: () => number;
  private readonly logger: NotifyLogger;
  private readonly owner: string;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly routing: RoutingPolicy;
  private readonly transport: NotificationTransport;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(options: DeliveryWorkerOptions) {
    this.db = options.db;
    this.publicUrl = options.publicUrl;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.owner = options.owner ?? randomUUID();
    this.pollMs = options.pollMs ?? 1000;
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.leaseMs = options.leaseMs ?? timeoutMs * 3;
    this.backoff = { ...defaultBackoffPolicy, ...options.backoff };
    this.routing = { ...defaultRoutingPolicy, ...options.routing };
    this.random = options.random ?? Math.random;
    this.transport =
      options.transport ??
      createNotificationTransport({
        env: options.env ?? process.env,
        timeoutMs,
        clock: this.clock,
        smtp: options.smtp,
      });
  }

  /** Polls the outbox every `pollMs` until closed. */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.runOnce(), this.pollMs);
    this.timer.unref();
  }

  /** One pass: route new events, send what is due. Passes never overlap; resolves when this one is done. */
  runOnce(): Promise<void> {
    if (this.closed) return this.running ?? Promise.resolve();
    this.running ??= this.pass()
      .catch((error: unknown) => this.logger.error({ err: error }, "notification delivery pass failed"))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Stops polling and waits for the pass in flight (bounded by the send timeout). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    this.transport.close?.();
  }

  /**
   * Sends a test message to one destination now, through the same transport as pages (formatting,
   * signature, secrets from the environment, timeout), and returns what the receiver answered. Not
   * retried and not recorded as a delivery: a person is waiting for the answer. Null: no such destination.
   */
  async sendTest(destinationId: string, actor: string | null = null): Promise<TestSendOutcome | null> {
    const config = await loadNotificationConfig(this.db);
    const destination = config.destinations.find((candidate) => candidate.id === destinationId);
    if (!destination) return null;
    const startedAtMs = this.clock();
    const message = buildTestNotificationMessage({
      destinationId,
      nowMs: startedAtMs,
      publicUrl: this.publicUrl,
      actor,
    });
    const result = await this.transport.send(
      {
        id: 0,
        incidentId: message.incident.id,
        eventId: 0,
        eventKey: "test",
        kind: message.event,
        eventAtMs: startedAtMs,
        actor,
        snapshot: {},
        attempts: 1,
        destination: {
          id: destination.id,
          kind: destination.kind,
          name: destination.name,
          settings: destination.settings,
        },
      },
      message,
    );
    const outcome = { ...result, destinationId, durationMs: Math.max(0, this.clock() - startedAtMs) };
    this.logger.info(
      { destination: destinationId, ok: result.ok, ...(result.ok ? {} : { error: result.error }) },
      "notification test sent",
    );
    return outcome;
  }

  private async pass(): Promise<void> {
    await this.routeNewEvents();
    await this.deliverDue();
  }

  private async routeNewEvents(): Promise<void> {
    const events = await listUnroutedNotificationEvents(this.db);
    if (events.length === 0) return;
    const config = await loadNotificationConfig(this.db);
    const enabledDestinationIds = new Set(config.destinations.filter((d) => d.enabled).map((d) => d.id));
    const held = new Set<string>();
    const folded = new Set<number>();
    for (const event of events) {
      if (folded.has(event.id) || held.has(event.incidentId)) continue;
      const now = this.clock();
      if (event.kind === "resolved" && event.actor === null && isRecentChange(event, this.routing)) {
        const reopening = events.find(
          (later) =>
            later.incidentId === event.incidentId && later.id > event.id && later.kind === "reopened",
        );
        if (reopening) {
          // Resolved and failing again before the resolution paged: neither is news to on-call.
          folded.add(reopening.id);
          await routeNotificationEvent(this.db, event.id, {
            routing: "coalesced",
            deliveries: [],
            nowMs: now,
            coalescedEventIds: [reopening.id],
          });
          continue;
        }
      }
      if (isOnHold(event, now, this.routing)) {
        // Later events of this incident wait too, so pages go out in order.
        held.add(event.incidentId);
        continue;
      }
      const coalescedEventIds =
        event.kind === "opened"
          ? events
              .filter(
                (later) =>
                  later.incidentId === event.incidentId &&
                  later.id > event.id &&
                  foldedIntoOpening.has(later.kind),
              )
              .map((later) => later.id)
          : [];
      for (const id of coalescedEventIds) folded.add(id);
      const snapshot = event.snapshot;
      const decision = routeNotification({
        event: {
          kind: event.kind,
          eventAtMs: event.eventAtMs,
          createdAtMs: event.createdAtMs,
          environment: typeof snapshot.environment === "string" ? snapshot.environment : "",
          rootService: typeof snapshot.rootService === "string" ? snapshot.rootService : null,
          services: Array.isArray(snapshot.services) ? (snapshot.services as string[]) : [],
          severity: (typeof snapshot.severity === "string" ? snapshot.severity : "sev4") as Severity,
          signal: typeof snapshot.signal === "string" ? snapshot.signal : "",
        },
        rules: config.rules,
        enabledDestinationIds,
        mutes: config.mutes,
        nowMs: now,
        policy: this.routing,
      });
      await routeNotificationEvent(this.db, event.id, {
        ...decision,
        nowMs: now,
        refreshSnapshot: event.kind === "opened" && decision.routing === "routed",
        coalescedEventIds,
      });
      if (decision.deliveries.length > 0) {
        this.logger.info(
          {
            incidentId: event.incidentId,
            event: event.eventKey,
            destinations: decision.deliveries.map((d) => `${d.destinationId}:${d.status}`),
            ...(coalescedEventIds.length > 0 ? { folded: coalescedEventIds.length } : {}),
          },
          "notification routed",
        );
      }
    }
  }

  private async deliverDue(): Promise<void> {
    const now = this.clock();
    const due = await listDueDeliveries(this.db, now);
    if (due.length === 0) return;
    const sends: Promise<void>[] = [];
    for (const candidate of due) {
      // The claim also enforces the destination's rate limit (over the deliveries table, so it holds
      // across workers and restarts); a delivery over the limit is moved to when there is room.
      const claim = await claimDelivery(this.db, {
        id: candidate.id,
        owner: this.owner,
        nowMs: now,
        leaseMs: this.leaseMs,
      });
      if (claim.status === "claimed") sends.push(this.send(claim.delivery));
    }
    await Promise.all(sends);
  }

  private async send(delivery: ClaimedDelivery): Promise<void> {
    const message = buildNotificationMessage({
      idempotencyKey: deliveryIdempotencyKey(delivery),
      event: delivery.kind,
      eventAtMs: delivery.eventAtMs,
      actor: delivery.actor,
      incidentId: delivery.incidentId,
      snapshot: delivery.snapshot,
      publicUrl: this.publicUrl,
    });
    let outcome: DeliveryOutcome;
    try {
      const result = await this.transport.send(delivery, message);
      if (result.ok) {
        outcome = { status: "delivered", statusCode: result.statusCode };
      } else if (result.retryable && delivery.attempts < this.backoff.maxAttempts) {
        const delay = Math.max(
          retryDelayMs(delivery.attempts, this.backoff, this.random),
          result.retryAfterMs ?? 0,
        );
        outcome = {
          status: "retry",
          nextAttemptAtMs: this.clock() + delay,
          error: result.error,
          statusCode: result.statusCode,
        };
      } else {
        outcome = { status: "failed", error: result.error, statusCode: result.statusCode };
      }
    } catch (error) {
      outcome = {
        status: "retry",
        nextAttemptAtMs: this.clock() + retryDelayMs(delivery.attempts, this.backoff, this.random),
        error: `unexpected: ${(error as Error).message}`,
        statusCode: null,
      };
    }
    const recorded = await completeDelivery(this.db, {
      id: delivery.id,
      owner: this.owner,
      nowMs: this.clock(),
      outcome,
    });
    const fields = {
      incidentId: delivery.incidentId,
      event: delivery.eventKey,
      destination: delivery.destination.id,
      attempt: delivery.attempts,
      status: outcome.status,
      ...(outcome.status === "delivered" ? {} : { error: outcome.error }),
    };
    if (!recorded) this.logger.warn(fields, "notification lease lost before the outcome was recorded");
    else if (outcome.status === "delivered") this.logger.info(fields, "notification delivered");
    else this.logger.warn(fields, "notification not delivered");
  }
}
