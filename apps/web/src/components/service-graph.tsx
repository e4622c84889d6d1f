import { useMemo } from "react";

export interface GraphNode {
  id: string;
  kind: "service" | "destination";
  affected: boolean;
  root: boolean;
}
export interface GraphEdge {
  kind: string;
  source: string;
  target: string;
  count: number;
  errors: number;
}

const nodeWidth = 136;
const nodeHeight = 34;
const columnGap = 44;
const rowGap = 16;

/**
 * Lays nodes out in columns by their longest path from a caller-less node (calls left to right,
 * messaging hops through their destination), so the flow reads like the request does.
 */
export function layoutGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[]) {
  const depth = new Map(nodes.map((node) => [node.id, 0]));
  // Longest path by relaxation; capped at the node count so a cycle cannot loop forever.
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const edge of edges) {
      if (edge.source === edge.target) continue;
      const next = (depth.get(edge.source) ?? 0) + 1;
      if (next > (depth.get(edge.target) ?? 0) && next < nodes.length) {
        depth.set(edge.target, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = new Map<number, GraphNode[]>();
  for (const node of nodes) {
    const column = depth.get(node.id) ?? 0;
    columns.set(column, [...(columns.get(column) ?? []), node]);
  }
  const positions = new Map<string, { x: number; y: number }>();
  let height = 0;
  for (const [column, members] of columns) {
    members.sort((a, b) => Number(b.root) - Number(a.root) || a.id.localeCompare(b.id));
    members.forEach((node, row) => {
      positions.set(node.id, {
        x: 10 + column * (nodeWidth + columnGap),
        y: 10 + row * (nodeHeight + rowGap),
      });
      height = Math.max(height, 10 + (row + 1) * (nodeHeight + rowGap));
    });
  }
  const width = 20 + Math.max(1, columns.size) * (nodeWidth + columnGap) - columnGap;
  return { positions, width, height: height + 10 };
}

/** The services and destinations involved, root in red, other affected ones in amber. */
export function ServiceGraph(props: { nodes: readonly GraphNode[]; edges: readonly GraphEdge[] }) {
  const layout = useMemo(() => layoutGraph(props.nodes, props.edges), [props.nodes, props.edges]);
  if (props.nodes.length === 0)
    return <div className="state state-empty">No calls or messaging hops recorded.</div>;
  return (
    <div className="graph-scroll">
      <svg
        className="service-graph"
        // Scales down to the panel (never up): the whole graph, root included, is always in view.
        width="100%"
        style={{ maxWidth: layout.width }}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label={`Graph of ${props.nodes.length} services and destinations; root: ${
          props.nodes.find((node) => node.root)?.id ?? "unknown"
        }`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#8a93a6" />
          </marker>
        </defs>
        {props.edges.map((edge) => {
          const from = layout.positions.get(edge.source);
          const to = layout.positions.get(edge.target);
          if (!from || !to) return null;
          const failing = edge.errors > 0 && edge.errors / Math.max(1, edge.count) >= 0.01;
          return (
            <line
              key={`${edge.kind}:${edge.source}:${edge.target}`}
              className={`graph-edge edge-${edge.kind}${failing ? " edge-failing" : ""}`}
              x1={from.x + nodeWidth}
              y1={from.y + nodeHeight / 2}
              x2={to.x}
              y2={to.y + nodeHeight / 2}
              markerEnd="url(#arrow)"
            >
              <title>{`${edge.kind}: ${edge.source} → ${edge.target}, ${edge.count} (${edge.errors} errors)`}</title>
            </line>
          );
        })}
        {props.nodes.map((node) => {
          const position = layout.positions.get(node.id);
          if (!position) return null;
          const className = `graph-node node-${node.kind}${node.root ? " node-root" : node.affected ? " node-affected" : ""}`;
          return (
            <g key={node.id} className={className} transform={`translate(${position.x},${position.y})`}>
              <rect width={nodeWidth} height={nodeHeight} rx={node.kind === "destination" ? 17 : 5} />
              <text x={nodeWidth / 2} y={nodeHeight / 2 + 4} textAnchor="middle">
                {node.id.length > 18 ? `${node.id.slice(0, 17)}…` : node.id}
              </text>
              <title>{`${node.kind} ${node.id}${node.root ? " (root)" : node.affected ? " (affected)" : ""}`}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
