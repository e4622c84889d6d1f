export * from "./time-buckets.ts";
