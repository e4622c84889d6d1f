export * from "./detection/detection-runner.ts";
export * from "./pipeline/ingest-pipeline.ts";
export * from "./receivers/bearer-token-verifier.ts";
export * from "./receivers/ingest-logger.ts";
export * from "./receivers/otlp-grpc-server.ts";
export * from "./receivers/otlp-http-handler.ts";
export * from "./receivers/otlp-http-server.ts";
export * from "./receivers/trace-sink.ts";
