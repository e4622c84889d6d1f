import type { DbHandle } from "@faultline/db";
import { createBearerTokenVerifier } from "@faultline/ingest";
import type { FastifyReply, FastifyRequest } from "fastify";
import { applyWebhookChange } from "../changes/apply-webhook-change.ts";
import { mapArgocdNotification } from "../changes/map-argocd-notification.ts";
import {
  mapGithubDeploymentEvent,
  type WebhookMappingContext,
  type WebhookMappingResult,
} from "../changes/map-github-deployment-event.ts";
import { mapGitlabDeploymentEvent } from "../changes/map-gitlab-deployment-event.ts";
import { secretsEqual } from "../changes/secrets-equal.ts";
import { verifyGithubSignature } from "../changes/verify-github-signature.ts";
import { asObject, cleanText } from "../changes/webhook-fields.ts";
import { acceptRawBodies, answerErrorsPlainly, databaseOrUnavailable } from "./api-plugin-support.ts";
import type { ApiApp } from "./health-routes.ts";

export interface WebhookRoutesOptions {
  /** The open database; throws while it is still opening (answered 503). */
  db: () => DbHandle;
  /** HMAC secret of the GitHub webhook (`FAULTLINE_GITHUB_WEBHOOK_SECRET`). */
  githubSecret?: string | undefined;
  /** Secret GitLab sends in `X-Gitlab-Token` (`FAULTLINE_GITLAB_WEBHOOK_TOKEN`). */
  gitlabToken?: string | undefined;
  /** Bearer token Argo CD sends (`FAULTLINE_ARGOCD_WEBHOOK_TOKEN`). */
  argocdToken?: string | undefined;
  /**
   * The API token (`FAULTLINE_TOKEN`). GitLab and Argo CD accept it when their own secret is unset;
   * GitHub cannot send it, so with a token but no GitHub secret its webhook is refused (404).
   * With no secret and no token at all (loopback only, as the CLI enforces) the webhooks are open.
   */
  token?: string | undefined;
  /** Epoch milliseconds. */
  clock: () => number;
}

const maxBodyBytes = 5 * 1024 * 1024;
const rememberedDeliveries = 10_000;

/**
 * CI/CD webhooks that feed the change record: `POST /api/v1/webhooks/github` (deployment and
 * deployment_status, HMAC-SHA256 over the raw body), `/gitlab` (Deployment Hook, `X-Gitlab-Token`) and
 * `/argocd` (notifications, bearer token). Deliveries are answered at once: the work is one or two
 * indexed writes. Unknown events are acknowledged (202) so CI systems do not keep redelivering them.
 *
 * Registers an encapsulated plugin (raw-body parser and error handler stay inside it); call it before
 * the app listens.
 */
export function registerWebhookRoutes(app: ApiApp, options: WebhookRoutesOptions): void {
  const token = nonEmpty(options.token);
  const githubSecret = nonEmpty(options.githubSecret);
  const gitlabToken = nonEmpty(options.gitlabToken) ?? token;
  const verifyArgocd = createBearerTokenVerifier(nonEmpty(options.argocdToken) ?? token);
  // Redeliveries reuse the delivery id; remembering recent ones answers them without touching the
  // database. Storage is idempotent anyway, so forgetting (restart, eviction) only costs a write.
  const deliveries = new RecentResults(rememberedDeliveries);

  app.register(async (scope) => {
    acceptRawBodies(scope, "*", maxBodyBytes);
    answerErrorsPlainly(scope);

    scope.post("/api/v1/webhooks/github", async (request, reply) => {
      if (githubSecret === null && token !== null) {
        return reply
          .code(404)
          .send({ error: "GitHub webhook not configured: set FAULTLINE_GITHUB_WEBHOOK_SECRET" });
      }
      const raw = rawBodyOf(request);
      if (
        githubSecret !== null &&
        !verifyGithubSignature(githubSecret, raw, header(request, "x-hub-signature-256"))
      ) {
        return reply.code(401).send({ error: "missing or invalid X-Hub-Signature-256" });
      }
      const event = header(request, "x-github-event") ?? "";
      if (event === "ping") return reply.code(200).send({ status: "pong" });
      const delivery = cleanText(header(request, "x-github-delivery"), 128);
      const body = parseGithubBody(raw, header(request, "content-type"));
      if (body === undefined) return invalidJson(reply);
      return respond(request, reply, `github:${delivery ?? ""}`, delivery !== null, (context) =>
        mapGithubDeploymentEvent(event, body, context),
      );
    });

    scope.post("/api/v1/webhooks/gitlab", async (request, reply) => {
      if (gitlabToken !== null && !secretsEqual(header(request, "x-gitlab-token"), gitlabToken)) {
        return reply.code(401).send({ error: "missing or invalid X-Gitlab-Token" });
      }
      const body = parseJson(rawBodyOf(request));
      if (body === undefined) return invalidJson(reply);
      const delivery =
        cleanText(header(request, "x-gitlab-webhook-uuid"), 128) ??
        cleanText(header(request, "x-gitlab-event-uuid"), 128);
      return respond(request, reply, `gitlab:${delivery ?? ""}`, delivery !== null, (context) =>
        mapGitlabDeploymentEvent(body, context),
      );
    });

    scope.post("/api/v1/webhooks/argocd", async (request, reply) => {
      if (verifyArgocd !== null && !verifyArgocd(header(request, "authorization"))) {
        return reply
          .code(401)
          .header("WWW-Authenticate", "Bearer")
          .send({ error: "missing or invalid token" });
      }
      const body = parseJson(rawBodyOf(request));
      // Argo CD renders the body from a template; a template error shows up here as invalid JSON.
      if (body === undefined) return invalidJson(reply);
      return respond(request, reply, "", false, (context) => mapArgocdNotification(body, context));
    });
  });

  async function respond(
    request: FastifyRequest,
    reply: FastifyReply,
    deliveryKey: string,
    hasDelivery: boolean,
    map: (context: WebhookMappingContext) => WebhookMappingResult,
  ): Promise<FastifyReply> {
    const seen = hasDelivery ? deliveries.get(deliveryKey) : undefined;
    if (seen !== undefined)
      return reply.code(200).send({ status: "duplicate", ...(seen ? { id: seen } : {}) });
    const query = asObject(request.query);
    const mapped = map({
      service: cleanText(query?.service),
      environment: cleanText(query?.environment),
      nowMs: options.clock(),
    });
    if (mapped.type === "invalid")
      return reply.code(400).send({ error: "invalid webhook", issues: mapped.issues });
    if (mapped.type === "ignore") {
      if (hasDelivery) deliveries.set(deliveryKey, null);
      return reply.code(202).send({ status: "ignored", reason: mapped.reason });
    }
    const db = databaseOrUnavailable(options.db, reply);
    if (db === null) return reply;
    const { id } = await applyWebhookChange(db, mapped);
    // Remembered only once stored: a delivery that failed must be processed when it is redelivered.
    if (hasDelivery) deliveries.set(deliveryKey, id);
    return reply.code(200).send({ status: "recorded", id });
  }
}

/** Insertion-ordered map with a size cap: the oldest entry goes first. */
class RecentResults {
  private readonly entries = new Map<string, string | null>();
  constructor(private readonly capacity: number) {}
  get(key: string): string | null | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: string | null): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function rawBodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** GitHub sends JSON, or a form with the JSON in `payload` when the hook is set to form encoding. */
function parseGithubBody(raw: Buffer, contentType: string | undefined): unknown {
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    const payload = new URLSearchParams(raw.toString("utf8")).get("payload");
    return payload === null ? undefined : parseJson(Buffer.from(payload, "utf8"));
  }
  return parseJson(raw);
}

function invalidJson(reply: FastifyReply): FastifyReply {
  return reply.code(400).send({ error: "invalid webhook", issues: ["body: must be valid JSON"] });
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === "" ? null : value;
}
