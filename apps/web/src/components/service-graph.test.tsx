// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { layoutGraph, ServiceGraph } from "./service-graph.tsx";

const nodes = [
  { id: "web-gateway", kind: "service" as const, affected: true, root: false },
  { id: "dm-api", kind: "service" as const, affected: true, root: true },
  { id: "dm.messages", kind: "destination" as const, affected: false, root: false },
  { id: "delivery-worker", kind: "service" as const, affected: false, root: false },
];
const edges = [
  { kind: "call", source: "web-gateway", target: "dm-api", count: 10, errors: 5 },
  { kind: "publish", source: "dm-api", target: "dm.messages", count: 10, errors: 0 },
  { kind: "consume", source: "dm.messages", target: "delivery-worker", count: 10, errors: 0 },
  // A cycle must not hang the layout.
  { kind: "call", source: "delivery-worker", target: "web-gateway", count: 1, errors: 0 },
];

describe("ServiceGraph", () => {
  afterEach(cleanup);

  it("lays calls and messaging hops out left to right", () => {
    const { positions } = layoutGraph(nodes, edges.slice(0, 3));
    const x = (id: string) => positions.get(id)?.x ?? -1;
    expect(x("web-gateway")).toBeLessThan(x("dm-api"));
    expect(x("dm-api")).toBeLessThan(x("dm.messages"));
    expect(x("dm.messages")).toBeLessThan(x("delivery-worker"));
    expect(layoutGraph(nodes, edges).positions.size).toBe(4);
  });

  it("highlights the root and escapes names", () => {
    const { container } = render(
      <ServiceGraph
        nodes={[...nodes, { id: "<img src=x>", kind: "service", affected: false, root: false }]}
        edges={edges}
      />,
    );
    expect(container.querySelector(".node-root text")?.textContent).toBe("dm-api");
    expect(container.querySelectorAll(".node-affected")).toHaveLength(1);
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByRole("img").getAttribute("aria-label")).toContain("root: dm-api");
    expect(container.querySelector(".edge-failing title")?.textContent).toContain("web-gateway → dm-api");
  });
});
