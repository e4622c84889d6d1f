import { type ChangeKind, type ChangeOutcome, changeKinds } from "@faultline/db";
import type { WebhookChange } from "./apply-webhook-change.ts";
import { asObject, cleanText, httpUrlOrNull, parseTimestamp } from "./webhook-fields.ts";

/** Where a mapper could not find what identifies a change: answered 400 with these `field: message` lines. */
export type WebhookMappingResult = WebhookChange | { type: "invalid"; issues: string[] };

export interface WebhookMappingContext {
  /** From the hook URL's `?service=`: names the service when the payload does not. */
  service: string | null;
  /** From the hook URL's `?environment=`: overrides the CI system's environment name. */
  environment: string | null;
  /** Epoch milliseconds; the time of a change whose payload gives none. */
  nowMs: number;
}

const startedStates = new Set(["pending", "queued", "in_progress"]);
const finishedStates: Record<string, ChangeOutcome> = {
  success: "success",
  failure: "failure",
  error: "error",
};

/**
 * Maps a GitHub `deployment` or `deployment_status` delivery onto a change event.
 *
 * - Identity: repository and deployment id, so a deployment and all its statuses are one change.
 * - service = `deployment.payload.service`, else the hook's `?service=`, else the repository name;
 *   version = `deployment.payload.version`, else the commit sha; kind = `payload.kind` when valid.
 * - `deployment` and statuses pending/queued/in_progress → started (at `deployment.created_at`);
 *   success/failure/error → finished with that outcome at the status time. `inactive` (superseded) and
 *   any other event or state are ignored.
 */
export function mapGithubDeploymentEvent(
  eventName: string,
  body: unknown,
  context: WebhookMappingContext,
): WebhookMappingResult {
  if (eventName !== "deployment" && eventName !== "deployment_status") {
    return { type: "ignore", reason: "event not tracked" };
  }
  const payload = asObject(body);
  const deployment = asObject(payload?.deployment);
  const deploymentId = cleanText(deployment?.id, 64);
  if (payload === null || deployment === null || deploymentId === null) {
    return { type: "invalid", issues: ["deployment.id: is required"] };
  }
  const repository = asObject(payload.repository);
  const repositoryName = cleanText(repository?.full_name, 512) ?? cleanText(repository?.name) ?? "unknown";
  const extra = asObject(deployment.payload);
  const service =
    cleanText(extra?.service) ?? context.service ?? cleanText(repository?.name) ?? cleanText(repositoryName);
  if (service === null) return { type: "invalid", issues: ["repository.name: is required"] };

  let finish: { finishedAt: Date; outcome: ChangeOutcome } | null = null;
  const status = asObject(payload.deployment_status);
  if (eventName === "deployment_status") {
    const state = cleanText(status?.state, 64)?.toLowerCase() ?? "";
    const outcome = finishedStates[state];
    if (outcome !== undefined) {
      finish = { finishedAt: parseTimestamp(status?.created_at) ?? new Date(context.nowMs), outcome };
    } else if (!startedStates.has(state)) {
      return { type: "ignore", reason: "deployment state not tracked" };
    }
  } else if (cleanText(payload.action, 64) !== null && payload.action !== "created") {
    return { type: "ignore", reason: "deployment action not tracked" };
  }

  const sha = cleanText(deployment.sha, 256);
  const kindText = cleanText(extra?.kind, 32);
  const kind: ChangeKind = changeKinds.find((known) => known === kindText) ?? "deploy";
  const startedAt =
    parseTimestamp(deployment.created_at) ?? parseTimestamp(status?.created_at) ?? new Date(context.nowMs);
  return {
    type: "change",
    event: {
      environment: context.environment ?? cleanText(deployment.environment) ?? "production",
      service,
      version: cleanText(extra?.version) ?? sha ?? cleanText(deployment.ref),
      kind,
      source: "webhook",
      startedAt: finish !== null && finish.finishedAt < startedAt ? finish.finishedAt : startedAt,
      commit: sha,
      url:
        httpUrlOrNull(status?.environment_url) ??
        httpUrlOrNull(status?.target_url) ??
        httpUrlOrNull(status?.log_url) ??
        null,
      author: cleanText(asObject(deployment.creator)?.login),
      description: cleanText(deployment.description, 4096),
      idempotencyKey: `github:${repositoryName}:deployment:${deploymentId}`,
    },
    finish,
  };
}
