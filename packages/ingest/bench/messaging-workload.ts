/**
 * A realistic messaging workload for the ingest benchmark and the durability tests: each request is one
 * service instance's 512-span export batch (the BatchSpanProcessor default), with HTTP server and client
 * hops, Kafka producer and consumer spans (consumers link to producers), user and session ids and 2 %
 * error spans carrying an exception event. 100 services × 2 versions × 50 operations give 10 000 active
 * series. Every request gets fresh random ids, so no two bodies are equal (the receipt dedup would skip
 * a repeated body).
 */
import { randomFillSync, randomUUID } from "node:crypto";
import { ExportTraceServiceRequestType } from "../../otlp/test-support/otlp-proto-root.ts";

export const spansPerRequest = 512;
const serviceCount = 100;
const versionsPerService = 2;
const serverRoutesPerService = 15;
const clientCallsPerService = 10;
const producerTopicsPerService = 12;
const consumerTopicsPerService = 13;
/** Series a full run touches: services × versions × operations per service. */
export const workloadSeriesCount =
  serviceCount *
  versionsPerService *
  (serverRoutesPerService + clientCallsPerService + producerTopicsPerService + consumerTopicsPerService);
export const workloadEnvironment = "production";

type AttributeValue = { stringValue: string } | { intValue: number };
interface KeyValue {
  key: string;
  value: AttributeValue;
}
interface PlainSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array | null;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: KeyValue[];
  events: Array<{ timeNs: bigint; name: string; attributes: KeyValue[] }>;
  links: Array<{ traceId: Uint8Array; spanId: Uint8Array }>;
  status: { code: number; message: string };
}
interface PlainRequest {
  resource: KeyValue[];
  spans: PlainSpan[];
}

export interface WorkloadRequest {
  spans: number;
  /** Binary protobuf `ExportTraceServiceRequest`. */
  proto: Uint8Array;
  /** The same request as OTLP/JSON (hex ids, 64-bit integers as strings), when asked for. */
  json: Uint8Array | null;
}

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): KeyValue => ({ key, value: { intValue: value } });
const pickIndex = (length: number): number => Math.floor(Math.random() * length);
const words = ["messages", "threads", "inbox", "receipts", "profile", "presence", "media", "search"];
const serviceName = (index: number): string => `${words[index % words.length]}-svc-${index}`;
const topicName = (service: number, topic: number): string =>
  `${words[(service + topic) % words.length]}.events.${service}.${topic}`;

const stackTrace =
  "TimeoutError: delivery timed out after 5000 ms\n    at deliver (/app/dist/worker.js:120:11)\n" +
  "    at processBatch (/app/dist/worker.js:88:5)\n    at run (/app/node_modules/kafkajs/src/consumer/runner.js:200:9)\n" +
  "    at async Promise.all (index 0)\n    at main (/app/dist/index.js:10:3)";

/** One randomly filled buffer per request, cut into ids: much cheaper than a crypto call per id. */
class IdSource {
  private readonly pool = Buffer.allocUnsafe(spansPerRequest * 48);
  private offset = 0;
  constructor() {
    randomFillSync(this.pool);
  }
  take(length: number): Uint8Array {
    if (this.offset + length > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const id = this.pool.subarray(this.offset, this.offset + length);
    this.offset += length;
    // An all-zero id is invalid OTLP; make sure the first byte is never zero.
    if (id[0] === 0) id[0] = 1;
    return id;
  }
}

function makeRequest(startMs: number): PlainRequest {
  const service = pickIndex(serviceCount);
  const version = `3.${service % 7}.${pickIndex(versionsPerService)}`;
  const name = serviceName(service);
  const instance = `${name}-7d9f8c-${(service * 7919 + pickIndex(3)).toString(36)}`;
  const ids = new IdSource();
  const resource = [
    str("service.name", name),
    str("service.version", version),
    str("service.instance.id", instance),
    str("deployment.environment.name", workloadEnvironment),
    str("cloud.region", "eu-west-1"),
    str("telemetry.sdk.language", "nodejs"),
    str("telemetry.sdk.name", "opentelemetry"),
    str("telemetry.sdk.version", "2.7.1"),
    str("host.name", `ip-10-0-${service % 16}-${17 + (service % 200)}`),
    str("k8s.pod.name", instance),
  ];
  const spans: PlainSpan[] = [];
  const servers: PlainSpan[] = [];
  const producers: PlainSpan[] = [];
  for (let index = 0; index < spansPerRequest; index += 1) {
    const startNs = BigInt(startMs + pickIndex(10_000)) * 1_000_000n + BigInt(pickIndex(1_000_000));
    const isError = Math.random() < 0.02;
    const roll = Math.random();
    const parent = servers.length > 0 ? servers[pickIndex(servers.length)] : undefined;
    const user = `user-${pickIndex(100_000)}`;
    let span: PlainSpan;
    if (roll < 0.3 || parent === undefined) {
      const route = `/v1/${words[service % words.length]}/${pickIndex(serverRoutesPerService)}`;
      span = base(ids, startNs, `POST ${route}`, 2, null, 1 + pickIndex(200));
      span.attributes.push(
        str("http.request.method", "POST"),
        str("http.route", route),
        int("http.response.status_code", isError ? 503 : 200),
        str("url.scheme", "https"),
        str("server.address", `${name}.internal`),
        int("server.port", 8443),
        str("client.address", `10.0.${pickIndex(256)}.${pickIndex(256)}`),
        str("user_agent.original", "okhttp/4.12.0"),
        str("enduser.id", user),
        str("session.id", Buffer.from(ids.take(8)).toString("hex")),
      );
      servers.push(span);
    } else if (roll < 0.55) {
      const peer = serviceName((service + 1 + pickIndex(clientCallsPerService)) % serviceCount);
      span = base(ids, startNs, `GET /internal/${peer}`, 3, parent, 1 + pickIndex(40));
      span.attributes.push(
        str("http.request.method", "GET"),
        str("server.address", `${peer}.internal`),
        int("server.port", 8443),
        str("peer.service", peer),
        str("url.full", `https://${peer}.internal/internal/v1/lookup?id=${pickIndex(1e6)}`),
        int("http.response.status_code", isError ? 500 : 200),
        str("network.protocol.version", "1.1"),
        str("enduser.id", user),
      );
    } else if (roll < 0.75) {
      const topic = topicName(service, pickIndex(producerTopicsPerService));
      span = base(ids, startNs, `publish ${topic}`, 4, parent, 1 + pickIndex(20));
      span.attributes.push(...messagingAttributes(topic, "send", "publish", user, ids));
      producers.push(span);
    } else {
      const topic = topicName(service + 50, pickIndex(consumerTopicsPerService));
      span = base(ids, startNs, `process ${topic}`, 5, null, 1 + pickIndex(50));
      span.attributes.push(...messagingAttributes(topic, "process", "consume", user, ids));
      const producer = producers.length > 0 ? producers[pickIndex(producers.length)] : undefined;
      span.links.push(
        producer
          ? { traceId: producer.traceId, spanId: producer.spanId }
          : { traceId: ids.take(16), spanId: ids.take(8) },
      );
    }
    // Apps add their own correlation attributes; this brings spans to the ~550 B/span of real exporters.
    span.attributes.push(str("app.request.id", randomUUID()));
    if (isError) {
      span.status = { code: 2, message: "delivery timed out" };
      span.attributes.push(str("error.type", "TimeoutError"));
      span.events.push({
        timeNs: span.startNs + 1000n,
        name: "exception",
        attributes: [
          str("exception.type", "TimeoutError"),
          str("exception.message", `delivery timed out after ${5000 + pickIndex(3) * 1000} ms`),
          str("exception.stacktrace", stackTrace),
        ],
      });
    }
    spans.push(span);
  }
  return { resource, spans };
}

function base(
  ids: IdSource,
  startNs: bigint,
  name: string,
  kind: number,
  parent: PlainSpan | null,
  durationMs: number,
): PlainSpan {
  return {
    traceId: parent ? parent.traceId : ids.take(16),
    spanId: ids.take(8),
    parentSpanId: parent ? parent.spanId : null,
    name,
    kind,
    startNs,
    endNs: startNs + BigInt(durationMs) * 1_000_000n + BigInt(pickIndex(1_000_000)),
    attributes: [],
    events: [],
    links: [],
    status: { code: 0, message: "" },
  };
}

function messagingAttributes(
  topic: string,
  operationType: string,
  operationName: string,
  user: string,
  ids: IdSource,
): KeyValue[] {
  return [
    str("messaging.system", "kafka"),
    str("messaging.destination.name", topic),
    str("messaging.operation.type", operationType),
    str("messaging.operation.name", operationName),
    str("messaging.message.id", randomUUID()),
    str("messaging.destination.partition.id", String(pickIndex(32))),
    str("messaging.kafka.consumer.group", "dm-workers"),
    str("server.address", "kafka-2.kafka.svc.cluster.local"),
    int("server.port", 9092),
    str("enduser.id", user),
    str("session.id", Buffer.from(ids.take(8)).toString("hex")),
  ];
}

const scope = { name: "@opentelemetry/instrumentation-kafkajs", version: "0.7.0" };

function toProto(request: PlainRequest): Uint8Array {
  return ExportTraceServiceRequestType.encode({
    resourceSpans: [
      {
        resource: { attributes: request.resource },
        scopeSpans: [
          {
            scope,
            spans: request.spans.map((span) => ({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? undefined,
              name: span.name,
              kind: span.kind,
              startTimeUnixNano: span.startNs.toString(),
              endTimeUnixNano: span.endNs.toString(),
              attributes: span.attributes,
              events: span.events.map((event) => ({
                timeUnixNano: event.timeNs.toString(),
                name: event.name,
                attributes: event.attributes,
              })),
              links: span.links,
              status: span.status,
              flags: 0x101,
            })),
          },
        ],
      },
    ],
  }).finish();
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

function toJson(request: PlainRequest): Uint8Array {
  const jsonAttributes = (list: KeyValue[]) =>
    list.map(({ key, value }) =>
      "intValue" in value ? { key, value: { intValue: String(value.intValue) } } : { key, value },
    );
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: jsonAttributes(request.resource) },
          scopeSpans: [
            {
              scope,
              spans: request.spans.map((span) => ({
                traceId: hex(span.traceId),
                spanId: hex(span.spanId),
                ...(span.parentSpanId ? { parentSpanId: hex(span.parentSpanId) } : {}),
                name: span.name,
                kind: span.kind,
                startTimeUnixNano: span.startNs.toString(),
                endTimeUnixNano: span.endNs.toString(),
                attributes: jsonAttributes(span.attributes),
                events: span.events.map((event) => ({
                  timeUnixNano: event.timeNs.toString(),
                  name: event.name,
                  attributes: jsonAttributes(event.attributes),
                })),
                links: span.links.map((link) => ({ traceId: hex(link.traceId), spanId: hex(link.spanId) })),
                status: span.status,
                flags: 0x101,
              })),
            },
          ],
        },
      ],
    }),
  );
}

/**
 * `count` unique requests whose spans start along the last `spreadMs` before `nowMs` in order (as a
 * replay of live traffic would: each batch covers ~10 s of recently ended spans), ending a minute
 * before now so none is in the future.
 */
export function generateWorkload(options: {
  count: number;
  nowMs: number;
  withJson: boolean;
  spreadMs?: number;
}): WorkloadRequest[] {
  const spreadMs = options.spreadMs ?? 50 * 60_000;
  const firstMs = options.nowMs - 60_000 - spreadMs;
  const requests: WorkloadRequest[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const plain = makeRequest(firstMs + Math.floor((index / options.count) * spreadMs));
    requests.push({
      spans: plain.spans.length,
      proto: toProto(plain),
      json: options.withJson ? toJson(plain) : null,
    });
  }
  return requests;
}
