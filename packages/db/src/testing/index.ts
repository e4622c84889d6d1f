export * from "./describe-each-database.ts";
