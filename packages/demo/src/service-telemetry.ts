import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { SeededRandom } from "./seeded-random.ts";

/** Where and how the simulated services export their spans. */
export interface TelemetryTarget {
  /** Base URL of Faultline's OTLP/HTTP receiver, e.g. http://127.0.0.1:4318. */
  otlpHttpUrl: string;
  /** `deployment.environment.name` of every service. */
  environment: string;
  /** Bearer token when the receiver requires one. */
  token?: string | undefined;
  /** Seed of the span and trace ids, so a replay of the same story is reproducible. */
  idSeed: string;
  /** Replaces the OTLP exporter (tests of the simulator alone). */
  exporterFactory?: () => SpanExporter;
}

/** One running instance of a service at one version, as its own process would be. */
export interface InstanceIdentity {
  service: string;
  version: string;
  instanceId: string;
  region: string;
}

/** Ids from a seeded source: the SDK's default generator uses Math.random. */
class SeededIdGenerator implements IdGenerator {
  constructor(private readonly random: SeededRandom) {}
  generateTraceId(): string {
    return this.random.hex(16);
  }
  generateSpanId(): string {
    return this.random.hex(8);
  }
}

/**
 * The OpenTelemetry SDK of every simulated instance: one BasicTracerProvider per (instance, version),
 * each with its own resource, BatchSpanProcessor and OTLP/protobuf exporter — exactly what a fleet of
 * separately deployed processes would send. A deploy gives an instance a new provider, as a restarted
 * pod would have.
 */
export class ServiceTelemetry {
  private readonly providers = new Map<string, BasicTracerProvider>();
  private readonly ids: SeededIdGenerator;

  constructor(private readonly target: TelemetryTarget) {
    this.ids = new SeededIdGenerator(new SeededRandom(`ids:${target.idSeed}`));
  }

  /** The tracer of one instance at one version, created on first use. */
  tracer(identity: InstanceIdentity): Tracer {
    const key = `${identity.instanceId}\u0000${identity.version}`;
    let provider = this.providers.get(key);
    if (!provider) {
      provider = this.createProvider(identity);
      this.providers.set(key, provider);
    }
    return provider.getTracer("faultline-demo", "0.1.0");
  }

  /** Exports everything ended so far; resolves when the receiver acknowledged it. */
  async flush(): Promise<void> {
    await Promise.all([...this.providers.values()].map((provider) => provider.forceFlush()));
  }

  /** Flushes and shuts every provider down. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.providers.values()].map((provider) => provider.shutdown()));
    this.providers.clear();
  }

  private createProvider(identity: InstanceIdentity): BasicTracerProvider {
    const exporter =
      this.target.exporterFactory?.() ??
      new OTLPTraceExporter({
        url: `${this.target.otlpHttpUrl}/v1/traces`,
        headers: this.target.token ? { authorization: `Bearer ${this.target.token}` } : {},
        timeoutMillis: 30_000,
      });
    return new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": identity.service,
        "service.namespace": "dm",
        "service.version": identity.version,
        "service.instance.id": identity.instanceId,
        "k8s.pod.name": identity.instanceId,
        "deployment.environment.name": this.target.environment,
        "cloud.region": identity.region,
      }),
      idGenerator: this.ids,
      // The simulator flushes after every slice of event time, so the queue only needs to hold one
      // slice; a large queue instead of the SDK default (2048) keeps a fast replay from dropping spans.
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          maxQueueSize: 200_000,
          maxExportBatchSize: 4_000,
          scheduledDelayMillis: 1_000,
          exportTimeoutMillis: 30_000,
        }),
      ],
    });
  }
}
