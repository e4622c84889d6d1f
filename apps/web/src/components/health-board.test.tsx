// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import type { Outputs } from "../trpc.ts";
import { HealthBoard } from "./health-board.tsx";

type Board = Outputs["services"]["board"];

function boardOf(count: number): Board {
  const fromMs = 1_000_000;
  return {
    environment: "production",
    fromMs,
    toMs: fromMs + 3_600_000,
    stepSeconds: 60,
    services: Array.from({ length: count }, (_, index) => ({
      service: `svc-${String(index).padStart(3, "0")}`,
      requestsPerSecond: index,
      errorRate: index === 7 ? 0.5 : index % 10 === 0 ? null : index / 10_000,
      p95Ms: 1000 - index,
      sparkline: { startMs: fromMs, stepMs: 60_000, values: [0, index / 10_000] },
    })),
    destinations: [],
    changes: [
      { id: "c1", service: "svc-007", kind: "deploy", version: "2.0.0", startedAtMs: fromMs + 60_000 },
    ],
  };
}

// Plain selectors: role queries over 500 rows take jsdom tens of seconds.
const rowNames = () =>
  [...document.querySelectorAll("table.board tbody th")].map((cell) => cell.textContent ?? "");

/** Where the router is, as text (stands in for the service page). */
function Where() {
  const location = useLocation();
  return <output>{`${location.pathname}${location.search}`}</output>;
}

describe("HealthBoard", () => {
  afterEach(cleanup);

  it("puts the worst error rate first, sorts by any column and filters by name, across 500 services", () => {
    render(
      <MemoryRouter>
        <HealthBoard board={boardOf(500)} range="1h" />
      </MemoryRouter>,
    );
    expect(rowNames()).toHaveLength(500);
    expect(rowNames()[0]).toBe("svc-007");
    // Services without an error rate (no requests) sort last, not first.
    expect(rowNames().at(-1)).toMatch(/svc-\d\d0/);

    fireEvent.click(screen.getByRole("button", { name: /p95/ }));
    expect(rowNames()[0]).toBe("svc-000");
    expect(screen.getByRole("columnheader", { name: /p95/ }).getAttribute("aria-sort")).toBe("descending");
    fireEvent.click(screen.getByRole("button", { name: /p95/ }));
    expect(rowNames()[0]).toBe("svc-499");

    fireEvent.change(screen.getByRole("searchbox"), { target: { value: "svc-04" } });
    expect(rowNames()).toHaveLength(10);
    fireEvent.change(screen.getByRole("searchbox"), { target: { value: "nothing" } });
    expect(screen.getByText("No service matches the filter.")).toBeTruthy();
  });

  it("marks changes on the service's sparkline and links each service with the range", () => {
    const { container } = render(
      <MemoryRouter>
        <HealthBoard board={boardOf(10)} range="6h" />
      </MemoryRouter>,
    );
    const row = screen.getByRole("rowheader", { name: "svc-007" }).closest("tr");
    expect(row?.querySelectorAll("line.sparkline-marker")).toHaveLength(1);
    expect(row?.querySelector("title")?.textContent).toBe("deploy svc-007 2.0.0");
    expect(container.querySelectorAll("line.sparkline-marker")).toHaveLength(1);
    expect(screen.getByRole("link", { name: "svc-007" }).getAttribute("href")).toBe(
      "/services/svc-007?range=6h",
    );
  });

  it("says so when there is no telemetry", () => {
    render(
      <MemoryRouter>
        <HealthBoard board={boardOf(0)} range="1h" />
      </MemoryRouter>,
    );
    expect(screen.getByText("No telemetry in this range yet.")).toBeTruthy();
  });

  it("opens a service inside the app on a plain click, and leaves modified clicks to the browser", () => {
    render(
      <MemoryRouter initialEntries={["/"]}>
        <Routes>
          <Route path="/" element={<HealthBoard board={boardOf(10)} range="6h" />} />
          <Route path="/services/:service" element={<Where />} />
        </Routes>
      </MemoryRouter>,
    );
    // A ctrl-click (new tab) is not taken over: the board stays.
    fireEvent.click(screen.getByRole("link", { name: "svc-003" }), { ctrlKey: true });
    expect(rowNames()).toHaveLength(10);
    fireEvent.click(screen.getByRole("link", { name: "svc-003" }));
    expect(screen.getByRole("status").textContent).toBe("/services/svc-003?range=6h");
  });
});
