// @vitest-environment jsdom

import type { AppRouter } from "@faultline/api";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { createTRPCClient, type TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TRPCProvider } from "../trpc.ts";
import { setUserName } from "../user-name.ts";
import { IncidentActions, NoteForm } from "./incident-actions.tsx";

/** A tRPC link that answers every call itself and records it, so no server is needed. */
function recordingClient(calls: { path: string; input: unknown }[], fail?: string) {
  const link: TRPCLink<AppRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        calls.push({ path: op.path, input: op.input });
        if (fail) {
          observer.error(new Error(fail) as never);
          return;
        }
        observer.next({ result: { type: "data", data: { changed: true } } });
        observer.complete();
      });
  return createTRPCClient<AppRouter>({ links: [link] });
}

function renderWith(ui: React.ReactNode, calls: { path: string; input: unknown }[], fail?: string) {
  const queryClient = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={recordingClient(calls, fail)} queryClient={queryClient}>
        {ui}
      </TRPCProvider>
    </QueryClientProvider>,
  );
}

const incident = { id: "inc-1", status: "open" as const, severity: "sev2" as const, assignee: null };

describe("IncidentActions", () => {
  beforeEach(() => localStorage.clear());
  afterEach(cleanup);

  it("asks for a name before offering any action", () => {
    const calls: { path: string; input: unknown }[] = [];
    renderWith(<IncidentActions incident={incident} />, calls);
    expect(screen.queryByRole("button", { name: "Acknowledge" })).toBeNull();
    fireEvent.change(screen.getByLabelText("Your name"), { target: { value: "  ana  " } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(localStorage.getItem("faultline.userName")).toBe("ana");
    expect(screen.getByRole("button", { name: "Acknowledge" })).toBeTruthy();
  });

  it("acknowledges, changes severity and assigns through the API", async () => {
    setUserName("ana");
    const calls: { path: string; input: unknown }[] = [];
    renderWith(<IncidentActions incident={incident} />, calls);
    fireEvent.click(screen.getByRole("button", { name: "Acknowledge" }));
    fireEvent.change(screen.getByLabelText("Severity"), { target: { value: "sev1" } });
    fireEvent.change(screen.getByLabelText("Assignee"), { target: { value: "bo" } });
    fireEvent.click(screen.getByRole("button", { name: "Assign" }));
    await waitFor(() => expect(calls).toHaveLength(3));
    expect(calls).toEqual([
      { path: "incidents.acknowledge", input: { id: "inc-1" } },
      { path: "incidents.setSeverity", input: { id: "inc-1", severity: "sev1" } },
      { path: "incidents.assign", input: { id: "inc-1", assignee: "bo" } },
    ]);
  });

  it("offers reopen instead of acknowledge and resolve on a resolved incident, and shows API errors", async () => {
    setUserName("ana");
    const calls: { path: string; input: unknown }[] = [];
    renderWith(
      <IncidentActions incident={{ ...incident, status: "resolved" }} />,
      calls,
      "the incident is gone",
    );
    expect(screen.queryByRole("button", { name: "Acknowledge" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Resolve" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Reopen" }));
    expect((await screen.findByRole("alert")).textContent).toBe("the incident is gone");
    expect(calls).toEqual([{ path: "incidents.setStatus", input: { id: "inc-1", status: "open" } }]);
  });
});

describe("NoteForm", () => {
  beforeEach(() => localStorage.clear());
  afterEach(cleanup);

  it("sends the note with its backdated time", async () => {
    setUserName("ana");
    const calls: { path: string; input: unknown }[] = [];
    renderWith(<NoteForm incidentId="inc-1" nowMs={Date.now()} />, calls);
    fireEvent.change(screen.getByLabelText("Add a note"), { target: { value: "restarted the pods" } });
    fireEvent.change(screen.getByLabelText(/When/), { target: { value: "2026-12-06T14:02" } });
    fireEvent.click(screen.getByRole("button", { name: "Add note" }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]).toEqual({
      path: "incidents.addNote",
      input: { id: "inc-1", message: "restarted the pods", atMs: new Date("2026-12-06T14:02").getTime() },
    });
  });
});
