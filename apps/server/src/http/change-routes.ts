import { type DbHandle, listChangeEvents, recordChangeEvent } from "@faultline/db";
import { createBearerTokenVerifier } from "@faultline/ingest";
import { z } from "zod";
import { changeEventJson } from "../changes/change-event-json.ts";
import {
  deployIdempotencyKey,
  describeIssues,
  maxIdempotencyKeyLength,
  parseDeployRequest,
  toChangeEvent,
} from "../changes/parse-deploy-request.ts";
import {
  acceptRawBodies,
  answerErrorsPlainly,
  databaseOrUnavailable,
  parseJsonBody,
} from "./api-plugin-support.ts";
import type { ApiApp } from "./health-routes.ts";

export interface ChangeRoutesOptions {
  /** The open database; throws while it is still opening (answered 503). */
  db: () => DbHandle;
  /** When set, `POST` requires `Authorization: Bearer <token>`. Reads stay open, as for the other APIs. */
  token?: string | undefined;
  /** Epoch milliseconds; the default end of the `GET` window. */
  clock: () => number;
}

const maxBodyBytes = 1024 * 1024;
const defaultWindowMs = 30 * 24 * 60 * 60 * 1000;
const maxListed = 10_000;

/** A query-string time: ISO-8601 with a zone, or epoch milliseconds as digits. */
const queryTime = z
  .string()
  .trim()
  .refine((value) => /^\d{1,16}$/.test(value) || z.iso.datetime({ offset: true }).safeParse(value).success, {
    error: "must be an ISO-8601 date-time or epoch milliseconds",
    abort: true,
  })
  .transform((value) => (/^\d+$/.test(value) ? Number(value) : Date.parse(value)));

const listQuery = z
  .object({
    environment: z.string().trim().min(1, "must not be empty").max(256).default("production"),
    service: z.string().trim().min(1, "must not be empty").max(256).optional(),
    from: queryTime.optional(),
    to: queryTime.optional(),
  })
  .refine(
    (query) =>
      !(Number.isFinite(query.from) && Number.isFinite(query.to)) || Number(query.from) < Number(query.to),
    {
      error: "must be after from",
      path: ["to"],
    },
  );

/**
 * `POST /api/v1/deploys` and `GET /api/v1/deploys` (the design's public contract). A create and an
 * idempotent repeat both answer `201 { id }` with the same id, as the contract says; a repeat also
 * carries `Idempotent-Replayed: true`. The route only authenticates, validates and stores: mapping and
 * idempotency rules live in changes/parse-deploy-request.ts.
 *
 * Registers an encapsulated plugin (its raw-body parser and error handler stay inside it); call it
 * before the app listens.
 */
export function registerChangeRoutes(app: ApiApp, options: ChangeRoutesOptions): void {
  const verifyToken = createBearerTokenVerifier(options.token);
  app.register(async (scope) => {
    acceptRawBodies(scope, "application/json", maxBodyBytes);
    answerErrorsPlainly(scope);

    scope.post("/api/v1/deploys", async (request, reply) => {
      if (verifyToken !== null && !verifyToken(request.headers.authorization)) {
        // The presented credential is neither echoed nor logged.
        return reply
          .code(401)
          .header("WWW-Authenticate", "Bearer")
          .send({ error: "missing or invalid token" });
      }
      const json = parseJsonBody(request.body);
      if (!json.ok)
        return reply.code(400).send({ error: "invalid deploy", issues: ["body: must be valid JSON"] });
      const parsed = parseDeployRequest(json.value);
      if (!parsed.ok) return reply.code(400).send({ error: "invalid deploy", issues: parsed.issues });
      const header = request.headers["idempotency-key"];
      if (
        Array.isArray(header) ||
        (header !== undefined && (header === "" || header.length > maxIdempotencyKeyLength))
      ) {
        return reply.code(400).send({
          error: "invalid deploy",
          issues: [`Idempotency-Key: must be one value of 1 to ${maxIdempotencyKeyLength} characters`],
        });
      }
      const db = databaseOrUnavailable(options.db, reply);
      if (db === null) return reply;
      const key = deployIdempotencyKey(parsed.request, header ?? null);
      const { id, created } = await recordChangeEvent(db, toChangeEvent(parsed.request, key));
      if (!created) reply.header("Idempotent-Replayed", "true");
      return reply.code(201).send({ id });
    });

    scope.get("/api/v1/deploys", async (request, reply) => {
      const parsed = listQuery.safeParse(request.query);
      if (!parsed.success) {
        return reply.code(400).send({ error: "invalid query", issues: describeIssues(parsed.error) });
      }
      const query = parsed.data;
      const to = query.to ?? (query.from !== undefined ? query.from + defaultWindowMs : options.clock());
      const from = query.from ?? to - defaultWindowMs;
      const db = databaseOrUnavailable(options.db, reply);
      if (db === null) return reply;
      const rows = await listChangeEvents(db, {
        environment: query.environment,
        from: new Date(from),
        to: new Date(to),
        ...(query.service === undefined ? {} : { service: query.service }),
      });
      return {
        environment: query.environment,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        deploys: rows.slice(0, maxListed).map(changeEventJson),
        truncated: rows.length > maxListed,
      };
    });
  });
}
