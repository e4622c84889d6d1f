/**
 * Decoder throughput on realistic messaging traffic: 512-span batches of ~550-byte spans (consumer and
 * producer spans with messaging attributes, one producer link each, 2% errors with an exception event).
 *
 *   npm run bench -w @faultline/otlp
 *
 * Compares the hand decoder with protobufjs (the generated OTLP code the JS SDK itself uses) followed by
 * the same normalization, and the JSON scanner with the JSON.parse path (what text input takes, and
 * the fallback for unusual requests) and with a bare JSON.parse of the same payload.
 */

import { decodeTraceRequestJson } from "../src/decode-trace-request-json.ts";
import { decodeTraceRequestProto } from "../src/decode-trace-request-proto.ts";
import { defaultDecodeLimits } from "../src/normalized-span.ts";
import { ExportTraceServiceRequestType } from "../test-support/otlp-proto-root.ts";
import { createRandom } from "../test-support/random-trace-request.ts";
import { normalizeReference } from "../test-support/reference-normalizer.ts";

const spansPerBatch = 512;
const batchCount = 16;
const random = createRandom(2024);

const randomBytes = (length: number): Uint8Array =>
  Uint8Array.from({ length }, () => 1 + Math.floor(random() * 255));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

type Value = { stringValue: string } | { intValue: number } | { boolValue: boolean };
interface PlainSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Array<{ key: string; value: Value }>;
  events: Array<{ time: bigint; name: string; attributes: Array<{ key: string; value: Value }> }>;
  links: Array<{ traceId: Uint8Array; spanId: Uint8Array }>;
  status: { code: number; message: string };
}

function makeSpan(index: number): PlainSpan {
  const isProducer = index % 3 === 0;
  const destination = pick(["dm.outbox", "dm.delivery", "notifications.push", "profile.views"]);
  const isError = random() < 0.02;
  const start = 1_750_000_000_000_000_000n + BigInt(index) * 1_000_000n + BigInt(Math.floor(random() * 1e6));
  const attributes: PlainSpan["attributes"] = [
    { key: "messaging.system", value: { stringValue: "kafka" } },
    { key: "messaging.destination.name", value: { stringValue: destination } },
    { key: "messaging.operation.type", value: { stringValue: isProducer ? "send" : "process" } },
    { key: "messaging.operation.name", value: { stringValue: isProducer ? "publish" : "consume" } },
    { key: "messaging.message.id", value: { stringValue: crypto.randomUUID() } },
    { key: "messaging.destination.partition.id", value: { stringValue: String(Math.floor(random() * 32)) } },
    { key: "server.address", value: { stringValue: "kafka-2.kafka.svc.cluster.local" } },
    { key: "server.port", value: { intValue: 9092 } },
    { key: "enduser.id", value: { stringValue: `user-${Math.floor(random() * 1e5)}` } },
    { key: "session.id", value: { stringValue: hex(randomBytes(8)) } },
    { key: "app.platform", value: { stringValue: pick(["web", "ios", "android"]) } },
  ];
  if (isError) attributes.push({ key: "error.type", value: { stringValue: "TimeoutError" } });
  return {
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    parentSpanId: randomBytes(8),
    name: `${isProducer ? "send" : "process"} ${destination}`,
    kind: isProducer ? 4 : 5,
    start,
    end: start + BigInt(Math.floor(random() * 50_000_000)),
    attributes,
    events: isError
      ? [
          {
            time: start + 1000n,
            name: "exception",
            attributes: [
              { key: "exception.type", value: { stringValue: "TimeoutError" } },
              { key: "exception.message", value: { stringValue: "delivery timed out after 5000 ms" } },
              {
                key: "exception.stacktrace",
                value: {
                  stringValue:
                    "TimeoutError: delivery timed out\n    at deliver (/app/dist/worker.js:120:11)\n    at process (/app/dist/worker.js:88:5)\n    at run (/app/node_modules/kafkajs/src/consumer/runner.js:200:9)\n    at async Promise.all (index 0)\n    at main (/app/dist/index.js:10:3)",
                },
              },
            ],
          },
        ]
      : [],
    links: isProducer ? [] : [{ traceId: randomBytes(16), spanId: randomBytes(8) }],
    status: isError ? { code: 2, message: "delivery timed out" } : { code: 0, message: "" },
  };
}

const resourceAttributes = [
  { key: "service.name", value: { stringValue: "dm-delivery" } },
  { key: "service.version", value: { stringValue: "2.14.3" } },
  { key: "service.instance.id", value: { stringValue: "dm-delivery-6c9f7d-x2k4p" } },
  { key: "deployment.environment.name", value: { stringValue: "production" } },
  { key: "telemetry.sdk.language", value: { stringValue: "nodejs" } },
  { key: "telemetry.sdk.name", value: { stringValue: "opentelemetry" } },
  { key: "telemetry.sdk.version", value: { stringValue: "2.7.1" } },
  { key: "host.name", value: { stringValue: "ip-10-0-3-17" } },
];

function toProtoObject(spans: PlainSpan[]): object {
  return {
    resourceSpans: [
      {
        resource: { attributes: resourceAttributes },
        scopeSpans: [
          {
            scope: { name: "@opentelemetry/instrumentation-kafkajs", version: "0.7.0" },
            spans: spans.map((span) => ({
              ...span,
              startTimeUnixNano: span.start.toString(),
              endTimeUnixNano: span.end.toString(),
              events: span.events.map((event) => ({ ...event, timeUnixNano: event.time.toString() })),
              flags: 0x101,
            })),
          },
        ],
      },
    ],
  };
}

function toJsonText(spans: PlainSpan[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: resourceAttributes },
        scopeSpans: [
          {
            scope: { name: "@opentelemetry/instrumentation-kafkajs", version: "0.7.0" },
            spans: spans.map((span) => ({
              traceId: hex(span.traceId),
              spanId: hex(span.spanId),
              parentSpanId: hex(span.parentSpanId),
              name: span.name,
              kind: span.kind,
              startTimeUnixNano: span.start.toString(),
              endTimeUnixNano: span.end.toString(),
              attributes: span.attributes,
              events: span.events.map((event) => ({
                timeUnixNano: event.time.toString(),
                name: event.name,
                attributes: event.attributes,
              })),
              links: span.links.map((link) => ({ traceId: hex(link.traceId), spanId: hex(link.spanId) })),
              status: span.status,
              flags: 0x101,
            })),
          },
        ],
      },
    ],
  });
}

const batches = Array.from({ length: batchCount }, (_, batch) =>
  Array.from({ length: spansPerBatch }, (_, index) => makeSpan(batch * spansPerBatch + index)),
);
const protoBatches = batches.map((spans) =>
  ExportTraceServiceRequestType.encode(toProtoObject(spans)).finish(),
);
const jsonBatches = batches.map(toJsonText);
const jsonByteBatches = jsonBatches.map((text) => new TextEncoder().encode(text));

/** Spans per second of one ~400 ms timed run. */
function timeRun(decodeBatch: (index: number) => number): number {
  let spans = 0;
  let round = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < 400) {
    spans += decodeBatch(round % batchCount);
    round += 1;
    if (round % 8 === 0) elapsed = performance.now() - started;
  }
  return (spans / (performance.now() - started)) * 1000;
}

interface Candidate {
  label: string;
  decodeBatch: (index: number) => number;
  best: number;
}

/**
 * Alternates short runs of every candidate and keeps each one's best: on a shared machine, load
 * bursts otherwise favour whichever candidate happened to run in a quiet moment.
 */
function measureAll(candidates: Candidate[], rounds: number): void {
  for (const candidate of candidates) {
    // Warm up so that the JIT has optimized the decoder before timing.
    for (let round = 0; round < 100; round += 1) candidate.decodeBatch(round % batchCount);
  }
  for (let round = 0; round < rounds; round += 1) {
    for (const candidate of candidates)
      candidate.best = Math.max(candidate.best, timeRun(candidate.decodeBatch));
  }
  for (const candidate of candidates) {
    console.log(
      `${candidate.label.padEnd(44)} ${Math.round(candidate.best).toLocaleString("en-US").padStart(12)} spans/s`,
    );
  }
}

const averageProtoBytes = protoBatches.reduce((sum, bytes) => sum + bytes.length, 0) / batchCount;
const averageJsonBytes = jsonByteBatches.reduce((sum, bytes) => sum + bytes.length, 0) / batchCount;
console.log(
  `batches of ${spansPerBatch} spans: protobuf ${Math.round(averageProtoBytes / spansPerBatch)} B/span, ` +
    `JSON ${Math.round(averageJsonBytes / spansPerBatch)} B/span; node ${process.version}`,
);

const pick0 = <T>(items: readonly T[], index: number): T => items[index] as T;
const hand: Candidate = {
  label: "protobuf: hand decoder",
  decodeBatch: (index) => decodeTraceRequestProto(pick0(protoBatches, index)).spans.length,
  best: 0,
};
const reference: Candidate = {
  label: "protobuf: protobufjs decode + normalize",
  decodeBatch: (index) =>
    normalizeReference(ExportTraceServiceRequestType.decode(pick0(protoBatches, index)), defaultDecodeLimits)
      .spans.length,
  best: 0,
};
const protobufjsOnly: Candidate = {
  label: "protobuf: protobufjs decode only",
  decodeBatch: (index) => {
    ExportTraceServiceRequestType.decode(pick0(protoBatches, index));
    return spansPerBatch;
  },
  best: 0,
};
const json: Candidate = {
  label: "JSON: scanner (bytes in)",
  decodeBatch: (index) => decodeTraceRequestJson(pick0(jsonByteBatches, index)).spans.length,
  best: 0,
};
const jsonParsePath: Candidate = {
  label: "JSON: JSON.parse + walk (text in)",
  decodeBatch: (index) => decodeTraceRequestJson(pick0(jsonBatches, index)).spans.length,
  best: 0,
};
const jsonParseOnly: Candidate = {
  label: "JSON: JSON.parse only (string in)",
  decodeBatch: (index) => {
    JSON.parse(pick0(jsonBatches, index));
    return spansPerBatch;
  },
  best: 0,
};
measureAll(
  [hand, reference, protobufjsOnly, json, jsonParsePath, jsonParseOnly],
  Number(process.env.BENCH_ROUNDS ?? 6),
);

console.log(`hand protobuf / protobufjs+normalize: ${(hand.best / reference.best).toFixed(2)}x`);
console.log(`hand protobuf / protobufjs decode only: ${(hand.best / protobufjsOnly.best).toFixed(2)}x`);
console.log(`JSON scanner / JSON.parse + walk: ${(json.best / jsonParsePath.best).toFixed(2)}x`);
console.log(`JSON scanner / JSON.parse only: ${(json.best / jsonParseOnly.best).toFixed(2)}x`);
