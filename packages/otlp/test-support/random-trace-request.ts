/**
 * Seeded random OTLP trace requests for differential tests: a plain model rendered both to protobuf
 * wire bytes (fields in random order, unknown fields and groups sprinkled in) and to OTLP/JSON (random
 * camelCase/snake_case keys, int64 as numbers or strings, enums as numbers or names, upper/lower hex).
 */
import type { DecodeLimits } from "../src/normalized-span.ts";
import {
  bytesField,
  type Chunk,
  concatBytes,
  doubleField,
  fixed32Field,
  fixed64Field,
  groupField,
  messageField,
  stringField,
  varintField,
} from "./proto-bytes.ts";

/**
 * Limits small enough that random requests hit every one of them (attribute count, string length,
 * nesting, links, stack lines): differential tests run a share of their requests under these.
 */
export const tightDecodeLimits: DecodeLimits = {
  maxAttributes: 5,
  maxStringLength: 10,
  maxDepth: 2,
  maxLinks: 2,
  maxStackLines: 2,
};

/** mulberry32: small, fast, good enough for test data. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type RandomAnyValue =
  | { kind: "string"; value: string }
  | { kind: "bool"; value: boolean }
  | { kind: "int"; value: bigint }
  | { kind: "double"; value: number }
  | { kind: "array"; values: RandomAnyValue[] }
  | { kind: "kvlist"; values: RandomKeyValue[] }
  | { kind: "bytes"; value: Uint8Array }
  | { kind: "empty" };

export interface RandomKeyValue {
  key: string;
  value: RandomAnyValue | null;
}

export interface RandomSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array | null;
  traceState: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  flags: number;
  attributes: RandomKeyValue[];
  events: Array<{ time: bigint; name: string; attributes: RandomKeyValue[] }>;
  links: Array<{ traceId: Uint8Array; spanId: Uint8Array; attributes: RandomKeyValue[] }>;
  status: { code: number; message: string } | null;
}

export interface RandomResourceSpans {
  resource: RandomKeyValue[] | null;
  resourceAfterSpans: boolean;
  scopeSpans: Array<{ scopeName: string; spans: RandomSpan[] }>;
}

export interface RandomTraceRequest {
  resourceSpans: RandomResourceSpans[];
}

const resourceKeys = [
  "service.name",
  "service.version",
  "service.instance.id",
  "k8s.pod.name",
  "host.name",
  "deployment.environment.name",
  "deployment.environment",
  "cloud.region",
  "telemetry.sdk.language",
  "os.type",
  "os.name",
];
const spanKeys = [
  "http.request.method",
  "http.method",
  "http.route",
  "http.response.status_code",
  "http.status_code",
  "rpc.system",
  "rpc.service",
  "rpc.method",
  "rpc.grpc.status_code",
  "messaging.system",
  "messaging.destination.name",
  "messaging.operation.type",
  "messaging.operation",
  "server.address",
  "net.peer.name",
  "peer.service",
  "error.type",
  "enduser.id",
  "user.id",
  "session.id",
  "app.platform",
];
const exceptionKeys = ["exception.type", "exception.message", "exception.stacktrace"];
const hostileKeys = ["__proto__", "constructor", "prototype", "toString", "", "http.rout", "http.routf"];
const alphabet = ["a", "b", "Z", "0", "7", ".", "-", "_", " ", "é", "ß", "中", "文", "😀", "\n", "\r\n", "/"];

export class RandomRequestBuilder {
  constructor(private readonly random: () => number) {}

  int(maxExclusive: number): number {
    return Math.floor(this.random() * maxExclusive);
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  private pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("empty pick");
    return item;
  }

  string(maxLength = 24): string {
    const length = this.chance(0.05) ? 40 + this.int(200) : this.int(maxLength);
    let text = "";
    for (let index = 0; index < length; index += 1) text += this.pick(alphabet);
    return text;
  }

  private bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let index = 0; index < length; index += 1) out[index] = this.int(256);
    return out;
  }

  /** Mostly valid random ids; sometimes empty or all-zero (invalid spans). */
  private id(length: number, invalidChance: number): Uint8Array {
    if (this.chance(invalidChance)) return this.chance(0.5) ? new Uint8Array(0) : new Uint8Array(length);
    const id = this.bytes(length);
    if (this.chance(0.2)) id.fill(0xff);
    id[this.int(length)] = 1 + this.int(255);
    return id;
  }

  private int64(): bigint {
    switch (this.int(6)) {
      case 0:
        return BigInt(this.int(600));
      case 1:
        return -BigInt(this.int(1_000_000));
      case 2:
        return (1n << 63n) - 1n - BigInt(this.int(1000));
      case 3:
        return -(1n << 63n) + BigInt(this.int(1000));
      case 4:
        return BigInt(Number.MAX_SAFE_INTEGER) + BigInt(this.int(3)) - 1n;
      default:
        return BigInt(this.int(2 ** 31));
    }
  }

  anyValue(depth: number): RandomAnyValue {
    const kind = this.int(depth > 4 ? 5 : 8);
    switch (kind) {
      case 0:
        return { kind: "string", value: this.string() };
      case 1:
        return { kind: "int", value: this.int64() };
      case 2:
        return { kind: "bool", value: this.chance(0.5) };
      case 3:
        return { kind: "double", value: this.pick([1.5, 200, -3.25, 1e21, 404, 0.1, Number.NaN]) };
      case 4:
        return this.chance(0.5) ? { kind: "bytes", value: this.bytes(this.int(5)) } : { kind: "empty" };
      case 5:
        return {
          kind: "array",
          values: Array.from({ length: this.int(4) }, () => this.anyValue(depth + 1)),
        };
      default:
        return { kind: "kvlist", values: this.keyValues([], depth + 1, 3) };
    }
  }

  /** Status-code-like values often arrive as strings: bias known keys towards useful shapes. */
  private valueFor(key: string, depth: number): RandomAnyValue | null {
    if (this.chance(0.05)) return null;
    if (key.endsWith("status_code") && this.chance(0.6)) {
      return this.chance(0.5)
        ? { kind: "int", value: BigInt(this.pick([200, 404, 500, 14, 0])) }
        : { kind: "string", value: this.pick(["503", "0", "-2", "abc", "1234567890123456"]) };
    }
    if (key === "exception.stacktrace" && this.chance(0.7)) {
      return {
        kind: "string",
        value: Array.from({ length: this.int(9) }, () => this.string(12)).join(this.pick(["\n", "\r\n"])),
      };
    }
    if (depth === 0 && this.chance(0.6)) return { kind: "string", value: this.string() };
    return this.anyValue(depth);
  }

  keyValues(knownKeys: readonly string[], depth: number, maxCount: number): RandomKeyValue[] {
    const count = depth === 0 && this.chance(0.03) ? 140 + this.int(20) : this.int(maxCount);
    return Array.from({ length: count }, () => {
      const roll = this.random();
      const key =
        roll < 0.55 && knownKeys.length > 0
          ? this.pick(knownKeys)
          : roll < 0.65
            ? this.pick(hostileKeys)
            : this.string(16);
      return { key, value: this.valueFor(key, depth) };
    });
  }

  private time(): bigint {
    switch (this.int(6)) {
      case 0:
        return (1n << 63n) - BigInt(this.int(1_000_000_000));
      case 1:
        return (1n << 64n) - 1n - BigInt(this.int(1000));
      case 2:
        return 0n;
      default:
        return (
          1_750_000_000_000_000_000n + BigInt(this.int(2 ** 30)) * 1_000_000n + BigInt(this.int(1_000_000))
        );
    }
  }

  span(): RandomSpan {
    const start = this.time();
    const end = this.chance(0.05)
      ? BigInt.asUintN(64, start - 1n)
      : BigInt.asUintN(64, start + BigInt(this.int(5_000_000_000)) + (this.chance(0.05) ? 1n << 62n : 0n));
    return {
      traceId: this.id(16, 0.04),
      spanId: this.id(8, 0.04),
      parentSpanId: this.chance(0.3) ? null : this.id(8, 0.2),
      traceState: this.chance(0.8) ? "" : "k=v",
      name: this.chance(0.04) ? "" : this.string(30) || "op",
      kind: this.chance(0.03) ? 6 + this.int(100) : this.int(6),
      start,
      end,
      flags: this.chance(0.5) ? 0x101 : 0xffffffff,
      attributes: this.keyValues(spanKeys, 0, 16),
      events: Array.from({ length: this.int(4) }, () => ({
        time: this.time(),
        name: this.chance(0.5) ? "exception" : this.pick(["log", "exceptio", "exceptionn", this.string(8)]),
        attributes: this.keyValues(exceptionKeys, 0, 6),
      })),
      links: Array.from({ length: this.chance(0.05) ? 40 : this.int(4) }, () => ({
        traceId: this.id(16, 0.1),
        spanId: this.id(8, 0.1),
        attributes: this.keyValues(["messaging.message.id"], 0, 2),
      })),
      status: this.chance(0.3) ? null : { code: this.int(4), message: this.chance(0.5) ? "" : this.string() },
    };
  }

  request(): RandomTraceRequest {
    return {
      resourceSpans: Array.from({ length: this.int(4) }, () => ({
        resource: this.chance(0.1) ? null : this.keyValues(resourceKeys, 0, 12),
        resourceAfterSpans: this.chance(0.3),
        scopeSpans: Array.from({ length: this.int(3) + (this.chance(0.1) ? 0 : 1) }, () => ({
          scopeName: this.string(10),
          spans: Array.from({ length: this.int(8) }, () => this.span()),
        })),
      })),
    };
  }

  /** Unknown fields of every wire type (numbers above those OTLP uses), including nested groups. */
  unknownFields(): Chunk[] {
    const out: Chunk[] = [];
    const count = this.chance(0.7) ? 0 : 1 + this.int(3);
    for (let index = 0; index < count; index += 1) {
      const fieldNumber = 100 + this.int(1000);
      switch (this.int(6)) {
        case 0:
          out.push(varintField(fieldNumber, this.chance(0.5) ? -1 : this.int(300)));
          break;
        case 1:
          out.push(fixed64Field(fieldNumber, 123456789n));
          break;
        case 2:
          out.push(fixed32Field(fieldNumber, 7));
          break;
        case 3:
          out.push(stringField(fieldNumber, this.string()));
          break;
        case 4:
          out.push(
            groupField(fieldNumber, [varintField(1, 5), groupField(fieldNumber + 1, [stringField(2, "x")])]),
          );
          break;
        default:
          out.push(messageField(fieldNumber, [varintField(1, 1), stringField(2, "nested")]));
      }
    }
    return out;
  }

  /** Shuffles message fields (proto allows any order) and mixes in unknown fields. */
  shuffle(fields: Chunk[]): Chunk[] {
    const out = [...fields, ...this.unknownFields()];
    for (let index = out.length - 1; index > 0; index -= 1) {
      const other = this.int(index + 1);
      const a = out[index];
      const b = out[other];
      if (a === undefined || b === undefined) continue;
      out[index] = b;
      out[other] = a;
    }
    return out;
  }
}

// ---- protobuf rendering ------------------------------------------------------------------------

function anyValueFields(value: RandomAnyValue, builder: RandomRequestBuilder): Chunk[] {
  switch (value.kind) {
    case "string":
      return [stringField(1, value.value)];
    case "bool":
      return [varintField(2, value.value ? 1 : 0)];
    case "int":
      return [varintField(3, value.value)];
    case "double":
      return [doubleField(4, value.value)];
    case "array":
      return [
        messageField(
          5,
          value.values.map((item) => messageField(1, anyValueFields(item, builder))),
        ),
      ];
    case "kvlist":
      return [
        messageField(
          6,
          value.values.map((item) => messageField(1, keyValueFields(item, builder))),
        ),
      ];
    case "bytes":
      return [bytesField(7, value.value)];
    default:
      return [];
  }
}

function keyValueFields(keyValue: RandomKeyValue, builder: RandomRequestBuilder): Chunk[] {
  const fields = [stringField(1, keyValue.key)];
  if (keyValue.value !== null) fields.push(messageField(2, anyValueFields(keyValue.value, builder)));
  return builder.shuffle(fields);
}

function attributeFields(
  fieldNumber: number,
  list: RandomKeyValue[],
  builder: RandomRequestBuilder,
): Chunk[] {
  return list.map((keyValue) => messageField(fieldNumber, keyValueFields(keyValue, builder)));
}

/** Keeps the relative order of repeated fields (it is significant) while shuffling the others in. */
function interleave(builder: RandomRequestBuilder, single: Chunk[], repeatedGroups: Chunk[][]): Chunk[] {
  const out = builder.shuffle(single);
  for (const group of repeatedGroups) {
    let insertAt = 0;
    for (const chunk of group) {
      insertAt += builder.int(2);
      insertAt = Math.min(insertAt, out.length);
      out.splice(insertAt, 0, chunk);
      insertAt += 1;
    }
  }
  return out;
}

function spanFields(span: RandomSpan, builder: RandomRequestBuilder): Chunk[] {
  const single: Chunk[] = [
    fixed64Field(7, span.start),
    fixed64Field(8, span.end),
    stringField(5, span.name),
    varintField(6, span.kind),
    fixed32Field(16, span.flags),
    varintField(10, 3),
  ];
  if (span.traceId.length > 0 || builder.chance(0.5)) single.push(bytesField(1, span.traceId));
  if (span.spanId.length > 0 || builder.chance(0.5)) single.push(bytesField(2, span.spanId));
  if (span.parentSpanId !== null) single.push(bytesField(4, span.parentSpanId));
  if (span.traceState !== "") single.push(stringField(3, span.traceState));
  if (span.status !== null) {
    const status: Chunk[] = [];
    if (span.status.code !== 0) status.push(varintField(3, span.status.code));
    if (span.status.message !== "") status.push(stringField(2, span.status.message));
    single.push(messageField(15, builder.shuffle(status)));
  }
  const events = span.events.map((event) =>
    messageField(
      11,
      interleave(
        builder,
        [fixed64Field(1, event.time), stringField(2, event.name)],
        [attributeFields(3, event.attributes, builder)],
      ),
    ),
  );
  const links = span.links.map((link) =>
    messageField(
      13,
      interleave(
        builder,
        [bytesField(1, link.traceId), bytesField(2, link.spanId), fixed32Field(6, 1)],
        [attributeFields(4, link.attributes, builder)],
      ),
    ),
  );
  return interleave(builder, single, [attributeFields(9, span.attributes, builder), events, links]);
}

/** Renders the model as ExportTraceServiceRequest wire bytes. */
export function renderProto(request: RandomTraceRequest, builder: RandomRequestBuilder): Uint8Array {
  const resourceSpansChunks = request.resourceSpans.map((resourceSpans) => {
    const scopeChunks = resourceSpans.scopeSpans.map((scopeSpans) =>
      messageField(
        2,
        interleave(
          builder,
          [messageField(1, [stringField(1, scopeSpans.scopeName)]), stringField(3, "schema")],
          [scopeSpans.spans.map((span) => messageField(2, spanFields(span, builder)))],
        ),
      ),
    );
    const resourceChunk =
      resourceSpans.resource === null
        ? []
        : [
            messageField(
              1,
              interleave(builder, [varintField(2, 1)], [attributeFields(1, resourceSpans.resource, builder)]),
            ),
          ];
    const fields = resourceSpans.resourceAfterSpans
      ? [...scopeChunks, ...resourceChunk, ...builder.unknownFields()]
      : [...resourceChunk, ...builder.unknownFields(), ...scopeChunks];
    return messageField(1, fields);
  });
  return concatBytes(interleave(builder, [], [resourceSpansChunks]));
}

// ---- JSON rendering ----------------------------------------------------------------------------

function jsonKey(builder: RandomRequestBuilder, camel: string, snake: string): string {
  return builder.chance(0.2) ? snake : camel;
}

function hexOf(bytes: Uint8Array, upper: boolean): string {
  const hex = Buffer.from(bytes).toString("hex");
  return upper ? hex.toUpperCase() : hex;
}

function jsonUint64(value: bigint, builder: RandomRequestBuilder): string | number {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && builder.chance(0.5) ? Number(value) : value.toString();
}

function jsonAnyValue(value: RandomAnyValue, builder: RandomRequestBuilder): Record<string, unknown> {
  switch (value.kind) {
    case "string":
      return { [jsonKey(builder, "stringValue", "string_value")]: value.value };
    case "bool":
      return { [jsonKey(builder, "boolValue", "bool_value")]: value.value };
    case "int": {
      const safe =
        value.value >= BigInt(Number.MIN_SAFE_INTEGER) && value.value <= BigInt(Number.MAX_SAFE_INTEGER);
      return {
        [jsonKey(builder, "intValue", "int_value")]:
          safe && builder.chance(0.5) ? Number(value.value) : value.value.toString(),
      };
    }
    case "double":
      return { doubleValue: Number.isNaN(value.value) ? "NaN" : value.value };
    case "array":
      return { arrayValue: { values: value.values.map((item) => jsonAnyValue(item, builder)) } };
    case "kvlist":
      return { kvlistValue: { values: value.values.map((item) => jsonKeyValue(item, builder)) } };
    case "bytes":
      return { bytesValue: Buffer.from(value.value).toString("base64") };
    default:
      return {};
  }
}

function jsonKeyValue(keyValue: RandomKeyValue, builder: RandomRequestBuilder): Record<string, unknown> {
  const out: Record<string, unknown> = { key: keyValue.key };
  if (keyValue.value !== null) out.value = jsonAnyValue(keyValue.value, builder);
  return out;
}

const kindNames = [
  "SPAN_KIND_UNSPECIFIED",
  "SPAN_KIND_INTERNAL",
  "SPAN_KIND_SERVER",
  "SPAN_KIND_CLIENT",
  "SPAN_KIND_PRODUCER",
  "SPAN_KIND_CONSUMER",
];
const statusNames = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

function jsonSpan(span: RandomSpan, builder: RandomRequestBuilder): Record<string, unknown> {
  const upper = builder.chance(0.3);
  const kindName = kindNames[span.kind];
  const out: Record<string, unknown> = {
    [jsonKey(builder, "traceId", "trace_id")]: hexOf(span.traceId, upper),
    [jsonKey(builder, "spanId", "span_id")]: hexOf(span.spanId, upper),
    name: span.name,
    kind: kindName !== undefined && builder.chance(0.3) ? kindName : span.kind,
    [jsonKey(builder, "startTimeUnixNano", "start_time_unix_nano")]: jsonUint64(span.start, builder),
    [jsonKey(builder, "endTimeUnixNano", "end_time_unix_nano")]: jsonUint64(span.end, builder),
    flags: span.flags,
    droppedAttributesCount: 3,
    attributes: span.attributes.map((keyValue) => jsonKeyValue(keyValue, builder)),
    events: span.events.map((event) => ({
      timeUnixNano: event.time.toString(),
      name: event.name,
      attributes: event.attributes.map((keyValue) => jsonKeyValue(keyValue, builder)),
    })),
    links: span.links.map((link) => ({
      traceId: hexOf(link.traceId, upper),
      spanId: hexOf(link.spanId, upper),
      attributes: link.attributes.map((keyValue) => jsonKeyValue(keyValue, builder)),
    })),
    someFutureField: { nested: [1, 2, 3] },
  };
  if (span.parentSpanId !== null)
    out[jsonKey(builder, "parentSpanId", "parent_span_id")] = hexOf(span.parentSpanId, upper);
  if (span.traceState !== "") out.traceState = span.traceState;
  if (span.status !== null) {
    const statusName = statusNames[span.status.code];
    out.status = {
      code: statusName !== undefined && builder.chance(0.3) ? statusName : span.status.code,
      message: span.status.message,
    };
  }
  return out;
}

/** Renders the model as OTLP/JSON text. */
export function renderJson(request: RandomTraceRequest, builder: RandomRequestBuilder): string {
  return JSON.stringify({
    [jsonKey(builder, "resourceSpans", "resource_spans")]: request.resourceSpans.map((resourceSpans) => ({
      ...(resourceSpans.resource === null
        ? {}
        : {
            resource: {
              attributes: resourceSpans.resource.map((keyValue) => jsonKeyValue(keyValue, builder)),
            },
          }),
      [jsonKey(builder, "scopeSpans", "scope_spans")]: resourceSpans.scopeSpans.map((scopeSpans) => ({
        scope: { name: scopeSpans.scopeName },
        spans: scopeSpans.spans.map((span) => jsonSpan(span, builder)),
        schemaUrl: "schema",
      })),
    })),
  });
}
