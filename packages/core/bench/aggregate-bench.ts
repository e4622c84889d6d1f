/**
 * Throughput of aggregateSpans on realistic ingest batches: 512 spans per call, about 10 000 active
 * series, 2% errors with exception events, call hops (CLIENT + SERVER, callee usually first) and
 * messaging hops (PRODUCER + CONSUMER linked by parent or span link), users on server/consumer spans, one
 * long-lived SpanJoinIndex. Spans are built up front: decoding is not measured here.
 *
 *   npx tsx bench/aggregate-bench.ts [--batches N] [--rounds N]
 */
import type { NormalizedResource, NormalizedSpan, SpanAttributes, SpanKind } from "@faultline/otlp";
import { aggregateSpans, SpanJoinIndex } from "../src/index.ts";
import { seededRandom } from "../src/test-support/seeded-random.ts";

const argValue = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const batchSize = 512;
const batches = argValue("--batches", 800);
const rounds = argValue("--rounds", 5);

const random = seededRandom(2026);
const services = 40;
const operationsPerService = 60;
const versionsPerService = 2;
const instancesPerVersion = 4;

const resources: NormalizedResource[][] = [];
for (let s = 0; s < services; s++) {
  const list: NormalizedResource[] = [];
  for (let v = 0; v < versionsPerService; v++) {
    for (let i = 0; i < instancesPerVersion; i++) {
      list.push({
        serviceName: `svc-${s}`,
        serviceVersion: `1.${v}.0`,
        serviceInstanceId: `svc-${s}-${v}-${i}`,
        environment: "production",
        region: "us-east-1",
        sdkLanguage: "go",
        osType: null,
      });
    }
  }
  resources.push(list);
}

const base: SpanAttributes = {
  httpMethod: null,
  httpRoute: null,
  httpStatusCode: null,
  rpcSystem: null,
  rpcService: null,
  rpcMethod: null,
  rpcGrpcStatusCode: null,
  messagingSystem: null,
  messagingDestination: null,
  messagingOperationType: null,
  serverAddress: null,
  peerService: null,
  errorType: null,
  userId: null,
  sessionId: null,
  platform: null,
};

const pick = <T>(list: readonly T[]): T => {
  const value = list[random.int(list.length)];
  if (value === undefined) throw new Error("empty list");
  return value;
};

let clockMs = Date.UTC(2026, 0, 1);
const traceId = () => random.hex16() + random.hex16();

function span(
  resource: NormalizedResource,
  name: string,
  kind: SpanKind,
  startMs: number,
  durationMs: number,
  ids: { traceId: string; spanId: string; parentSpanId: string | null; links?: NormalizedSpan["links"] },
  attributes: Partial<SpanAttributes>,
  error: boolean,
): NormalizedSpan {
  const startNs = BigInt(Math.round(startMs)) * 1_000_000n;
  return {
    resource,
    traceId: ids.traceId,
    spanId: ids.spanId,
    parentSpanId: ids.parentSpanId,
    name,
    kind,
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + BigInt(Math.round(durationMs * 1e6)),
    startTimeMs: startMs,
    durationMs,
    statusCode: error ? "error" : "unset",
    statusMessage: error ? "boom" : null,
    links: ids.links ?? [],
    attributes: { ...base, ...attributes },
    exception: error
      ? {
          type: "java.lang.IllegalStateException",
          message: `conversation ${random.int(1e6)} locked by ${random.hex16()}`,
          stack: "at Foo.bar(Foo.java:42)",
        }
      : null,
  };
}

// A stream of hops; within each batch the callee's span usually comes before its caller's, as SDKs
// export the shorter, inner span first.
const spans: NormalizedSpan[] = [];
while (spans.length < batches * batchSize) {
  clockMs += 2;
  const caller = random.int(services);
  const callee = (caller + 1 + random.int(services - 1)) % services;
  const op = random.int(operationsPerService);
  const callerResource = pick(resources[caller] ?? []);
  const calleeResource = pick(resources[callee] ?? []);
  const tid = traceId();
  const error = random.next() < 0.02;
  const user = `user-${random.int(200_000)}`;
  if (random.next() < 0.9) {
    const clientId = random.hex16();
    const duration = random.lognormal(20, 0.6);
    const server = span(
      calleeResource,
      `POST /v1/op/${op}`,
      "server",
      clockMs + 1,
      duration,
      { traceId: tid, spanId: random.hex16(), parentSpanId: clientId },
      { httpMethod: "POST", httpRoute: `/v1/op/${op}`, httpStatusCode: error ? 500 : 200, userId: user },
      error,
    );
    const client = span(
      callerResource,
      `POST /v1/op/${op}`,
      "client",
      clockMs,
      duration + 2,
      { traceId: tid, spanId: clientId, parentSpanId: random.hex16() },
      { httpMethod: "POST", httpStatusCode: error ? 500 : 200 },
      error,
    );
    spans.push(server, client);
  } else {
    const destination = `topic-${op % 5}`;
    const producerId = random.hex16();
    const producer = span(
      callerResource,
      `send ${destination}`,
      "producer",
      clockMs,
      2,
      { traceId: tid, spanId: producerId, parentSpanId: random.hex16() },
      { messagingSystem: "kafka", messagingDestination: destination, messagingOperationType: "send" },
      false,
    );
    const viaLink = random.next() < 0.5;
    const consumer = span(
      calleeResource,
      `process ${destination}`,
      "consumer",
      clockMs + random.lognormal(50, 1),
      random.lognormal(15, 0.5),
      {
        traceId: viaLink ? traceId() : tid,
        spanId: random.hex16(),
        parentSpanId: viaLink ? null : producerId,
        links: viaLink ? [{ traceId: tid, spanId: producerId }] : [],
      },
      {
        messagingSystem: "kafka",
        messagingDestination: destination,
        messagingOperationType: "process",
        userId: user,
      },
      error,
    );
    spans.push(producer, consumer);
  }
}

const batchList: NormalizedSpan[][] = [];
for (let i = 0; i < batches; i++) batchList.push(spans.slice(i * batchSize, (i + 1) * batchSize));

const seriesSeen = new Set<string>();
let errorSpans = 0;
let edgeCount = 0;
let bestRate = 0;
const rates: number[] = [];
// Process CPU time (all threads, GC helpers included): steadier than wall time on a shared machine.
const cpuRates: number[] = [];
for (let round = 0; round < rounds; round++) {
  const joinIndex = new SpanJoinIndex();
  const context = { defaultEnvironment: "production", nowMs: clockMs + 1000, joinIndex };
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let accepted = 0;
  for (const batch of batchList) {
    const result = aggregateSpans(batch, context);
    accepted += result.accepted;
    if (round === 0) {
      for (const d of result.seriesBuckets) {
        seriesSeen.add(d.seriesKey);
        errorSpans += d.errors;
      }
      edgeCount += result.edges.reduce((n, e) => n + e.count, 0);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  cpuRates.push(accepted / ((cpu.user + cpu.system) / 1e6));
  const rate = accepted / seconds;
  rates.push(rate);
  if (rate > bestRate) bestRate = rate;
}

const total = batches * batchSize;
const medianOf = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const median = medianOf(rates);
const format = (n: number): string => Math.round(n).toLocaleString("en-US");
console.log(
  `aggregateSpans: ${total} spans in ${batches} batches of ${batchSize}, ${seriesSeen.size} series, ` +
    `${((errorSpans / total) * 100).toFixed(1)}% errors, ${edgeCount} edge events`,
);
console.log(
  `rounds ${rounds}: median ${format(median)} spans/s, best ${format(bestRate)} spans/s (wall clock); ` +
    `median ${format(medianOf(cpuRates))} spans per CPU-second`,
);
