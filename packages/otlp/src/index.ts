export * from "./normalized-span.ts";
