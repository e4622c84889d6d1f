import {
  type Attributes,
  type Context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { FaroReporter } from "./faro-reporter.ts";
import type { BrokerMessage, MessageBroker } from "./message-broker.ts";
import { clientPlatforms, dmTopic, platformServices, regions, type ServiceSpec } from "./platform-catalog.ts";
import { hashText, SeededRandom } from "./seeded-random.ts";
import type { InstanceIdentity, ServiceTelemetry } from "./service-telemetry.ts";

/** A failure injected into the platform: a share of one service's requests fail. */
export interface Fault {
  service: string;
  /** Failure probability of each matching SERVER/CONSUMER span. */
  errorRate: number;
  /** Only these operations fail; all of the service's when absent. */
  operations?: readonly string[];
  /** Only instances running this version fail (a canary); all instances when absent. */
  version?: string;
  /** `error.type` and the exception type, e.g. "UNAVAILABLE". */
  errorType: string;
  message: string;
}

/** Options of {@link MessagingPlatform}. */
export interface PlatformOptions {
  telemetry: ServiceTelemetry;
  broker: MessageBroker;
  /** Receives browser page loads of web users; none are reported when absent. */
  faro?: FaroReporter;
  seed: string;
  /** Mean root requests per second at the daily average. */
  rootRate: number;
}

interface Instance extends InstanceIdentity {
  index: number;
}

interface Request {
  /** The instance that serves this request's spans of its service (a broker-traced consumer). */
  pinned?: Instance;
  random: SeededRandom;
  userId: string;
  platform: string;
}

interface CallResult {
  endMs: number;
  failed: boolean;
}

/** Work a server span does between its own work's first 20 % and the remaining 80 %. */
type Body = (hop: Hop) => void;

const propagator = new W3CTraceContextPropagator();
const grpcCodes = { ok: 0, unavailable: 14, internal: 13 } as const;

/**
 * The simulated messaging platform. `simulate(from, to)` generates every request whose root starts in
 * that window of event time, with span timestamps in that window, through each instance's own
 * OpenTelemetry SDK; the dm-api → delivery-worker hop goes over the broker with W3C trace headers.
 * Versions and faults change between windows, as deploys, config pushes and rollbacks do.
 */
export class MessagingPlatform {
  private readonly services = new Map<string, ServiceSpec>();
  private readonly instances = new Map<string, Instance[]>();
  private readonly faults = new Map<string, Fault>();
  private readonly pending: Promise<void>[] = [];
  private readonly webVisits: {
    userId: string;
    atMs: number;
    traceId: string;
    spanId: string;
    failed: boolean;
  }[] = [];
  private subscribed = false;
  /** The dm-api instance publishing right now, and the delivery-worker instance consuming. */
  private publisher: Instance | undefined;
  private consumer: Instance | undefined;
  private consumerTurn = 0;

  constructor(private readonly options: PlatformOptions) {
    for (const spec of platformServices) {
      this.services.set(spec.name, spec);
      this.instances.set(
        spec.name,
        Array.from({ length: spec.instances }, (_, index) => ({
          index,
          service: spec.name,
          version: spec.version,
          instanceId: podName(spec.name, spec.version, index),
          region: regions[index % regions.length] ?? "us-east-1",
        })),
      );
    }
  }

  /** The version each service runs now (the first instance's, for a canary the stable one is later). */
  versionsOf(service: string): string[] {
    return [...new Set((this.instances.get(service) ?? []).map((instance) => instance.version))];
  }

  /**
   * Rolls `service` to `version`: all instances, or only the first `instanceCount` (a canary). Each
   * rolled instance gets a new pod name and a new SDK resource, as a real rollout does.
   */
  setVersion(service: string, version: string, instanceCount?: number): void {
    const instances = this.instances.get(service);
    if (!instances) throw new Error(`unknown service ${service}`);
    for (const instance of instances.slice(0, instanceCount ?? instances.length)) {
      instance.version = version;
      instance.instanceId = podName(service, version, instance.index);
    }
  }

  /** Turns a fault on under `id` (replacing one with the same id). */
  addFault(id: string, fault: Fault): void {
    this.faults.set(id, fault);
  }

  removeFault(id: string): void {
    this.faults.delete(id);
  }

  /**
   * Generates the traffic of `[fromMs, toMs)` (event time, epoch ms), waits until the broker handled
   * every message and the receiver acknowledged every span, and returns the number of root requests.
   */
  async simulate(fromMs: number, toMs: number): Promise<number> {
    await this.subscribe();
    let roots = 0;
    for (let second = Math.floor(fromMs / 1000) * 1000; second < toMs; second += 1000) {
      const random = new SeededRandom(`${this.options.seed}:${second}`);
      const count = random.poisson(
        this.options.rootRate * dailyFactor(second) * minuteNoise(this.options.seed, second),
      );
      for (let index = 0; index < count; index += 1) {
        const startMs = second + random.next() * 1000;
        if (startMs < fromMs || startMs >= toMs) continue;
        this.rootRequest(startMs, new SeededRandom(`${this.options.seed}:${second}:${index}`));
        roots += 1;
      }
    }
    await Promise.all(this.pending.splice(0));
    await this.options.broker.drain();
    await this.options.telemetry.flush();
    await this.reportBrowser();
    return roots;
  }

  private async subscribe(): Promise<void> {
    if (this.subscribed) return;
    this.subscribed = true;
    await this.options.broker.subscribe(dmTopic, "delivery-worker", (message, active) =>
      this.deliver(message, active),
    );
  }

  private rootRequest(startMs: number, random: SeededRandom): void {
    const client = pickPlatform(random.next());
    // Mild skew: a few users are much more active than the rest.
    const userId = `${client.platform}-u${String(Math.floor(client.users * random.next() ** 2)).padStart(6, "0")}`;
    const request: Request = { random, userId, platform: client.platform };
    const web = client.platform === "web";
    const flow = random.next();
    const root = (operation: string, body: Body) =>
      this.serve(client.gateway, operation, startMs, ROOT_CONTEXT, request, body, {
        "app.platform": client.platform,
      });
    let result: CallResult & { span?: Span };
    if (flow < 0.3) {
      result = root(web ? "POST /api/dm/send" : "POST /api/v2/dm/messages", (hop) => {
        hop.call("dm-api", "POST /v1/dm/messages", (dm) => {
          dm.call("identity", "identity.v1.Sessions/Validate");
          if (request.random.next() < 0.15) dm.call("media", "POST /v1/media/attachments");
          dm.publish(dmTopic);
        });
      });
    } else if (flow < 0.6) {
      result = root(web ? "GET /api/dm/inbox" : "GET /api/v2/dm/inbox", (hop) => {
        hop.call("inbox", "GET /v1/inbox/{userId}", (inbox) =>
          inbox.call("identity", "identity.v1.Sessions/Validate"),
        );
      });
    } else if (flow < 0.8) {
      result = root(web ? "GET /api/dm/conversations/{id}" : "GET /api/v2/dm/conversations/{id}", (hop) => {
        hop.call("dm-api", "GET /v1/dm/conversations/{id}/messages", (dm) =>
          dm.call("identity", "identity.v1.Sessions/Validate"),
        );
      });
    } else {
      result = root(web ? "GET /api/profile/{id}" : "GET /api/v2/profile/{id}", (hop) => {
        hop.call("profile", "GET /v1/profiles/{id}", (profile) => {
          profile.call("identity", "identity.v1.Sessions/Validate");
          profile.call("media", "GET /v1/media/avatars/{id}");
        });
      });
    }
    if (web && this.options.faro && result.span && random.next() < 0.05) {
      const context = result.span.spanContext();
      this.webVisits.push({
        userId,
        atMs: startMs,
        traceId: context.traceId,
        spanId: context.spanId,
        failed: result.failed,
      });
    }
  }

  /**
   * A SERVER (or CONSUMER) span of `service` starting at `startMs`: 20 % of its own work, then `body`'s
   * calls one after another, then the rest. It fails on its own (base rate or a fault) or when a call
   * it made failed, since the platform's services do not degrade gracefully.
   */
  private serve(
    service: string,
    operation: string,
    startMs: number,
    parent: Context,
    request: Request,
    body: Body,
    extra: Attributes = {},
    kind: SpanKind = SpanKind.SERVER,
    links: Link[] = [],
  ): CallResult & { span: Span } {
    const spec = this.spec(service);
    const instance =
      request.pinned?.service === service ? request.pinned : request.random.pick(this.instancesOf(service));
    const tracer = this.options.telemetry.tracer(instance);
    const span = tracer.startSpan(
      operation,
      {
        kind,
        startTime: startMs,
        links,
        attributes: { ...protocolAttributes(operation), "enduser.id": request.userId, ...extra },
      },
      parent,
    );
    const work = request.random.duration(spec.latencyMs[0], spec.latencyMs[1]);
    const hop = new Hop(this, instance, trace.setSpan(parent, span), request, startMs + work * 0.2);
    body(hop);
    const fault = this.faultFor(service, operation, instance.version);
    const ownFailure = request.random.next() < (fault?.errorRate ?? spec.baseErrorRate);
    const failed = ownFailure || hop.failed;
    const endMs = hop.cursorMs + work * 0.8;
    if (failed) {
      const type = ownFailure ? (fault?.errorType ?? "InternalError") : "UpstreamError";
      const message = ownFailure ? (fault?.message ?? "internal error") : "a dependency failed";
      markFailed(span, operation, type, message, endMs);
    } else {
      markOk(span, operation);
    }
    span.end(endMs);
    return { endMs, failed, span };
  }

  /** A CLIENT span on the caller, then the callee's SERVER span inside it, with network time around it. */
  callFrom(
    caller: Instance,
    parent: Context,
    request: Request,
    startMs: number,
    service: string,
    operation: string,
    body: Body,
  ): CallResult {
    const tracer = this.options.telemetry.tracer(caller);
    const client = tracer.startSpan(
      operation,
      {
        kind: SpanKind.CLIENT,
        startTime: startMs,
        attributes: { ...protocolAttributes(operation), "server.address": service },
      },
      parent,
    );
    const network = 0.15 + request.random.next() * 0.7;
    const server = this.serve(
      service,
      operation,
      startMs + network / 2,
      trace.setSpan(parent, client),
      request,
      body,
    );
    const endMs = server.endMs + network / 2;
    if (server.failed) markFailed(client, operation, errorTypeOf(operation), `${service} failed`, endMs);
    else markOk(client, operation);
    client.end(endMs);
    return { endMs, failed: server.failed };
  }

  /** A PRODUCER span on the caller and a publish with the trace context and the consumer's inputs. */
  publishFrom(
    caller: Instance,
    parent: Context,
    request: Request,
    startMs: number,
    destination: string,
  ): number {
    const broker = this.options.broker;
    if (broker.tracesMessaging) {
      // The broker's instrumentation makes the producer span (on `caller`'s SDK) and carries the context.
      this.publisher = caller;
      this.pending.push(
        broker.publish(
          destination,
          { headers: this.consumerInputs(request, startMs), body: `dm from ${request.userId}` },
          { parent, producer: caller },
        ),
      );
      return startMs + 1;
    }
    const tracer = this.options.telemetry.tracer(caller);
    const producer = tracer.startSpan(
      `send ${destination}`,
      {
        kind: SpanKind.PRODUCER,
        startTime: startMs,
        attributes: {
          "messaging.system": this.options.broker.system,
          "messaging.destination.name": destination,
          "messaging.operation.type": "send",
          "messaging.operation.name": "publish",
          "enduser.id": request.userId,
        },
      },
      parent,
    );
    const endMs = startMs + request.random.duration(3, 2);
    producer.end(endMs);
    const headers = this.consumerInputs(request, endMs);
    propagator.inject(trace.setSpan(ROOT_CONTEXT, producer), headers, {
      set: (carrier, key, value) => {
        carrier[key] = value;
      },
    });
    this.pending.push(
      this.options.broker.publish(destination, { headers, body: `dm from ${request.userId}` }),
    );
    return endMs;
  }

  /**
   * The tracer a broker's own instrumentation should use for a messaging span: the publishing dm-api
   * instance's for the producer span, the next delivery-worker instance's for the consumer span.
   */
  messagingTracer(kind: SpanKind | undefined): Tracer {
    if (kind === SpanKind.CONSUMER) {
      const instances = this.instancesOf("delivery-worker");
      this.consumer = instances[this.consumerTurn++ % instances.length] ?? instances[0];
      return this.options.telemetry.tracer(this.consumer);
    }
    return this.options.telemetry.tracer(this.publisher ?? this.instancesOf("dm-api")[0]);
  }

  /** What the consumer needs to simulate its side: timing, a seed and the user (message headers). */
  private consumerInputs(request: Request, publishedAtMs: number): Record<string, string> {
    return {
      "x-demo-published-at": String(publishedAtMs),
      "x-demo-seed": String(request.random.int(2 ** 31)),
      "x-demo-user": request.userId,
      "x-demo-platform": request.platform,
    };
  }

  /**
   * delivery-worker: a CONSUMER span, child of and linked to the producer, fanning out to inbox and
   * push. When the broker traced the hop itself, its consumer span is `active` and the worker's own
   * work is an internal span inside it, on the same instance.
   */
  private async deliver(message: BrokerMessage, active?: Context): Promise<void> {
    if (this.options.broker.tracesMessaging && active) {
      const request: Request = {
        random: new SeededRandom(Number(message.headers["x-demo-seed"] ?? 1)),
        userId: message.headers["x-demo-user"] ?? "unknown",
        platform: message.headers["x-demo-platform"] ?? "api",
        ...(this.consumer ? { pinned: this.consumer } : {}),
      };
      this.serve(
        "delivery-worker",
        "deliver dm",
        Date.now(),
        active,
        request,
        (hop) => {
          hop.call("inbox", "POST /v1/inbox/append");
          hop.call("notification", "notification.v1.Push/Send");
        },
        {},
        SpanKind.INTERNAL,
      );
      return;
    }
    const producerContext = propagator.extract(ROOT_CONTEXT, message.headers, {
      get: (carrier, key) => carrier[key],
      keys: (carrier) => Object.keys(carrier),
    });
    const producerSpan = trace.getSpanContext(producerContext);
    const request: Request = {
      random: new SeededRandom(Number(message.headers["x-demo-seed"] ?? 1)),
      userId: message.headers["x-demo-user"] ?? "unknown",
      platform: message.headers["x-demo-platform"] ?? "api",
    };
    const publishedAt = Number(message.headers["x-demo-published-at"] ?? Date.now());
    const queueDelay = -Math.log(Math.max(request.random.next(), 1e-9)) * 30;
    this.serve(
      "delivery-worker",
      `process ${dmTopic}`,
      publishedAt + queueDelay,
      producerContext,
      request,
      (hop) => {
        hop.call("inbox", "POST /v1/inbox/append");
        hop.call("notification", "notification.v1.Push/Send");
      },
      {
        "messaging.system": this.options.broker.system,
        "messaging.destination.name": dmTopic,
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.consumer.group.name": "delivery-worker",
      },
      SpanKind.CONSUMER,
      producerSpan ? [{ context: producerSpan }] : [],
    );
  }

  private async reportBrowser(): Promise<void> {
    const faro = this.options.faro;
    const visits = this.webVisits.splice(0);
    if (!faro || visits.length === 0) return;
    await faro.reportPageLoads(visits);
  }

  private spec(service: string): ServiceSpec {
    const spec = this.services.get(service);
    if (!spec) throw new Error(`unknown service ${service}`);
    return spec;
  }

  private instancesOf(service: string): [Instance, ...Instance[]] {
    const instances = this.instances.get(service) ?? [];
    const [first, ...rest] = instances;
    if (!first) throw new Error(`service ${service} has no instances`);
    return [first, ...rest];
  }

  private faultFor(service: string, operation: string, version: string): Fault | undefined {
    for (const fault of this.faults.values()) {
      if (fault.service !== service) continue;
      if (fault.version !== undefined && fault.version !== version) continue;
      if (fault.operations && !fault.operations.includes(operation)) continue;
      return fault;
    }
    return undefined;
  }
}

/** The calls a server span makes, one after another, with a moving time cursor. */
class Hop {
  failed = false;

  constructor(
    private readonly platform: MessagingPlatform,
    private readonly instance: Instance,
    private readonly context: Context,
    private readonly request: Request,
    public cursorMs: number,
  ) {}

  call(service: string, operation: string, body: Body = () => {}): void {
    const gap = 0.05 + this.request.random.next() * 0.25;
    const result = this.platform.callFrom(
      this.instance,
      this.context,
      this.request,
      this.cursorMs + gap,
      service,
      operation,
      body,
    );
    this.cursorMs = result.endMs;
    this.failed ||= result.failed;
  }

  publish(destination: string): void {
    this.cursorMs = this.platform.publishFrom(
      this.instance,
      this.context,
      this.request,
      this.cursorMs + 0.1,
      destination,
    );
  }
}

/** The client platform whose share of traffic covers `roll` (uniform in [0, 1)). */
function pickPlatform(roll: number): (typeof clientPlatforms)[number] {
  let cumulative = 0;
  for (const candidate of clientPlatforms) {
    cumulative += candidate.weight;
    if (roll < cumulative) return candidate;
  }
  return clientPlatforms[0];
}

/** A pod name that changes with the version, like a Kubernetes ReplicaSet's. */
function podName(service: string, version: string, index: number): string {
  const replicaSet = hashText(`${service}@${version}`).toString(36).slice(0, 5);
  const pod = hashText(`${service}@${version}#${index}`).toString(36).slice(0, 5);
  return `${service}-${replicaSet}-${pod}`;
}

/** A daily rhythm: busiest in the (UTC) afternoon, quietest at night, ±25 %. */
function dailyFactor(atMs: number): number {
  const hours = (atMs / 3_600_000) % 24;
  return 1 + 0.25 * Math.sin((2 * Math.PI * (hours - 9)) / 24);
}

/** A per-minute random factor (±5 %) so the rate is not a perfect curve. */
function minuteNoise(seed: string, atMs: number): number {
  const random = new SeededRandom(`${seed}:minute:${Math.floor(atMs / 60_000)}`);
  return Math.max(0.5, 1 + 0.05 * random.normal());
}

function isGrpc(operation: string): boolean {
  return !operation.includes(" ") && operation.includes("/");
}

/** HTTP or gRPC attributes of an operation written `METHOD /route` or `pkg.Service/Method`. */
function protocolAttributes(operation: string): Attributes {
  if (isGrpc(operation)) {
    const [service = operation, method = ""] = operation.split("/");
    return { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method };
  }
  const [method = "GET", route = "/"] = operation.split(" ");
  if (method === "process" || method === "send") return {};
  return { "http.request.method": method, "http.route": route, "url.path": route };
}

function errorTypeOf(operation: string): string {
  return isGrpc(operation) ? "UNAVAILABLE" : "500";
}

function markOk(span: Span, operation: string): void {
  if (isGrpc(operation)) span.setAttribute("rpc.grpc.status_code", grpcCodes.ok);
  else if (!operation.startsWith("process ")) span.setAttribute("http.response.status_code", 200);
}

function markFailed(span: Span, operation: string, type: string, message: string, atMs: number): void {
  if (isGrpc(operation))
    span.setAttribute(
      "rpc.grpc.status_code",
      type === "UNAVAILABLE" ? grpcCodes.unavailable : grpcCodes.internal,
    );
  else if (!operation.startsWith("process ")) span.setAttribute("http.response.status_code", 500);
  span.setAttribute("error.type", type);
  span.addEvent("exception", { "exception.type": type, "exception.message": message }, atMs);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
