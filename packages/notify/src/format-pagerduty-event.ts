import { describeSuspicion, type NotificationMessage, summarizeMessage } from "./notification-message.ts";

/** One dedup key per incident, so trigger, acknowledge and resolve act on the same PagerDuty alert. */
export function pagerDutyDedupKey(incidentId: string): string {
  return `faultline/${incidentId}`;
}

const pagerDutySeverity = { sev1: "critical", sev2: "error", sev3: "warning", sev4: "info" } as const;

/**
 * A PagerDuty Events API v2 event. Opened, reopened, escalated and cause changes trigger (PagerDuty
 * folds a trigger with an open alert's dedup key into that alert); acknowledgements acknowledge and
 * resolutions resolve. The summary is capped at PagerDuty's 1024 characters.
 */
export function formatPagerDutyEvent(
  message: NotificationMessage,
  routingKey: string,
): Record<string, unknown> {
  const dedupKey = pagerDutyDedupKey(message.incident.id);
  if (message.event === "acknowledged" || message.event === "resolved") {
    return {
      routing_key: routingKey,
      event_action: message.event === "acknowledged" ? "acknowledge" : "resolve",
      dedup_key: dedupKey,
    };
  }
  const { incident } = message;
  const suspicion = describeSuspicion(message);
  const summary = `${summarizeMessage(message)} — ${suspicion.line}`;
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: {
      summary: summary.length > 1024 ? `${summary.slice(0, 1023)}…` : summary,
      source: incident.rootService ?? incident.environment,
      severity: pagerDutySeverity[incident.severity],
      timestamp: new Date(message.eventAtMs).toISOString(),
      component: incident.rootService ?? undefined,
      group: incident.environment,
      class: incident.signal,
      custom_details: {
        event: message.event,
        affected_users: incident.affectedUsers,
        affected_services: incident.services,
        surfaces: incident.surfaces,
        suspect: suspicion.line,
        evidence: suspicion.evidence,
      },
    },
    links: [{ href: incident.url, text: "Open the incident in Faultline" }],
    client: "Faultline",
    client_url: incident.url,
  };
}
