/**
 * Kinds of graph edges (the storage's `graph_edges.kind`): `call` caller service → callee service,
 * `publish` producer service → destination, `consume` destination → consumer service.
 */
export const edgeKinds = ["call", "publish", "consume"] as const;
export type EdgeKind = (typeof edgeKinds)[number];
