export * from "./config.ts";
export * from "./start-server.ts";
