export * from "./create-db.ts";
export * from "./repositories/change-event-repository.ts";
export * from "./repositories/ingest-writer.ts";
export * from "./repositories/series-reader.ts";
export * from "./repositories/series-repository.ts";
export * from "./repositories/update-change-event.ts";
export * from "./schema/index.ts";
