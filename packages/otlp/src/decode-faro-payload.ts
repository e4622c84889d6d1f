/**
 * Grafana Faro web SDK payloads (`POST /collect`) → typed signals and NormalizedSpans.
 *
 * Browser exceptions and page loads become spans of kind "browser" so they feed the same aggregation
 * as backend spans: a spike of web errors is a signal like any other, with distinct users and sessions
 * counted. Faro's embedded OTLP traces go through the normal OTLP/JSON decoder, so a browser span's
 * trace continues into the backend's.
 *
 * Everything here comes from browsers, i.e. from anyone: only the top-level shape is required (a JSON
 * object); any odd field value degrades to null or a default, every list and string is capped, and
 * parsed objects are only read by fixed names (Object.hasOwn), so `__proto__` keys are inert.
 */
import { decodeTraceRequestJson } from "./decode-trace-request-json.ts";
import { normalizeHexId } from "./hex-ids.ts";
import { truncateString } from "./normalize-attributes.ts";
import {
  type DecodeResult,
  defaultDecodeLimits,
  type NormalizedResource,
  type NormalizedSpan,
  OtlpDecodeError,
  type SpanAttributes,
} from "./normalized-span.ts";
import { decodeUtf8Document } from "./utf8-text.ts";

/** Bounds on one Faro payload. */
export interface FaroDecodeLimits {
  /** Items read per list (logs, exceptions, measurements, events); the rest are counted as dropped. */
  maxItemsPerKind: number;
  /** Longer strings are truncated to this many characters. */
  maxStringLength: number;
  /** Service (app) names longer than this are truncated; they become series keys. */
  maxNameLength: number;
  /** Stack frames read per exception. */
  maxFrames: number;
  /** Stack lines kept on the exception span. */
  maxStackLines: number;
  /** Entries read from `context`, `attributes` and `values` maps. */
  maxMapEntries: number;
}

export const defaultFaroDecodeLimits: FaroDecodeLimits = {
  maxItemsPerKind: 1000,
  maxStringLength: 1024,
  maxNameLength: 128,
  maxFrames: 50,
  maxStackLines: defaultDecodeLimits.maxStackLines,
  maxMapEntries: 64,
};

/** The batch's metadata, as far as Faultline uses it. Every field is optional on the wire. */
export interface FaroMeta {
  /** `app.name` (service name); null when absent. */
  appName: string | null;
  /** `app.version`, else `app.release`. */
  appVersion: string | null;
  appEnvironment: string | null;
  appNamespace: string | null;
  sessionId: string | null;
  userId: string | null;
  pageUrl: string | null;
  /** The page path with ids replaced by `:id` (see {@link pageRouteOf}). */
  pageRoute: string;
  viewName: string | null;
  browserName: string | null;
  browserOs: string | null;
  browserMobile: boolean | null;
  sdkName: string | null;
  sdkVersion: string | null;
}

/** A trace context carried by a Faro item (`trace.trace_id`/`span_id`, snake_case); null ids were invalid. */
export interface FaroTraceContext {
  traceId: string | null;
  spanId: string | null;
}

export interface FaroLog {
  timestampMs: number;
  level: string;
  message: string;
  context: Map<string, string>;
  trace: FaroTraceContext;
}

export interface FaroException {
  timestampMs: number;
  type: string;
  value: string;
  /** The first frames as `function (file:line:col)` lines, or null. */
  stack: string | null;
  trace: FaroTraceContext;
}

export interface FaroMeasurement {
  timestampMs: number;
  type: string;
  /** Finite numbers only; NaN, Infinity and non-numbers are dropped. */
  values: Map<string, number>;
  trace: FaroTraceContext;
}

export interface FaroEvent {
  timestampMs: number;
  name: string;
  domain: string | null;
  attributes: Map<string, string>;
  trace: FaroTraceContext;
}

export interface FaroPayload {
  meta: FaroMeta;
  logs: FaroLog[];
  exceptions: FaroException[];
  measurements: FaroMeasurement[];
  events: FaroEvent[];
  /** Spans made from exceptions and page loads (kind "browser"). */
  browserSpans: NormalizedSpan[];
  /** The embedded OTLP traces, decoded like any OTLP/JSON request; null when the payload had none. */
  traces: DecodeResult | null;
  /** Why the embedded traces were dropped as a whole (invalid OTLP), or null. */
  tracesError: string | null;
  /** Items beyond the per-list caps, or not objects. */
  droppedItems: number;
}

/** Thrown only when the body is not JSON or not a JSON object: the receiver answers 400. */
export class FaroDecodeError extends Error {
  override readonly name = "FaroDecodeError";
}

/** The Faro event the web SDK's performance instrumentation sends once per page load. */
export const faroPageLoadEventName = "faro.performance.navigation";

type JsonObject = { readonly [key: string]: unknown };

const unknownPage = "unknown_page";
const maxRouteSegments = 12;
const maxPageLoadMs = 60 * 60 * 1000;

/**
 * Decodes a Faro `TransportBody`.
 *
 * - A missing or malformed `meta` is accepted with defaults (service "unknown_service").
 * - Timestamps: ISO-8601 strings or epoch milliseconds; anything else (empty, year 0001, garbage)
 *   becomes `receivedAtMs`.
 * - Exceptions become error spans; `faro.performance.navigation` events become page-load spans whose
 *   duration is the event's `pageLoadTime`. Both: service = `app.name`, version = `app.version`,
 *   operation = the page route, user = `user.id`, session = `session.id`. Their trace id is the item's
 *   `trace.trace_id` when valid (so they join the backend trace), else a deterministic synthetic one;
 *   span ids are always synthetic and deterministic, so a retried batch yields the same ids.
 * - `traces` is decoded with {@link decodeTraceRequestJson}; invalid OTLP there drops the traces only.
 *
 * @param body the decompressed request body.
 * @param receivedAtMs arrival time (epoch ms), used for items without a usable timestamp.
 * @throws FaroDecodeError for a body that is not JSON or whose top level is not an object.
 */
export function decodeFaroPayload(
  body: Uint8Array | string,
  receivedAtMs: number,
  limits: FaroDecodeLimits = defaultFaroDecodeLimits,
): FaroPayload {
  const text = typeof body === "string" ? body.replace(/^\uFEFF/, "") : decodeUtf8Document(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FaroDecodeError("body is not valid JSON");
  }
  if (!isObject(parsed)) throw new FaroDecodeError("body must be a JSON object");

  const reader = new FieldReader(limits, receivedAtMs);
  const meta = reader.meta(field(parsed, "meta"));
  const logs = reader.list(field(parsed, "logs"), (item) => reader.log(item));
  const exceptions = reader.list(field(parsed, "exceptions"), (item) => reader.exception(item));
  const measurements = reader.list(field(parsed, "measurements"), (item) => reader.measurement(item));
  const events = reader.list(field(parsed, "events"), (item) => reader.event(item));

  let traces: DecodeResult | null = null;
  let tracesError: string | null = null;
  const rawTraces = field(parsed, "traces");
  if (rawTraces !== undefined && rawTraces !== null) {
    try {
      traces = decodeTraceRequestJson(JSON.stringify(rawTraces));
    } catch (error) {
      tracesError = error instanceof OtlpDecodeError ? error.message : "traces could not be decoded";
    }
  }

  return {
    meta,
    logs: logs.items,
    exceptions: exceptions.items,
    measurements: measurements.items,
    events: events.items,
    browserSpans: browserSpansOf(meta, exceptions.items, events.items, limits),
    traces,
    tracesError,
    droppedItems: logs.dropped + exceptions.dropped + measurements.dropped + events.dropped,
  };
}

/**
 * The route of a page URL for use as an operation name: the path (or a `#/…` hash route), with
 * segments that look like ids — numbers, UUIDs, long hex, long tokens with digits, emails — replaced
 * by `:id`, at most 12 segments. Non-http(s) URLs (`javascript:`…) and unparsable ones give
 * "unknown_page", so neither script nor query strings (which may hold tokens) reach series names.
 */
export function pageRouteOf(url: string | null): string {
  if (url === null) return unknownPage;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return unknownPage;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return unknownPage;
  const path = parsed.hash.startsWith("#/") ? (parsed.hash.slice(1).split("?")[0] ?? "/") : parsed.pathname;
  const segments = path.split("/").filter((segment) => segment !== "");
  const kept = segments.slice(0, maxRouteSegments).map(normalizeSegment);
  if (segments.length > maxRouteSegments) kept.push("…");
  return `/${kept.join("/")}`;
}

function normalizeSegment(segment: string): string {
  if (segment.length > 64) return ":id";
  if (/^\d+$/.test(segment)) return ":id";
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(segment)) return ":id";
  if (/^[0-9a-f]{12,}$/i.test(segment)) return ":id";
  if (segment.length >= 16 && /\d/.test(segment) && /^[\w.~%-]+$/.test(segment)) return ":id";
  if (segment.includes("@") || segment.includes("%40")) return ":id";
  // Anything else outside URL-safe characters is kept percent-encoded as the URL parser left it.
  return segment;
}

function browserSpansOf(
  meta: FaroMeta,
  exceptions: readonly FaroException[],
  events: readonly FaroEvent[],
  limits: FaroDecodeLimits,
): NormalizedSpan[] {
  const resource: NormalizedResource = {
    serviceName: meta.appName ?? "unknown_service",
    serviceVersion: meta.appVersion,
    serviceInstanceId: null,
    environment: meta.appEnvironment,
    region: null,
    sdkLanguage: "webjs",
    osType: meta.browserOs?.toLowerCase() ?? null,
  };
  const seed = `${meta.sessionId ?? ""}\u0000${meta.pageUrl ?? ""}`;
  const spans: NormalizedSpan[] = [];
  exceptions.forEach((exception, index) => {
    const ids = spanIdsOf(
      `${seed}\u0000x${index}\u0000${exception.timestampMs}\u0000${exception.type}\u0000${exception.value}`,
      exception.trace,
    );
    spans.push({
      resource,
      ...ids,
      name: meta.pageRoute,
      kind: "browser",
      ...timesOf(exception.timestampMs, 0),
      statusCode: "error",
      statusMessage: exception.value === "" ? null : truncateString(exception.value, limits.maxStringLength),
      links: [],
      attributes: attributesOf(meta, exception.type),
      exception: { type: exception.type, message: exception.value, stack: exception.stack },
    });
  });
  events.forEach((event, index) => {
    if (event.name !== faroPageLoadEventName) return;
    const loadMs = Number(event.attributes.get("pageLoadTime"));
    const durationMs = Number.isFinite(loadMs) && loadMs >= 0 ? Math.min(loadMs, maxPageLoadMs) : 0;
    const ids = spanIdsOf(`${seed}\u0000p${index}\u0000${event.timestampMs}`, event.trace);
    spans.push({
      resource,
      ...ids,
      name: meta.pageRoute,
      kind: "browser",
      ...timesOf(event.timestampMs, durationMs),
      statusCode: "unset",
      statusMessage: null,
      links: [],
      attributes: attributesOf(meta, null),
      exception: null,
    });
  });
  return spans;
}

function attributesOf(meta: FaroMeta, errorType: string | null): SpanAttributes {
  return {
    httpMethod: null,
    httpRoute: meta.pageRoute,
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
    errorType,
    userId: meta.userId,
    sessionId: meta.sessionId,
    platform: "web",
  };
}

function timesOf(
  startMs: number,
  durationMs: number,
): Pick<NormalizedSpan, "startTimeUnixNano" | "endTimeUnixNano" | "startTimeMs" | "durationMs"> {
  const start = BigInt(Math.round(startMs)) * 1_000_000n;
  return {
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(Math.round(durationMs * 1_000_000)),
    startTimeMs: Math.round(startMs),
    durationMs,
  };
}

function spanIdsOf(
  identity: string,
  trace: FaroTraceContext,
): Pick<NormalizedSpan, "traceId" | "spanId" | "parentSpanId"> {
  const joined = trace.traceId !== null;
  return {
    traceId:
      trace.traceId ??
      nonZeroHex(
        `${hash32Hex(identity, 1)}${hash32Hex(identity, 2)}${hash32Hex(identity, 3)}${hash32Hex(identity, 4)}`,
      ),
    spanId: nonZeroHex(`${hash32Hex(identity, 5)}${hash32Hex(identity, 6)}`),
    parentSpanId: joined ? trace.spanId : null,
  };
}

/** FNV-1a over UTF-16 code units with a per-lane seed, then a MurmurHash3 finalizer; 8 hex digits. */
function hash32Hex(text: string, lane: number): string {
  let h = Math.imul(0x811c9dc5 ^ lane, 0x01000193);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0).toString(16).padStart(8, "0");
}

function nonZeroHex(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** Reads Faro items leniently: every getter returns a default instead of throwing. */
class FieldReader {
  constructor(
    private readonly limits: FaroDecodeLimits,
    private readonly receivedAtMs: number,
  ) {}

  list<T>(value: unknown, read: (item: JsonObject) => T): { items: T[]; dropped: number } {
    if (!Array.isArray(value)) return { items: [], dropped: 0 };
    const items: T[] = [];
    let dropped = Math.max(0, value.length - this.limits.maxItemsPerKind);
    for (let i = 0; i < value.length && i < this.limits.maxItemsPerKind; i++) {
      const item: unknown = value[i];
      if (isObject(item)) items.push(read(item));
      else dropped += 1;
    }
    return { items, dropped };
  }

  meta(value: unknown): FaroMeta {
    const meta = isObject(value) ? value : {};
    const app = this.object(meta, "app");
    const session = this.object(meta, "session");
    const user = this.object(meta, "user");
    const page = this.object(meta, "page");
    const browser = this.object(meta, "browser");
    const sdk = this.object(meta, "sdk");
    const view = this.object(meta, "view");
    const pageUrl = this.text(page, "url");
    const mobile = field(browser, "mobile");
    return {
      appName: this.name(app, "name"),
      appVersion: this.name(app, "version") ?? this.name(app, "release"),
      appEnvironment: this.name(app, "environment"),
      appNamespace: this.name(app, "namespace"),
      sessionId: this.name(session, "id"),
      userId: this.name(user, "id"),
      pageUrl,
      pageRoute: pageRouteOf(pageUrl),
      viewName: this.name(view, "name"),
      browserName: this.name(browser, "name"),
      browserOs: this.name(browser, "os"),
      browserMobile: typeof mobile === "boolean" ? mobile : null,
      sdkName: this.name(sdk, "name"),
      sdkVersion: this.name(sdk, "version"),
    };
  }

  log(item: JsonObject): FaroLog {
    return {
      timestampMs: this.timestamp(item),
      level: this.name(item, "level") ?? "log",
      message: this.text(item, "message") ?? "",
      context: this.stringMap(field(item, "context")),
      trace: this.trace(item),
    };
  }

  exception(item: JsonObject): FaroException {
    return {
      timestampMs: this.timestamp(item),
      type: this.name(item, "type") ?? "Error",
      value: this.text(item, "value") ?? "",
      stack: this.stack(field(item, "stacktrace")),
      trace: this.trace(item),
    };
  }

  measurement(item: JsonObject): FaroMeasurement {
    const values = new Map<string, number>();
    const raw = field(item, "values");
    if (isObject(raw)) {
      for (const key of Object.keys(raw).slice(0, this.limits.maxMapEntries)) {
        const value = raw[key];
        if (typeof value === "number" && Number.isFinite(value)) {
          values.set(truncateString(key, this.limits.maxNameLength), value);
        }
      }
    }
    return {
      timestampMs: this.timestamp(item),
      type: this.name(item, "type") ?? "unknown",
      values,
      trace: this.trace(item),
    };
  }

  event(item: JsonObject): FaroEvent {
    return {
      timestampMs: this.timestamp(item),
      name: this.name(item, "name") ?? "unknown",
      domain: this.name(item, "domain"),
      attributes: this.stringMap(field(item, "attributes")),
      trace: this.trace(item),
    };
  }

  private object(parent: unknown, key: string): JsonObject {
    const value = field(parent, key);
    return isObject(value) ? value : {};
  }

  /** A free-text field (message, URL), truncated; control characters other than line breaks kept out. */
  private text(parent: unknown, key: string): string | null {
    const value = field(parent, key);
    if (typeof value !== "string") return null;
    return truncateString(stripControlCharacters(value, true), this.limits.maxStringLength);
  }

  /** A name-like field (service, version, ids): single line, trimmed, capped; empty → null. */
  private name(parent: unknown, key: string): string | null {
    const value = field(parent, key);
    const text = typeof value === "string" ? value : typeof value === "number" ? String(value) : null;
    if (text === null) return null;
    const cleaned = truncateString(stripControlCharacters(text, false).trim(), this.limits.maxNameLength);
    return cleaned === "" ? null : cleaned;
  }

  private timestamp(item: JsonObject): number {
    const value = field(item, "timestamp");
    const ms =
      typeof value === "number"
        ? value
        : typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)
          ? Date.parse(value)
          : Number.NaN;
    // Year-0001 defaults and other pre-epoch or absurd values are not times worth bucketing.
    return Number.isFinite(ms) && ms > 0 && ms < 8_640_000_000_000_000 ? ms : this.receivedAtMs;
  }

  private trace(item: JsonObject): FaroTraceContext {
    const trace = field(item, "trace");
    const traceId = validHex(field(trace, "trace_id"), 16);
    const spanId = validHex(field(trace, "span_id"), 8);
    return { traceId, spanId: traceId === null ? null : spanId };
  }

  private stringMap(value: unknown): Map<string, string> {
    const map = new Map<string, string>();
    if (!isObject(value)) return map;
    for (const key of Object.keys(value).slice(0, this.limits.maxMapEntries)) {
      const entry = value[key];
      if (typeof entry === "string" || typeof entry === "number" || typeof entry === "boolean") {
        map.set(
          truncateString(key, this.limits.maxNameLength),
          truncateString(stripControlCharacters(String(entry), true), this.limits.maxStringLength),
        );
      }
    }
    return map;
  }

  private stack(value: unknown): string | null {
    const frames = field(value, "frames");
    if (!Array.isArray(frames)) return null;
    const lines: string[] = [];
    const wanted = Math.min(this.limits.maxStackLines, this.limits.maxFrames);
    for (let i = 0; i < frames.length && i < this.limits.maxFrames && lines.length < wanted; i++) {
      const frame: unknown = frames[i];
      if (!isObject(frame)) continue;
      const fn = this.name(frame, "function") ?? "?";
      const file = this.name(frame, "filename") ?? "?";
      const line = field(frame, "lineno");
      const column = field(frame, "colno");
      const position =
        typeof line === "number" && Number.isFinite(line)
          ? `:${line}${typeof column === "number" && Number.isFinite(column) ? `:${column}` : ""}`
          : "";
      lines.push(`${fn} (${file}${position})`);
    }
    return lines.length === 0 ? null : lines.join("\n");
  }
}

function field(parent: unknown, key: string): unknown {
  return isObject(parent) && Object.hasOwn(parent, key) ? parent[key] : undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function validHex(value: unknown, byteLength: number): string | null {
  if (typeof value !== "string") return null;
  const hex = normalizeHexId(value, byteLength);
  return hex === null || hex === "" ? null : hex;
}

function stripControlCharacters(text: string, keepLineBreaks: boolean): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const control = code < 0x20 || code === 0x7f;
    if (!control || (keepLineBreaks && (code === 0x0a || code === 0x09))) continue;
    out += `${text.slice(start, i)} `;
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}
