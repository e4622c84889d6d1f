export * from "./decode-faro-payload.ts";
export * from "./decode-trace-request-json.ts";
export * from "./decode-trace-request-proto.ts";
export * from "./encode-export-trace-response.ts";
export * from "./encode-rpc-status.ts";
export * from "./normalized-span.ts";
