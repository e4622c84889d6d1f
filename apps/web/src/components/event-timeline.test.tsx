// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { Outputs } from "../trpc.ts";
import { EventTimeline } from "./event-timeline.tsx";

type Delivery = Outputs["notifications"]["deliveries"][number];
type IncidentEvent = Outputs["incidents"]["get"]["events"][number];

const t0 = Date.parse("2026-12-06T10:00:00Z");
const events: IncidentEvent[] = [
  { id: 1, atMs: t0, kind: "opened", message: "Error spike on identity", author: null },
  { id: 2, atMs: t0 + 120_000, kind: "status_changed", message: "Acknowledged by ana", author: "ana" },
] as IncidentEvent[];
const delivery = (overrides: Partial<Delivery>): Delivery => ({
  id: 1,
  eventKind: "opened",
  eventKey: "opened",
  eventAtMs: t0,
  destinationId: "hook",
  destinationName: "On-call hook",
  destinationKind: "webhook",
  status: "delivered",
  attempts: 1,
  nextAttemptAtMs: null,
  lastError: null,
  lastStatusCode: 200,
  deliveredAtMs: t0 + 31_000,
  createdAtMs: t0 + 30_000,
  ...overrides,
});

describe("EventTimeline", () => {
  afterEach(cleanup);

  it("puts each page between the events in time order, with status, attempts and the last error", () => {
    render(
      <EventTimeline
        events={events}
        deliveries={[
          delivery({}),
          delivery({
            id: 2,
            eventKind: "acknowledged",
            destinationName: "PagerDuty <primary>",
            destinationKind: "pagerduty",
            status: "pending",
            attempts: 3,
            lastStatusCode: 503,
            lastError: "HTTP 503: <b>down</b>",
            deliveredAtMs: null,
            nextAttemptAtMs: t0 + 600_000,
            createdAtMs: t0 + 121_000,
          }),
        ]}
        deliveriesError={null}
        nowMs={t0 + 300_000}
      />,
    );
    const items = screen.getAllByRole("listitem").map((item) => item.textContent ?? "");
    expect(items).toHaveLength(4);
    expect(items[0]).toContain("Error spike on identity");
    expect(items[1]).toMatch(/Opened → On-call hook \(webhook\)delivered1 attempt · last HTTP 200/);
    expect(items[2]).toContain("Acknowledged by ana");
    expect(items[3]).toMatch(
      /Acknowledged → PagerDuty <primary> \(pagerduty\)retrying3 attempts · last HTTP 503/,
    );
    expect(items[3]).toContain("next try at");
    // Untrusted text stays text.
    expect(items[3]).toContain("Last error: HTTP 503: <b>down</b>");
    expect(document.querySelector("b")).toBeNull();
  });

  it("shows a suppressed page as not sent with the mute's note, and says when pages could not be loaded", () => {
    render(
      <EventTimeline
        events={[]}
        deliveries={[
          delivery({
            status: "suppressed",
            attempts: 0,
            lastStatusCode: null,
            deliveredAtMs: null,
            lastError: "muted by identity-upgrade",
          }),
        ]}
        deliveriesError={{ message: "network down" }}
        nowMs={t0 + 60_000}
      />,
    );
    const item = screen.getByRole("listitem");
    expect(item.textContent).toContain("suppressed");
    expect(item.textContent).toContain("not sent");
    expect(item.textContent).toContain("muted by identity-upgrade");
    expect(item.textContent).not.toContain("Last error");
    expect(screen.getByRole("alert").textContent).toContain("network down");
  });

  it("calls a page not yet attempted queued, and one that failed an attempt retrying", () => {
    const waiting = { status: "pending" as const, deliveredAtMs: null, lastStatusCode: null };
    render(
      <EventTimeline
        events={[]}
        deliveries={[
          delivery({ ...waiting, id: 1, attempts: 0, nextAttemptAtMs: t0 + 90_000 }),
          delivery({ ...waiting, id: 2, attempts: 1, nextAttemptAtMs: t0 + 40_000, lastError: "timed out" }),
        ]}
        deliveriesError={null}
        nowMs={t0 + 60_000}
      />,
    );
    const [queued, retrying] = screen.getAllByRole("listitem").map((item) => item.textContent ?? "");
    expect(queued).toMatch(/queued0 attempts · next try at/);
    expect(retrying).toMatch(/retrying1 attempt · next try now/);
    expect(retrying).toContain("Last error: timed out");
  });
});
