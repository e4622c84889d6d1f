import { describeSuspicion, type NotificationMessage, summarizeMessage } from "./notification-message.ts";

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Header values must stay on one line (no header injection through an incident title). */
const oneLine = (value: string) => value.replace(/[\r\n]+/g, " ").slice(0, 250);

/** An email's subject, plain text and HTML, every piece of incident text escaped in the HTML. */
export function formatEmailMessage(message: NotificationMessage): {
  subject: string;
  text: string;
  html: string;
} {
  const { incident } = message;
  const suspicion = describeSuspicion(message);
  const rows: [string, string][] = [
    ["Severity", incident.severity.toUpperCase()],
    ["Status", incident.status],
    ["Root service", incident.rootService ?? "unknown"],
    ["Environment", incident.environment],
    ["Affected users", incident.affectedUsers.toLocaleString("en-US")],
    ["Surfaces", incident.surfaces.join(", ") || "—"],
    ["Affected services", incident.services.join(", ") || "—"],
    ["Started", new Date(incident.startedAtMs).toISOString()],
  ];
  const summary = summarizeMessage(message);
  const text = [
    summary,
    "",
    ...rows.map(([label, value]) => `${label}: ${value}`),
    "",
    suspicion.line,
    ...(suspicion.evidence ? [`  ${suspicion.evidence}`] : []),
    "",
    `Open the incident: ${incident.url}`,
  ].join("\n");
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2>${escapeHtml(summary)}</h2>
<table cellpadding="4">${rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join("")}</table>
<p><strong>${escapeHtml(suspicion.line)}</strong>${suspicion.evidence ? `<br><em>${escapeHtml(suspicion.evidence)}</em>` : ""}</p>
<p><a href="${escapeHtml(incident.url)}">Open the incident in Faultline</a></p>
</body></html>`;
  return { subject: oneLine(summary), text, html };
}
