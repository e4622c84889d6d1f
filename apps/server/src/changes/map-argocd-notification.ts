import type { ChangeOutcome } from "@faultline/db";
import type { WebhookMappingContext, WebhookMappingResult } from "./map-github-deployment-event.ts";
import { asObject, cleanText, httpUrlOrNull, parseTimestamp } from "./webhook-fields.ts";

const finishedPhases: Record<string, ChangeOutcome> = {
  succeeded: "success",
  failed: "failure",
  error: "error",
};

/**
 * Maps an Argo CD notification onto a change event. Argo CD has no payload of its own (the body is a
 * user template), so Faultline defines the contract, which infra/argocd/ ships as a ready template:
 *
 * `{ "app", "service"?, "version", "environment"?, "phase", "startedAt", "finishedAt"?, "url"? }`
 *
 * - Identity: app, environment, revision and operation start, so Argo's retries (it retries on 5xx)
 *   and the Running → Succeeded pair land on one change.
 * - phase `Running` → started; `Succeeded`/`Failed`/`Error` → finished with that outcome.
 * - A template that rendered empty fields is refused with 400 naming them (Argo does not retry 4xx).
 */
export function mapArgocdNotification(body: unknown, context: WebhookMappingContext): WebhookMappingResult {
  const payload = asObject(body);
  if (payload === null) return { type: "invalid", issues: ["body: must be a JSON object"] };
  const app = cleanText(payload.app);
  const service = cleanText(payload.service) ?? context.service ?? app;
  const phase = cleanText(payload.phase, 32)?.toLowerCase() ?? null;
  const startedAt = parseTimestamp(payload.startedAt);
  const issues: string[] = [];
  if (service === null) issues.push("service: is required (or app)");
  if (phase === null) issues.push("phase: is required");
  if (startedAt === null) issues.push("startedAt: must be an ISO-8601 date-time or epoch milliseconds");
  if (service === null || phase === null || startedAt === null) return { type: "invalid", issues };

  const outcome = finishedPhases[phase];
  if (outcome === undefined && phase !== "running") return { type: "ignore", reason: "phase not tracked" };
  const version = cleanText(payload.version);
  const environment = context.environment ?? cleanText(payload.environment) ?? "production";
  const finishedAt = parseTimestamp(payload.finishedAt) ?? new Date(context.nowMs);
  return {
    type: "change",
    event: {
      environment,
      service,
      version,
      kind: "deploy",
      source: "webhook",
      startedAt,
      commit: version,
      url: httpUrlOrNull(payload.url),
      author: null,
      description: app === null ? null : `Argo CD sync of ${app}`,
      idempotencyKey: `argocd:${app ?? service}:${environment}:${version ?? ""}:${startedAt.getTime()}`,
    },
    finish:
      outcome === undefined
        ? null
        : { finishedAt: new Date(Math.max(finishedAt.getTime(), startedAt.getTime())), outcome },
  };
}
