// Mounted on the OTLP/HTTP port through the handler's `route()` hook, in plain node:http like the
// OTLP handler, so the body is read, decompressed and capped while it streams (413 mid-stream).

import type { IncomingMessage, ServerResponse } from "node:http";
import { decodeFaroPayload, FaroDecodeError, type NormalizedSpan } from "@faultline/otlp";
import { createApiKeyVerifier } from "./api-key-verifier.ts";
import type { BrowserSignalSink } from "./browser-signal-sink.ts";
import { type IngestLogger, silentLogger } from "./ingest-logger.ts";
import { lingerThenClose } from "./linger-then-close.ts";
import type { HttpRouteHandler } from "./otlp-http-handler.ts";
import { type ContentCoding, readRequestBody } from "./read-request-body.ts";
import { createTokenBucketLimiter } from "./token-bucket-rate-limiter.ts";

/** 5 MiB, the reference receiver's (Alloy `faro.receiver`) default, applied after decompression too. */
export const DEFAULT_FARO_MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * Request headers the Faro web SDK sends (protocols.md §4.2/§4.3), plus `content-encoding` since we
 * accept gzip (`requestCompression`), which the reference receiver forgets, and `idempotency-key`,
 * which the 2.x fetch transport adds to every request (found by the Chromium end-to-end test: without
 * it every preflight fails).
 */
export const FARO_CORS_ALLOWED_HEADERS = [
  "content-type",
  "content-encoding",
  "traceparent",
  "x-api-key",
  "x-faro-session-id",
  "x-scope-orgid",
  "idempotency-key",
] as const;

export interface FaroHandlerOptions {
  sink: BrowserSignalSink;
  /** When set, `x-api-key` must equal it (or one of several, for rotation); compared in constant time. */
  apiKey?: string | readonly string[] | null;
  /** Origins allowed to post from browsers: exact origins or `"*"`; empty = no CORS headers at all. */
  allowedOrigins?: readonly string[];
  /** Headers allowed in preflights besides {@link FARO_CORS_ALLOWED_HEADERS} (the SDK's custom `headers`). */
  extraAllowedHeaders?: readonly string[];
  /** Cap on the body in bytes, raw and after decompression (default 5 MiB) → 413 past it. */
  maxBodyBytes?: number;
  /** Token bucket per app key (else origin, else client address): default 50/s, burst 100. Null = off. */
  rateLimit?: { ratePerSecond: number; burst: number } | null;
  /** Requests reading a body or waiting on the sink at once; more → 429 (default 64). */
  maxConcurrentRequests?: number;
  /** Time allowed to receive the whole body, in ms (default 30 000) → 408. */
  bodyTimeoutMs?: number;
  /** Epoch milliseconds, for the rate limiter and items without a timestamp. */
  clock?: () => number;
  logger?: IngestLogger;
}

const collectPath = /^\/collect(?:\/([\w-]{1,128}))?\/?$/;

/**
 * Whether a path is Faro's: `/collect` or `/collect/<appKey>`. The SDK's tracing leaves exactly these
 * URLs uninstrumented, which keeps it from tracing its own uploads.
 */
export function isFaroCollectPath(pathname: string): boolean {
  return collectPath.test(pathname);
}

/**
 * Creates the Faro receiver (`POST /collect`, `/collect/:appKey`) for the OTLP port's `route()` hook:
 * `otlp.handler.route(isFaroCollectPath, createFaroHandler(options))`.
 *
 * Order of checks (cheapest first, no body read before the last): CORS preflight → method → rate limit
 * (429 + Retry-After, which the SDK honours) → API key (401) → content type/encoding (415) → declared
 * size (413) → overload (429) → streamed read with the cap (413/400/408) → decode (400 only for
 * non-JSON or a non-object) → sink → `202 ok`. Odd field values never fail a request. The response
 * never sets `X-Faro-Session-Status`: Faultline does not expire browser sessions.
 */
export function createFaroHandler(options: FaroHandlerOptions): HttpRouteHandler {
  const sink = options.sink;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_FARO_MAX_BODY_BYTES;
  const maxConcurrent = options.maxConcurrentRequests ?? 64;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  const verifyKey = createApiKeyVerifier(options.apiKey);
  const origins = new Set(options.allowedOrigins ?? []);
  const anyOrigin = origins.has("*");
  const allowedHeaders = [
    ...new Set([
      ...FARO_CORS_ALLOWED_HEADERS,
      ...(options.extraAllowedHeaders ?? []).map((h) => h.toLowerCase()),
    ]),
  ].join(", ");
  const limit =
    options.rateLimit === null
      ? null
      : createTokenBucketLimiter({
          ratePerSecond: options.rateLimit?.ratePerSecond ?? 50,
          burst: options.rateLimit?.burst ?? 100,
          clock,
        });
  let inFlight = 0;

  const corsHeadersFor = (req: IncomingMessage): Record<string, string> => {
    if (origins.size === 0) return {};
    const origin = req.headers.origin;
    if (origin === undefined || !(anyOrigin || origins.has(origin)))
      return anyOrigin ? {} : { Vary: "Origin" };
    return {
      "Access-Control-Allow-Origin": anyOrigin ? "*" : origin,
      "Access-Control-Expose-Headers": "Retry-After",
      ...(anyOrigin ? {} : { Vary: "Origin" }),
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    const cors = corsHeadersFor(req);
    const answer = (status: number, message: string, extra: Record<string, string> = {}): void => {
      sendText(res, status, message, { ...cors, ...extra });
      lingerThenClose(req, res);
    };

    if (req.method === "OPTIONS") {
      const method = req.headers["access-control-request-method"]?.toUpperCase();
      const preflight =
        "Access-Control-Allow-Origin" in cors && method === "POST"
          ? {
              "Access-Control-Allow-Methods": "POST, OPTIONS",
              "Access-Control-Allow-Headers": allowedHeaders,
              "Access-Control-Max-Age": "600",
            }
          : {};
      // A disallowed origin gets a plain 204 without Allow-* headers, so the browser blocks the post.
      res.writeHead(204, { ...cors, ...preflight, Allow: "POST, OPTIONS" });
      res.end();
      return;
    }
    if (req.method !== "POST") return answer(405, "method not allowed", { Allow: "POST, OPTIONS" });

    const appKey = collectPath.exec(pathname)?.[1] ?? null;
    if (limit !== null) {
      const bucket =
        appKey !== null ? `app:${appKey}` : `origin:${req.headers.origin ?? req.socket.remoteAddress ?? ""}`;
      const decision = limit.take(bucket);
      if (!decision.allowed) {
        return answer(429, "too many requests", { "Retry-After": String(decision.retryAfterSeconds) });
      }
    }
    if (verifyKey !== null && !verifyKey(singleHeader(req.headers["x-api-key"]))) {
      // The presented key is deliberately neither echoed nor logged.
      return answer(401, "missing or invalid x-api-key");
    }
    if (!isAcceptedContentType(req.headers["content-type"])) {
      return answer(415, "unsupported content type; use application/json");
    }
    const codings = parseContentEncoding(req.headers["content-encoding"]);
    if (codings === null) return answer(415, "unsupported content encoding; use gzip, deflate or none");
    if (Number(req.headers["content-length"] ?? "0") > maxBodyBytes)
      return answer(413, "request body too large");
    if (inFlight >= maxConcurrent || sink.isOverloaded()) {
      // 429, not 503: every Faro SDK version backs off for Retry-After on 429; before 2.x, not on 503.
      return answer(429, "server overloaded, retry later", { "Retry-After": "1" });
    }

    inFlight += 1;
    try {
      const read = await readRequestBody(req, { maxBytes: maxBodyBytes, codings, timeoutMs: bodyTimeoutMs });
      switch (read.kind) {
        case "aborted":
          return;
        case "too-large":
          return answer(413, "request body too large");
        case "corrupt":
          return answer(400, "body could not be decompressed");
        case "timeout":
          sendText(res, 408, "request body timed out", { ...cors, Connection: "close" });
          req.destroy();
          return;
        case "ok":
          break;
      }
      let spans: NormalizedSpan[];
      try {
        const payload = decodeFaroPayload(read.body, clock());
        spans = payload.traces ? payload.browserSpans.concat(payload.traces.spans) : payload.browserSpans;
        if (payload.tracesError !== null)
          logger.debug({ path: pathname }, "faro payload carried invalid traces");
      } catch (error) {
        // Fixed texts: JSON.parse's message quotes the input, which must not be reflected.
        if (error instanceof FaroDecodeError) return answer(400, error.message);
        throw error;
      }
      if (spans.length > 0) {
        try {
          await sink.exportSpans(spans);
        } catch (error) {
          // Like the reference receiver: the browser cannot retry usefully, so it still gets 202.
          logger.error({ err: error, path: pathname }, "faro sink failed");
        }
      }
      sendText(res, 202, "ok", cors);
    } finally {
      inFlight -= 1;
    }
  };

  return (req, res, pathname) => {
    handle(req, res, pathname).catch((error: unknown) => {
      logger.error({ err: error, path: pathname }, "faro request failed");
      if (!res.headersSent && !res.destroyed) sendText(res, 500, "internal error", corsHeadersFor(req));
      lingerThenClose(req, res);
    });
  };
}

function sendText(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(message, "utf8");
  res.writeHead(status, {
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(body.length),
    "X-Content-Type-Options": "nosniff",
  });
  res.end(body);
}

/** JSON, or text/plain (what `navigator.sendBeacon` sends), or no type at all (lenient like Alloy). */
function isAcceptedContentType(header: string | undefined): boolean {
  if (header === undefined) return true;
  const mediaType = (header.split(";")[0] ?? "").trim().toLowerCase();
  return mediaType === "application/json" || mediaType === "text/plain" || mediaType === "";
}

function parseContentEncoding(header: string | undefined): ContentCoding[] | null {
  if (header === undefined) return [];
  const codings: ContentCoding[] = [];
  for (const raw of header.split(",")) {
    const coding = raw.trim().toLowerCase();
    if (coding === "" || coding === "identity") continue;
    if (coding === "gzip" || coding === "x-gzip") codings.push("gzip");
    else if (coding === "deflate") codings.push("deflate");
    else return null;
  }
  return codings.length > 2 ? null : codings;
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}
