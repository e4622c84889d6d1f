// Plain node:http on purpose: this is the hottest path in the product (every span of every app goes
// through it), it needs exact control over when the body is read, decompressed and abandoned (413
// mid-stream, overload answered before buffering), and a framework would add routing, body parsing
// and per-request allocations we would then have to bypass. A later benchmark measures this handler.

import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeExportTraceResponse, encodeRpcStatus } from "@faultline/otlp";
import { createBearerTokenVerifier } from "./bearer-token-verifier.ts";
import { type IngestLogger, silentLogger } from "./ingest-logger.ts";
import { lingerThenClose } from "./linger-then-close.ts";
import { LoadSheddingLog } from "./load-shedding-log.ts";
import { type ContentCoding, readRequestBody } from "./read-request-body.ts";
import type { TraceEncoding, TraceSink } from "./trace-sink.ts";
import { partialSuccessOf, truncateMessage } from "./truncate-message.ts";

/** 64 MiB: the OTLP spec's recommended cap, applied after decompression too. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Browser CORS for OTLP/HTTP (off unless configured). */
export interface OtlpCorsOptions {
  /** Exact origins (`https://app.example.com`) or `"*"` for any; empty disables CORS. */
  allowedOrigins: readonly string[];
  /** Request headers a browser may send; defaults to what OTLP exporters send plus `authorization`. */
  allowedHeaders?: readonly string[];
  /** How long browsers may cache a preflight answer, in seconds (default 600). */
  maxAgeSeconds?: number;
}

export interface OtlpHttpHandlerOptions {
  sink: TraceSink;
  /** Cap on the body in bytes, raw and after decompression (default 64 MiB) → 413 past it. */
  maxBodyBytes?: number;
  /** When set, `Authorization: Bearer <token>` is required (one token, or several for rotation). */
  bearerToken?: string | readonly string[] | null;
  cors?: OtlpCorsOptions | null;
  /** Requests reading a body or waiting on the sink at once; more → 503 (default 64). */
  maxConcurrentRequests?: number;
  /** `Retry-After` seconds when overload is detected here rather than by the sink (default 1). */
  retryAfterSeconds?: number;
  /** Time allowed to receive the whole body, in ms (default 30 000) → 408. */
  bodyTimeoutMs?: number;
  /** Path for trace exports (default `/v1/traces`). */
  tracesPath?: string;
  logger?: IngestLogger;
}

/** A handler mounted next to OTLP on the same port (e.g. Faro `POST /collect`). */
export type HttpRouteHandler = (req: IncomingMessage, res: ServerResponse, pathname: string) => void;

/** The node:http request listener for OTLP/HTTP, with a hook to mount more routes on the same port. */
export interface OtlpHttpHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /**
   * Mounts `handler` for requests whose path (query string removed) equals `match`, or for which
   * `match` returns true. Routes are tried in mount order before the OTLP path; the mounted handler
   * owns the whole request (method checks, CORS, auth, body).
   */
  route(match: string | ((pathname: string) => boolean), handler: HttpRouteHandler): void;
}

const CONTENT_TYPE: Record<TraceEncoding, string> = {
  proto: "application/x-protobuf",
  json: "application/json",
};

// google.rpc.Code values for the Status body; clients ignore `code`, but it helps people debugging.
const RPC_CODE: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  408: 4, // DEADLINE_EXCEEDED
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};

const MAX_RETRY_AFTER_SECONDS = 60;

const DEFAULT_ALLOWED_HEADERS = ["content-type", "content-encoding", "authorization", "x-requested-with"];

/**
 * Creates the OTLP/HTTP request listener (`POST /v1/traces`, protobuf and JSON, gzip/deflate). The
 * body is handed, decompressed and size-checked but undecoded, to `options.sink`; the sink's outcome
 * becomes the HTTP answer (200 full/partial success, 400 invalid, 503 + Retry-After overloaded).
 * Never throws into node:http: a failing sink becomes a 500 with a `google.rpc.Status` body.
 */
export function createOtlpHttpHandler(options: OtlpHttpHandlerOptions): OtlpHttpHandler {
  const sink = options.sink;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const verifyToken = createBearerTokenVerifier(options.bearerToken);
  const cors = createCorsPolicy(options.cors);
  const maxConcurrent = options.maxConcurrentRequests ?? 64;
  const retryAfter = clampRetryAfter(options.retryAfterSeconds ?? 1);
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  const tracesPath = options.tracesPath ?? "/v1/traces";
  const logger = options.logger ?? silentLogger;
  const shedding = new LoadSheddingLog(logger, "otlp/http");
  const routes: { match: (pathname: string) => boolean; handler: HttpRouteHandler }[] = [];
  let inFlight = 0;

  const handleTraces = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const baseHeaders = cors.headersFor(req);
    const allow = cors.enabled ? "POST, OPTIONS" : "POST";

    if (req.method === "OPTIONS" && cors.enabled) {
      // Preflights carry no credentials, so they are answered before auth.
      res.writeHead(204, { ...baseHeaders, ...cors.preflightHeadersFor(req), Allow: allow });
      res.end();
      return;
    }
    // Failures before we know the request's encoding answer in JSON: readable with curl.
    let encoding: TraceEncoding = "json";
    const fail = (status: number, message: string, extra: Record<string, string> = {}): void => {
      sendStatus(res, status, encoding, message, { ...baseHeaders, ...extra });
      lingerThenClose(req, res);
    };

    if (req.method !== "POST") return fail(405, "method not allowed", { Allow: allow });
    const parsedType = parseEncoding(req.headers["content-type"]);
    if (parsedType !== null) encoding = parsedType;
    if (verifyToken !== null && !verifyToken(req.headers.authorization)) {
      // The presented credential is deliberately neither echoed nor logged.
      return fail(401, "missing or invalid bearer token", { "WWW-Authenticate": "Bearer" });
    }
    if (parsedType === null) {
      return fail(415, "unsupported content type; use application/x-protobuf or application/json");
    }
    const codings = parseContentEncoding(req.headers["content-encoding"]);
    if (codings === null) {
      // RFC 9110 §15.5.16: an unsupported content coding is 415, and the answer should list what we
      // accept. Like the Collector's 400, it is non-retryable for OTLP clients.
      return fail(415, "unsupported content encoding; use gzip, deflate or none", {
        "Accept-Encoding": "gzip, deflate",
      });
    }
    const declaredLength = Number(req.headers["content-length"] ?? "0");
    if (declaredLength > maxBodyBytes) return fail(413, "request body too large");
    if (inFlight >= maxConcurrent || sink.isOverloaded()) {
      shedding.refused(retryAfter);
      return fail(503, "server overloaded, retry later", { "Retry-After": String(retryAfter) });
    }

    inFlight += 1;
    try {
      const read = await readRequestBody(req, { maxBytes: maxBodyBytes, codings, timeoutMs: bodyTimeoutMs });
      switch (read.kind) {
        case "aborted":
          logger.debug({ path: tracesPath }, "otlp/http client aborted the request body");
          return;
        case "too-large":
          return fail(413, "request body too large");
        case "corrupt":
          return fail(400, "body could not be decompressed");
        case "timeout":
          // A client this slow gets no lingering: answer and close the connection at once.
          sendStatus(res, 408, encoding, "request body timed out", { ...baseHeaders, Connection: "close" });
          return;
        case "ok":
          break;
      }
      const outcome = await sink.exportTraces({ body: read.body, encoding });
      switch (outcome.status) {
        case "accepted": {
          send(
            res,
            200,
            encoding,
            encodeExportTraceResponse(partialSuccessOf(outcome), encoding),
            baseHeaders,
          );
          return;
        }
        case "invalid":
          return fail(400, truncateMessage(outcome.message));
        case "overloaded": {
          const seconds = clampRetryAfter(outcome.retryAfterSeconds);
          shedding.refused(seconds);
          return fail(503, "server overloaded, retry later", { "Retry-After": String(seconds) });
        }
      }
    } finally {
      inFlight -= 1;
    }
  };

  const handler = ((req: IncomingMessage, res: ServerResponse): void => {
    const pathname = pathnameOf(req.url);
    for (const route of routes) {
      if (route.match(pathname)) {
        route.handler(req, res, pathname);
        return;
      }
    }
    if (pathname !== tracesPath) {
      sendStatus(res, 404, "json", "not found", {});
      lingerThenClose(req, res);
      return;
    }
    handleTraces(req, res).catch((err: unknown) => {
      logger.error({ err, path: tracesPath }, "otlp/http export failed");
      if (!res.headersSent && !res.destroyed) {
        sendStatus(res, 500, parseEncoding(req.headers["content-type"]) ?? "json", "internal error", {
          ...cors.headersFor(req),
        });
      }
      lingerThenClose(req, res);
    });
  }) as OtlpHttpHandler;

  handler.route = (match, routeHandler) => {
    routes.push({
      match: typeof match === "string" ? (pathname) => pathname === match : match,
      handler: routeHandler,
    });
  };
  return handler;
}

// Responses are never gzipped, even for `Accept-Encoding: gzip`: the spec makes it optional and our
// bodies are a few hundred bytes at most, so compressing them would only cost CPU.
function send(
  res: ServerResponse,
  status: number,
  encoding: TraceEncoding,
  body: Uint8Array,
  headers: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    "Content-Type": CONTENT_TYPE[encoding],
    "Content-Length": String(body.length),
  });
  res.end(body);
}

function sendStatus(
  res: ServerResponse,
  status: number,
  encoding: TraceEncoding,
  message: string,
  headers: Record<string, string>,
): void {
  send(res, status, encoding, encodeRpcStatus({ code: RPC_CODE[status] ?? 2, message }, encoding), headers);
}

/** The media type of `Content-Type`, parameters (charset…) ignored, case-insensitive. */
function parseEncoding(header: string | undefined): TraceEncoding | null {
  if (header === undefined) return null;
  const mediaType = (header.split(";")[0] ?? "").trim().toLowerCase();
  if (mediaType === "application/x-protobuf" || mediaType === "application/protobuf") return "proto";
  if (mediaType === "application/json") return "json";
  return null;
}

/**
 * `Content-Encoding` as a list of codings in application order (`gzip, gzip` is gzip applied twice);
 * null when a coding is unsupported. `identity` and `none` (what some exporters send for "no
 * compression") mean nothing to undo. More than two stacked codings is refused: no real client
 * does that, and each stage costs a decompressor.
 */
function parseContentEncoding(header: string | undefined): ContentCoding[] | null {
  if (header === undefined) return [];
  const codings: ContentCoding[] = [];
  for (const raw of header.split(",")) {
    const coding = raw.trim().toLowerCase();
    if (coding === "" || coding === "identity" || coding === "none") continue;
    if (coding === "gzip" || coding === "x-gzip") codings.push("gzip");
    else if (coding === "deflate") codings.push("deflate");
    else return null;
  }
  return codings.length > 2 ? null : codings;
}

function pathnameOf(url: string | undefined): string {
  const raw = url ?? "/";
  const end = raw.search(/[?#]/);
  const path = end >= 0 ? raw.slice(0, end) : raw;
  if (path.startsWith("/")) return path;
  // Absolute-form request targets (sent to proxies) still name a path.
  try {
    return new URL(path).pathname;
  } catch {
    return path;
  }
}

function clampRetryAfter(seconds: number): number {
  if (!Number.isFinite(seconds)) return 1;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

interface CorsPolicy {
  enabled: boolean;
  headersFor(req: IncomingMessage): Record<string, string>;
  preflightHeadersFor(req: IncomingMessage): Record<string, string>;
}

function createCorsPolicy(options: OtlpCorsOptions | null | undefined): CorsPolicy {
  const origins = new Set(options?.allowedOrigins ?? []);
  if (origins.size === 0) {
    return { enabled: false, headersFor: () => ({}), preflightHeadersFor: () => ({}) };
  }
  const anyOrigin = origins.has("*");
  const allowedHeaders = (options?.allowedHeaders ?? DEFAULT_ALLOWED_HEADERS).map((h) => h.toLowerCase());
  const maxAge = String(options?.maxAgeSeconds ?? 600);
  const originOf = (req: IncomingMessage): string | null => {
    const origin = req.headers.origin;
    if (origin === undefined) return null;
    return anyOrigin || origins.has(origin) ? origin : null;
  };
  return {
    enabled: true,
    headersFor(req): Record<string, string> {
      const origin = originOf(req);
      if (origin === null) return anyOrigin ? {} : { Vary: "Origin" };
      // No credentials are ever allowed, so "*" can be answered literally.
      return anyOrigin
        ? { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After" }
        : {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": "Retry-After",
            Vary: "Origin",
          };
    },
    preflightHeadersFor(req): Record<string, string> {
      const method = req.headers["access-control-request-method"];
      if (originOf(req) === null || method?.toUpperCase() !== "POST") return {};
      return {
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": allowedHeaders.join(", "),
        "Access-Control-Max-Age": maxAge,
      };
    },
  };
}
