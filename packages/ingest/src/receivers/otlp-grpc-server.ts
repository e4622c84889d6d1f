import { encodeExportTraceResponse } from "@faultline/otlp";
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { createBearerTokenVerifier } from "./bearer-token-verifier.ts";
import { encodeRetryInfoStatus } from "./grpc-status-details.ts";
import { type IngestLogger, silentLogger } from "./ingest-logger.ts";
import { LoadSheddingLog } from "./load-shedding-log.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./otlp-http-handler.ts";
import type { TraceSink } from "./trace-sink.ts";
import { partialSuccessOf, truncateMessage } from "./truncate-message.ts";

/** Full method path of OTLP trace export (opentelemetry-proto `trace_service.proto`). */
export const TRACE_EXPORT_METHOD_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

export interface OtlpGrpcServerOptions {
  sink: TraceSink;
  /** Largest accepted message in bytes after decompression (default 64 MiB) → RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes?: number;
  /** When set, `authorization: Bearer <token>` metadata is required (one token or several). */
  bearerToken?: string | readonly string[] | null;
  /** Retry delay hinted when overload is detected here rather than by the sink (default 1 s). */
  retryAfterSeconds?: number;
  /** Defaults to insecure (plaintext), like the Collector's default on a loopback endpoint. */
  credentials?: ServerCredentials;
  logger?: IngestLogger;
}

/** The OTLP/gRPC trace receiver. */
export interface OtlpGrpcServer {
  readonly server: Server;
  /** Binds and resolves with the bound port (pass 0 for an ephemeral one). */
  start(host: string, port: number): Promise<number>;
  /** Lets in-flight calls finish for up to `deadlineMs` (default 10 000), then cancels the rest. */
  shutdown(deadlineMs?: number): Promise<void>;
}

// The request and response stay raw protobuf bytes: the sink decodes, and the response is already
// encoded, so grpc-js must not (de)serialize anything itself.
const passThrough = (bytes: Buffer): Buffer => bytes;
const traceServiceDefinition: ServiceDefinition = {
  Export: {
    path: TRACE_EXPORT_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
    originalName: "export",
  },
};

/**
 * Creates the OTLP/gRPC receiver: `TraceService/Export` handing the raw protobuf request to the
 * sink. gzip and deflate `grpc-encoding` are undone by grpc-js; oversize messages are refused by
 * grpc-js with RESOURCE_EXHAUSTED before the handler runs. Overload answers UNAVAILABLE with a
 * `google.rpc.RetryInfo` in `grpc-status-details-bin`, which OTLP clients honour as the retry delay.
 */
export function createOtlpGrpcServer(options: OtlpGrpcServerOptions): OtlpGrpcServer {
  const sink = options.sink;
  const verifyToken = createBearerTokenVerifier(options.bearerToken);
  const logger = options.logger ?? silentLogger;
  const shedding = new LoadSheddingLog(logger, "otlp/grpc");
  const defaultRetryAfter = options.retryAfterSeconds ?? 1;
  const server = new Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? DEFAULT_MAX_BODY_BYTES,
  });

  const unavailable = (retryAfterSeconds: number): { code: number; details: string; metadata: Metadata } => {
    shedding.refused(retryAfterSeconds);
    const message = "server overloaded, retry later";
    const metadata = new Metadata();
    metadata.set(
      "grpc-status-details-bin",
      Buffer.from(encodeRetryInfoStatus(status.UNAVAILABLE, message, retryAfterSeconds)),
    );
    return { code: status.UNAVAILABLE, details: message, metadata };
  };

  const exportHandler = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    const authorization = call.metadata.get("authorization")[0];
    if (verifyToken !== null && !verifyToken(typeof authorization === "string" ? authorization : undefined)) {
      // The presented credential is deliberately neither echoed nor logged.
      callback({ code: status.UNAUTHENTICATED, details: "missing or invalid bearer token" }, null);
      return;
    }
    if (sink.isOverloaded()) {
      callback(unavailable(defaultRetryAfter), null);
      return;
    }
    sink.exportTraces({ body: call.request, encoding: "proto" }).then(
      (outcome) => {
        switch (outcome.status) {
          case "accepted": {
            callback(null, Buffer.from(encodeExportTraceResponse(partialSuccessOf(outcome), "proto")));
            return;
          }
          case "invalid":
            callback({ code: status.INVALID_ARGUMENT, details: truncateMessage(outcome.message) }, null);
            return;
          case "overloaded":
            callback(unavailable(outcome.retryAfterSeconds), null);
            return;
        }
      },
      (err: unknown) => {
        logger.error({ err }, "otlp/grpc export failed");
        callback({ code: status.INTERNAL, details: "internal error" }, null);
      },
    );
  };

  server.addService(traceServiceDefinition, { Export: exportHandler });

  return {
    server,
    start(host, port) {
      // IPv6 literals need brackets in a gRPC target.
      const target = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(target, options.credentials ?? ServerCredentials.createInsecure(), (err, bound) => {
          if (err !== null) reject(err);
          else resolve(bound);
        });
      });
    },
    shutdown(deadlineMs = 10_000) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, deadlineMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
