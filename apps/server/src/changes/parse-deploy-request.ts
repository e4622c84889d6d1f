import { createHash } from "node:crypto";
import { type ChangeKind, changeKinds, type NewChangeEvent } from "@faultline/db";
import { z } from "zod";

const maxText = 256;

/** Either an ISO-8601 date-time with a zone, or epoch milliseconds; parsed to a Date. */
export const eventTime = z
  .union([
    z.number().int("must be whole epoch milliseconds").min(0).max(8_640_000_000_000_000),
    z.iso.datetime({ offset: true }),
  ])
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), {
    error: "must be an ISO-8601 date-time or epoch milliseconds",
  });

const text = (max: number, multiline = false) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    // Control characters have no business in names and would garble logs and terminals.
    .refine((value) => !hasControlCharacters(value, multiline), {
      error: "must not contain control characters",
    });

const optionalText = (max: number, multiline = false) =>
  z
    .union([text(max, multiline), z.null()])
    .optional()
    .transform((value) => (value === undefined || value === null || value === "" ? null : value));

/** Only http(s) links are kept: a `javascript:` URL would become a live link in the UI. */
export const httpUrl = z
  .string()
  .trim()
  .max(2048, "must be at most 2048 characters")
  .refine(
    (value) => {
      try {
        const protocol = new URL(value).protocol;
        return protocol === "http:" || protocol === "https:";
      } catch {
        return false;
      }
    },
    { error: "must be an http or https URL" },
  );

const scope = z
  .object({
    instances: z.array(text(maxText).min(1, "must not be empty")).max(10_000).optional(),
    regions: z.array(text(maxText).min(1, "must not be empty")).max(1_000).optional(),
    percentage: z
      .number()
      .min(0, "must be between 0 and 100")
      .max(100, "must be between 0 and 100")
      .optional(),
  })
  .refine((value) => Object.values(value).some((field) => field !== undefined), {
    error: "must give instances, regions or percentage",
  });

/**
 * The body of `POST /api/v1/deploys` (the design's public contract). Unknown fields are accepted and
 * dropped: clients such as the bench send extra ones (`report: true`).
 */
export const deployRequestSchema = z
  .object({
    service: text(maxText).min(1, "is required"),
    version: optionalText(maxText),
    environment: text(maxText).min(1, "must not be empty").default("production"),
    kind: z.enum(changeKinds, { error: `must be one of ${changeKinds.join(", ")}` }).default("deploy"),
    startedAt: eventTime,
    finishedAt: eventTime.optional().nullable(),
    commit: optionalText(maxText),
    description: optionalText(4096, true),
    url: z.union([httpUrl, z.null()]).optional(),
    author: optionalText(maxText),
    scope: scope.optional().nullable(),
  })
  .refine((body) => !body.finishedAt || body.finishedAt.getTime() >= body.startedAt.getTime(), {
    error: "must not be before startedAt",
    path: ["finishedAt"],
  });

export type DeployRequest = z.output<typeof deployRequestSchema>;

/** `Idempotency-Key` values longer than this are refused rather than stored. */
export const maxIdempotencyKeyLength = 255;

/**
 * Validates a deploy request body.
 * @returns the parsed request, or the problems as `field: message` lines that never quote the input.
 */
export function parseDeployRequest(
  body: unknown,
): { ok: true; request: DeployRequest } | { ok: false; issues: string[] } {
  const parsed = deployRequestSchema.safeParse(body);
  if (parsed.success) return { ok: true, request: parsed.data };
  return { ok: false, issues: describeIssues(parsed.error) };
}

/** Zod issues as `field: message` lines; the input values are never quoted back. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 20).map((issue) => {
    const field = issue.path.map(String).join(".") || "body";
    // Missing fields make zod say "expected string, received undefined"; say it plainly.
    const message =
      issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
    return `${field}: ${message}`;
  });
}

/**
 * The idempotency key of a reported change. With an `Idempotency-Key` header it is that key (scoped
 * so it cannot collide with derived keys); otherwise it is derived from the change's identity —
 * service, environment, kind, version, start and commit — so the same event posted twice is one row,
 * while descriptions or URLs corrected in a repeat do not make it a new change.
 */
export function deployIdempotencyKey(request: DeployRequest, headerKey: string | null): string {
  if (headerKey !== null) return `api-key:${sha256(headerKey)}`;
  const identity = JSON.stringify([
    request.service,
    request.environment,
    request.kind,
    request.version,
    request.startedAt.getTime(),
    request.commit,
  ]);
  return `api:${sha256(identity)}`;
}

/** The change event to store for a validated deploy request. */
export function toChangeEvent(request: DeployRequest, idempotencyKey: string): NewChangeEvent {
  const kind: ChangeKind = request.kind;
  return {
    environment: request.environment,
    service: request.service,
    version: request.version,
    kind,
    source: "api",
    startedAt: request.startedAt,
    finishedAt: request.finishedAt ?? null,
    commit: request.commit,
    url: request.url ?? null,
    author: request.author,
    description: request.description,
    scope: request.scope ?? null,
    idempotencyKey,
  };
}

function sha256(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

function hasControlCharacters(value: string, multiline: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (multiline && (code === 0x0a || code === 0x0d || code === 0x09)) continue;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
