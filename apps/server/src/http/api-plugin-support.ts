import type { Database, DbHandle } from "@faultline/db";
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";

/**
 * Replaces Fastify's body parsing in one plugin scope by a raw-bytes parser, so handlers can verify
 * signatures over the exact bytes received and parse JSON themselves with messages that never quote
 * the input (V8's JSON errors do).
 */
export function acceptRawBodies(
  scope: FastifyInstance,
  contentTypes: string | RegExp,
  bodyLimit: number,
): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(contentTypes, { parseAs: "buffer", bodyLimit }, (_request, body, done) => {
    done(null, body);
  });
}

/** JSON from raw bytes; null when they are not valid JSON (callers answer 400 with a fixed message). */
export function parseJsonBody(body: unknown): { ok: true; value: unknown } | { ok: false } {
  if (!Buffer.isBuffer(body)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) };
  } catch {
    return { ok: false };
  }
}

/**
 * Errors of one plugin scope become short fixed messages: Fastify's own texts quote request headers
 * (`Unsupported Media Type: …`), and internal errors must not leak details to clients.
 */
export function answerErrorsPlainly(scope: FastifyInstance): void {
  scope.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 415)
      return reply.code(415).send({ error: "unsupported content type; use application/json" });
    if (status === 413) return reply.code(413).send({ error: "request body too large" });
    if (status >= 400 && status < 500) return reply.code(status).send({ error: "bad request" });
    request.log.error({ err: error }, "change API request failed");
    return reply.code(500).send({ error: "internal error" });
  });
}

/**
 * The database for one request, or a 503 answer while it is still opening (the API listens before
 * migrations finish so `/healthz` answers at once).
 */
export function databaseOrUnavailable(db: () => DbHandle, reply: FastifyReply): Database | null {
  try {
    return db().db;
  } catch {
    void reply.code(503).header("Retry-After", "1").send({ error: "starting up, retry shortly" });
    return null;
  }
}
