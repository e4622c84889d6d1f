export * from "./create-db.ts";
export * from "./repositories/change-event-repository.ts";
export * from "./repositories/series-repository.ts";
export * from "./schema/index.ts";
