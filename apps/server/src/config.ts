import { isIP } from "node:net";
import { z } from "zod";

/**
 * Every setting of `faultline serve`: its flag, its environment variable and its default. The CLI
 * builds its options and help from this table, and `parseServeConfig` validates the result, so a
 * setting is declared in exactly one place.
 */
export const serveSettings = [
  {
    key: "dataDir",
    flag: "--data-dir <dir>",
    env: "FAULTLINE_DATA_DIR",
    default: "./.faultline/data",
    description: "embedded PGlite data directory (ignored when a database URL is set)",
  },
  {
    key: "databaseUrl",
    flag: "--database-url <url>",
    env: "DATABASE_URL",
    default: undefined,
    description: "PostgreSQL connection string; uses PostgreSQL instead of embedded PGlite",
  },
  {
    key: "ingestWalDir",
    flag: "--ingest-wal-dir <dir>",
    env: "FAULTLINE_INGEST_WAL_DIR",
    default: undefined,
    description:
      "ingest write-ahead log directory (2xx after its fsync); default <data-dir>/ingest-wal on PGlite, " +
      "./.faultline/ingest-wal on PostgreSQL (one per replica)",
  },
  {
    key: "host",
    flag: "--host <host>",
    env: "FAULTLINE_HOST",
    default: "127.0.0.1",
    description: "address to bind",
  },
  {
    key: "port",
    flag: "--port <port>",
    env: "FAULTLINE_PORT",
    default: "3000",
    description: "UI and API port",
  },
  {
    key: "otlpPort",
    flag: "--otlp-port <port>",
    env: "FAULTLINE_OTLP_PORT",
    default: "4318",
    description: "OTLP/HTTP and Faro receiver port",
  },
  {
    key: "otlpGrpcPort",
    flag: "--otlp-grpc-port <port>",
    env: "FAULTLINE_OTLP_GRPC_PORT",
    default: "4317",
    description: "OTLP/gRPC receiver port",
  },
  {
    key: "token",
    flag: "--token <token>",
    env: "FAULTLINE_TOKEN",
    default: undefined,
    description: "require `Authorization: Bearer <token>` on ingest and API writes",
  },
  {
    key: "githubWebhookSecret",
    flag: "--github-webhook-secret <secret>",
    env: "FAULTLINE_GITHUB_WEBHOOK_SECRET",
    default: undefined,
    description: "HMAC secret of the GitHub deployment webhook (/api/v1/webhooks/github)",
  },
  {
    key: "gitlabWebhookToken",
    flag: "--gitlab-webhook-token <token>",
    env: "FAULTLINE_GITLAB_WEBHOOK_TOKEN",
    default: undefined,
    description: "X-Gitlab-Token expected on /api/v1/webhooks/gitlab",
  },
  {
    key: "argocdWebhookToken",
    flag: "--argocd-webhook-token <token>",
    env: "FAULTLINE_ARGOCD_WEBHOOK_TOKEN",
    default: undefined,
    description: "bearer token expected on /api/v1/webhooks/argocd",
  },
  {
    key: "faroApiKey",
    flag: "--faro-api-key <key>",
    env: "FAULTLINE_FARO_API_KEY",
    default: undefined,
    description: "x-api-key browsers must send to the Faro receiver (/collect); open when unset",
  },
  {
    key: "corsOrigins",
    flag: "--cors-origins <origins>",
    env: "FAULTLINE_CORS_ORIGINS",
    default: "",
    description: "comma-separated browser origins allowed to send OTLP and Faro data (CORS off when empty)",
  },
  {
    key: "traceUrlTemplate",
    flag: "--trace-url-template <template>",
    env: "FAULTLINE_TRACE_URL_TEMPLATE",
    default: undefined,
    description:
      "link to a trace in your viewer, {traceId} replaced, e.g. http://localhost:16686/trace/{traceId} (Jaeger)",
  },
  {
    key: "webDist",
    flag: "--web-dist <dir>",
    env: "FAULTLINE_WEB_DIST",
    default: undefined,
    description: "built UI to serve at / (default: apps/web/dist of this checkout)",
  },
  {
    key: "publicUrl",
    flag: "--public-url <url>",
    env: "FAULTLINE_PUBLIC_URL",
    default: undefined,
    description:
      "where people open the UI, for links in pages and messages (default: the API listener's URL)",
  },
  {
    key: "notifyConfig",
    flag: "--notify-config <file>",
    env: "FAULTLINE_NOTIFY_CONFIG",
    default: undefined,
    description:
      "paging config (YAML or JSON): destinations, routing rules, mutes; see packages/notify/README.md",
  },
  {
    key: "demo",
    flag: "--demo",
    env: "FAULTLINE_DEMO",
    default: false,
    description: "run the simulated messaging platform and its outage story",
  },
  {
    key: "demoBroker",
    flag: "--demo-broker <broker>",
    env: "FAULTLINE_DEMO_BROKER",
    default: "memory",
    description:
      "the demo's dm.messages hop: memory, or for live traffic a RabbitMQ (amqp://guest:guest@127.0.0.1:5672) or NATS JetStream (nats://127.0.0.1:4222) URL",
  },
  {
    key: "logLevel",
    flag: "--log-level <level>",
    env: "FAULTLINE_LOG_LEVEL",
    default: "info",
    description: "fatal, error, warn, info, debug or trace",
  },
  {
    key: "shutdownTimeoutMs",
    flag: "--shutdown-timeout-ms <ms>",
    env: "FAULTLINE_SHUTDOWN_TIMEOUT_MS",
    default: "10000",
    description: "longest graceful shutdown before the process exits anyway",
  },
] as const;

const port = z.coerce
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(0, "must be between 0 and 65535")
  .max(65535, "must be between 0 and 65535");

const booleanFlag = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(["1", "0", "true", "false", "yes", "no", ""], { error: "must be true or false" }))
    .transform((value) => value === "1" || value === "true" || value === "yes"),
]);

const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value ? value : undefined));

export const serveConfigSchema = z.object({
  dataDir: z.string().min(1, "must not be empty"),
  databaseUrl: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined))
    .refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), {
      error: "must be a postgres:// or postgresql:// URL",
    }),
  ingestWalDir: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined)),
  host: z.string().min(1, "must not be empty"),
  port,
  otlpPort: port,
  otlpGrpcPort: port,
  token: z
    .string()
    .optional()
    .transform((value) => (value ? value : undefined))
    .refine((value) => value === undefined || value.length >= 8, { error: "must be at least 8 characters" }),
  githubWebhookSecret: optionalSecret,
  gitlabWebhookToken: optionalSecret,
  argocdWebhookToken: optionalSecret,
  faroApiKey: optionalSecret,
  corsOrigins: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((origin) => origin.trim())
        .filter((origin) => origin.length > 0),
    )
    .refine((origins) => origins.every((origin) => origin === "*" || /^https?:\/\/[^/\s]+$/.test(origin)), {
      error: "must be a comma-separated list of origins like https://app.example.com, or *",
    }),
  traceUrlTemplate: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined))
    .refine((value) => value === undefined || (/^https?:\/\//.test(value) && value.includes("{traceId}")), {
      error: "must be an http(s) URL containing {traceId}",
    }),
  webDist: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined)),
  publicUrl: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value.replace(/\/+$/, "") : undefined))
    .refine((value) => value === undefined || /^https?:\/\/[^\s]+$/.test(value), {
      error: "must be an http(s) URL",
    }),
  notifyConfig: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined)),
  demo: booleanFlag,
  demoBroker: z
    .string()
    .trim()
    .refine((value) => value === "memory" || /^(amqps?|nats):\/\//.test(value), {
      error: "must be memory, an amqp:// URL or a nats:// URL",
    }),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
    error: "must be one of fatal, error, warn, info, debug, trace, silent",
  }),
  shutdownTimeoutMs: z.coerce.number().int().min(100, "must be at least 100"),
});

export type ServeConfig = z.output<typeof serveConfigSchema>;

/** A configuration problem a person can fix; the CLI prints the message and exits with status 2. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Validates raw settings (from flags, the environment and defaults) into a ServeConfig.
 * Every problem is reported at once, each naming the flag and its environment variable.
 */
export function parseServeConfig(raw: Record<string, unknown>): ServeConfig {
  const result = serveConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const setting = serveSettings.find((candidate) => candidate.key === issue.path[0]);
      const name = setting ? `${setting.flag.split(" ")[0]} (${setting.env})` : String(issue.path[0]);
      return `  ${name}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const config = result.data;
  if (!isLoopbackHost(config.host) && config.token === undefined) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} without authentication: anyone who can reach it could write ` +
        "telemetry and changes. Set --token (FAULTLINE_TOKEN), or bind to 127.0.0.1.",
    );
  }
  return config;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare.startsWith("::ffff:127.");
  return false;
}
