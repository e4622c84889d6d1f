import type { ChangeOutcome } from "@faultline/db";
import type { WebhookMappingContext, WebhookMappingResult } from "./map-github-deployment-event.ts";
import { asObject, cleanText, httpUrlOrNull, parseTimestamp } from "./webhook-fields.ts";

const finishedStatuses: Record<string, ChangeOutcome> = {
  success: "success",
  failed: "failure",
  canceled: "cancelled",
  cancelled: "cancelled",
};

/**
 * Maps a GitLab "Deployment Hook" delivery (`object_kind: "deployment"`) onto a change event.
 *
 * - Identity: project and `deployment_id`, so `running` then `success` is one change.
 * - service = the hook's `?service=`, else the project name; version and commit = the full sha from
 *   `commit_url` (the payload only carries `short_sha`), else `short_sha`.
 * - `running` → started; success/failed/canceled → finished with that outcome, at `status_changed_at`
 *   (GitLab's `2021-04-28 21:50:00 +0200` form is read too). Other kinds and statuses are ignored.
 */
export function mapGitlabDeploymentEvent(
  body: unknown,
  context: WebhookMappingContext,
): WebhookMappingResult {
  const payload = asObject(body);
  if (payload === null || payload.object_kind !== "deployment") {
    return { type: "ignore", reason: "event not tracked" };
  }
  const deploymentId = cleanText(payload.deployment_id, 64);
  if (deploymentId === null) return { type: "invalid", issues: ["deployment_id: is required"] };
  const project = asObject(payload.project);
  const projectKey = cleanText(project?.id, 64) ?? cleanText(project?.path_with_namespace, 512) ?? "unknown";
  const service = context.service ?? cleanText(project?.name) ?? cleanText(project?.path_with_namespace);
  if (service === null) return { type: "invalid", issues: ["project.name: is required"] };

  const status = cleanText(payload.status, 32)?.toLowerCase() ?? "";
  const at = parseTimestamp(payload.status_changed_at) ?? new Date(context.nowMs);
  const outcome = finishedStatuses[status];
  if (outcome === undefined && status !== "running") {
    return { type: "ignore", reason: "deployment status not tracked" };
  }
  const commit = fullShaFrom(payload.commit_url) ?? cleanText(payload.short_sha, 64);
  return {
    type: "change",
    event: {
      environment: context.environment ?? cleanText(payload.environment) ?? "production",
      service,
      version: commit,
      kind: "deploy",
      source: "webhook",
      startedAt: at,
      commit,
      url: httpUrlOrNull(payload.environment_external_url) ?? httpUrlOrNull(payload.deployable_url),
      author: cleanText(asObject(payload.user)?.username) ?? cleanText(asObject(payload.user)?.name),
      description: cleanText(payload.commit_title, 4096),
      idempotencyKey: `gitlab:${projectKey}:deployment:${deploymentId}`,
    },
    finish: outcome === undefined ? null : { finishedAt: at, outcome },
  };
}

/** The 40- or 64-hex commit id at the end of a GitLab `commit_url`, or null. */
function fullShaFrom(commitUrl: unknown): string | null {
  const url = cleanText(commitUrl, 2048);
  const match = url === null ? null : /\/commit\/([0-9a-f]{40}|[0-9a-f]{64})\/?$/i.exec(url);
  return match?.[1]?.toLowerCase() ?? null;
}
