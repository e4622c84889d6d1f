export * from "./change-events.ts";
export * from "./graph.ts";
export * from "./incidents.ts";
export * from "./ingest-receipts.ts";
export * from "./postmortems.ts";
export * from "./rollup-pending.ts";
export * from "./series.ts";
export * from "./services.ts";
