import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createOtlpHttpHandler,
  type OtlpHttpHandler,
  type OtlpHttpHandlerOptions,
} from "./otlp-http-handler.ts";

export interface OtlpHttpServerOptions extends OtlpHttpHandlerOptions {
  /** Time to receive all request headers, in ms (default 10 000): the slowloris guard. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, in ms (default 60 000, twice the Collector's 30 s export timeout). */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this many ms (default 60 000, like the Collector). */
  keepAliveTimeoutMs?: number;
}

/** A node:http server running the OTLP/HTTP handler. */
export interface OtlpHttpServer {
  readonly server: Server;
  /** The request listener; mount more routes (Faro `/collect`) with `handler.route`. */
  readonly handler: OtlpHttpHandler;
  /** Listens and resolves with the bound port (pass 0 for an ephemeral one). */
  listen(port: number, host?: string): Promise<number>;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `deadlineMs` (default
   * 10 000), then cuts the remaining connections.
   */
  close(deadlineMs?: number): Promise<void>;
}

/**
 * Creates (without listening) an HTTP server for OTLP/HTTP with timeouts suited to ingest: node's
 * own header and request timeouts guard against slow clients, checked every second instead of
 * node's default 30 s so they actually bite.
 */
export function createOtlpHttpServer(options: OtlpHttpServerOptions): OtlpHttpServer {
  const handler = createOtlpHttpHandler(options);
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 60_000,
      connectionsCheckingInterval: 1_000,
    },
    handler,
  );
  return {
    server,
    handler,
    listen(port, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(deadlineMs = 10_000) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
