import "./notifications.css";
import { formatAgo, formatDateTime } from "../format.ts";
import type { Outputs } from "../trpc.ts";

type IncidentEvent = Outputs["incidents"]["get"]["events"][number];
type Delivery = Outputs["notifications"]["deliveries"][number];

const eventLabels: Record<Delivery["eventKind"], string> = {
  opened: "Opened",
  escalated: "Escalated",
  cause_changed: "Cause found",
  resolved: "Resolved",
  reopened: "Reopened",
  acknowledged: "Acknowledged",
};
const statusLabels: Record<Exclude<Delivery["status"], "pending">, string> = {
  sending: "sending",
  delivered: "delivered",
  failed: "failed",
  suppressed: "suppressed",
};

/** Pending is "queued" until the first attempt (routed, or waiting for the rate limit), then "retrying". */
const statusLabel = (delivery: Delivery) =>
  delivery.status === "pending"
    ? delivery.attempts === 0
      ? "queued"
      : "retrying"
    : statusLabels[delivery.status];

/** When a page shows on the timeline: when it was delivered, else when it was routed. */
const deliveryTime = (delivery: Delivery) => delivery.deliveredAtMs ?? delivery.createdAtMs;

type Entry = { atMs: number; event: IncidentEvent } | { atMs: number; delivery: Delivery };

/**
 * The incident's events and notes, and each page sent about it (destination, event, status, attempts,
 * last error), in time order: on-call sees who was told what, and what failed to reach them.
 */
export function EventTimeline(props: {
  events: IncidentEvent[];
  deliveries: Delivery[];
  deliveriesError: { message: string } | null;
  nowMs: number;
}) {
  const entries: Entry[] = [
    ...props.events.map((event) => ({ atMs: event.atMs, event })),
    ...props.deliveries.map((delivery) => ({ atMs: deliveryTime(delivery), delivery })),
  ].sort((a, b) => a.atMs - b.atMs);
  return (
    <>
      <ol className="event-timeline">
        {entries.map((entry) =>
          "event" in entry ? (
            <li key={`e${entry.event.id}`} className={entry.event.author ? "event-person" : "event-system"}>
              <time dateTime={new Date(entry.atMs).toISOString()}>{formatDateTime(entry.atMs)}</time>
              <span className={`event-kind kind-${entry.event.kind}`}>
                {entry.event.kind.replace("_", " ")}
              </span>
              <span className="event-message">{entry.event.message}</span>
              <span className="event-author">{entry.event.author ?? "Faultline"}</span>
            </li>
          ) : (
            <DeliveryEntry key={`d${entry.delivery.id}`} delivery={entry.delivery} nowMs={props.nowMs} />
          ),
        )}
      </ol>
      {props.deliveriesError && (
        <p className="state-error" role="alert">
          Could not load the pages sent: {props.deliveriesError.message}
        </p>
      )}
    </>
  );
}

function DeliveryEntry(props: { delivery: Delivery; nowMs: number }) {
  const { delivery } = props;
  const atMs = deliveryTime(delivery);
  const attempts = `${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}`;
  return (
    <li className="event-system event-page" data-delivery-status={delivery.status}>
      <time dateTime={new Date(atMs).toISOString()}>{formatDateTime(atMs)}</time>
      <span className="event-kind">page</span>
      <span className="event-message">
        <span className="delivery-line">
          <span>
            {eventLabels[delivery.eventKind]} → <strong>{delivery.destinationName}</strong>{" "}
            <span className="muted">({delivery.destinationKind})</span>
          </span>
          <span className={`badge delivery-${delivery.status}`}>{statusLabel(delivery)}</span>
          <span className="delivery-detail">
            {delivery.status === "suppressed" ? "not sent" : attempts}
            {delivery.lastStatusCode !== null && ` · last HTTP ${delivery.lastStatusCode}`}
            {delivery.nextAttemptAtMs !== null &&
              delivery.status === "pending" &&
              ` · next try ${delivery.nextAttemptAtMs > props.nowMs ? `at ${formatDateTime(delivery.nextAttemptAtMs)}` : "now"}`}
            {delivery.status === "delivered" &&
              delivery.deliveredAtMs !== null &&
              ` · ${formatAgo(delivery.deliveredAtMs, props.nowMs)}`}
          </span>
        </span>
        {delivery.lastError && delivery.status !== "delivered" && (
          <span className={delivery.status === "suppressed" ? "delivery-detail" : "delivery-error"}>
            {delivery.status === "suppressed" ? "" : "Last error: "}
            {delivery.lastError}
          </span>
        )}
      </span>
      <span className="event-author">Faultline</span>
    </li>
  );
}
