import {
  describeChange,
  describeSuspicion,
  type NotificationMessage,
  summarizeMessage,
} from "./notification-message.ts";

/** Slack mrkdwn treats &, < and > as control characters; everything else is shown as typed. */
export function escapeSlackText(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Block Kit limits a section's text to 3000 characters. */
const clip = (value: string, max = 2900) => (value.length > max ? `${value.slice(0, max - 1)}…` : value);

/**
 * The Slack incoming-webhook body: a fallback `text` (notifications, screen readers) and Block Kit
 * blocks with the title, severity, root service, blast radius, the cause or top suspect with its
 * first evidence line, and a button to the incident page. All incident text is escaped.
 */
export function formatSlackMessage(message: NotificationMessage): Record<string, unknown> {
  const { incident } = message;
  const suspicion = describeSuspicion(message);
  const fields = [
    `*Severity*\n${incident.severity.toUpperCase()}`,
    `*Status*\n${escapeSlackText(incident.status)}`,
    `*Root service*\n${escapeSlackText(incident.rootService ?? "unknown")}`,
    `*Environment*\n${escapeSlackText(incident.environment)}`,
    `*Affected users*\n${incident.affectedUsers.toLocaleString("en-US")}`,
    `*Surfaces*\n${escapeSlackText(incident.surfaces.join(", ") || "—")}`,
  ].map((field) => ({ type: "mrkdwn", text: clip(field, 1900) }));
  const suspect = message.cause ?? message.topSuspect;
  const suspectLines = [
    `*${escapeSlackText(suspicion.line)}*`,
    ...(suspicion.evidence ? [`> ${escapeSlackText(suspicion.evidence)}`] : []),
    ...(suspect?.description ? [`_${escapeSlackText(suspect.description)}_`] : []),
  ];
  return {
    text: escapeSlackText(summarizeMessage(message)),
    blocks: [
      {
        type: "header",
        text: { type: "plain_text", text: clip(summarizeMessage(message), 150), emoji: false },
      },
      { type: "section", fields },
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: clip(`*Affected services*: ${escapeSlackText(incident.services.join(", ") || "—")}`),
        },
      },
      { type: "section", text: { type: "mrkdwn", text: clip(suspectLines.join("\n")) } },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            text: { type: "plain_text", text: "Open incident" },
            url: incident.url,
            ...(incident.severity === "sev1" && message.event !== "resolved" ? { style: "danger" } : {}),
          },
          ...(suspect?.url && /^https?:\/\//.test(suspect.url)
            ? [
                {
                  type: "button",
                  text: { type: "plain_text", text: clip(`View ${describeChange(suspect)}`, 70) },
                  url: suspect.url,
                },
              ]
            : []),
        ],
      },
    ],
  };
}
