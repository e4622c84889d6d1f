import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { AcknowledgedSpanExporter } from "./acknowledged-span-exporter.ts";
import { SeededRandom } from "./seeded-random.ts";

/** How long one export may take, retries of an overloaded receiver included. */
const exportTimeoutMs = 60_000;

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
  /**
   * Exports every instance's spans through one batch processor and one OTLP exporter, as an
   * OpenTelemetry Collector in front of the fleet forwards them: each flush is one request holding every
   * instance's resource. The backfill sends history this way so that a slice arrives whole. Sent per
   * instance, the requests of one slice can land in separate ingest commits, and detection, which closes
   * a bucket 20 s (its allowed lateness) behind the newest event time it has seen, would close buckets
   * of the slice before the rest of their spans arrived: a replay artefact no live fleet produces.
   */
  collector?: boolean;
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
  private readonly collector: BatchSpanProcessor | undefined;
  private readonly exporters: AcknowledgedSpanExporter[] = [];

  constructor(private readonly target: TelemetryTarget) {
    this.ids = new SeededIdGenerator(new SeededRandom(`ids:${target.idSeed}`));
    // One request per flush however large the slice, and however long it takes to build on a loaded
    // machine: the queue and the batch are the same size, and no timer exports a slice half built.
    this.collector = target.collector
      ? new BatchSpanProcessor(this.createExporter(), {
          maxQueueSize: 1_000_000,
          maxExportBatchSize: 1_000_000,
          scheduledDelayMillis: 3_600_000,
          exportTimeoutMillis: exportTimeoutMs + 30_000,
        })
      : undefined;
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

  /**
   * Spans the receiver never acknowledged (their exporter gave up), and why the last export failed.
   * A batch processor also drops spans when its queue is full; the queues here hold a whole slice.
   */
  unacknowledged(): { spans: number; lastFailure: Error | undefined } {
    let spans = 0;
    let lastFailure: Error | undefined;
    for (const exporter of this.exporters) {
      spans += exporter.lostSpans;
      lastFailure = exporter.lastFailure ?? lastFailure;
    }
    return { spans, lastFailure };
  }

  /** Exports everything ended so far; resolves when the receiver acknowledged it. */
  async flush(): Promise<void> {
    if (this.collector) await this.collector.forceFlush();
    else await Promise.all([...this.providers.values()].map((provider) => provider.forceFlush()));
  }

  /** Flushes and shuts every provider down. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.providers.values()].map((provider) => provider.shutdown()));
    await this.collector?.shutdown();
    this.providers.clear();
  }

  private createExporter(): SpanExporter {
    const exporter = new AcknowledgedSpanExporter(
      this.target.exporterFactory?.() ??
        new OTLPTraceExporter({
          url: `${this.target.otlpHttpUrl}/v1/traces`,
          headers: this.target.token ? { authorization: `Bearer ${this.target.token}` } : {},
          timeoutMillis: exportTimeoutMs,
        }),
    );
    this.exporters.push(exporter);
    return exporter;
  }

  private createProvider(identity: InstanceIdentity): BasicTracerProvider {
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
        this.collector ??
          new BatchSpanProcessor(this.createExporter(), {
            maxQueueSize: 200_000,
            maxExportBatchSize: 4_000,
            scheduledDelayMillis: 1_000,
            // Longer than the exporter's own deadline (retries included), so the exporter decides
            // whether a batch was delivered, not a processor timer that leaves the request running.
            exportTimeoutMillis: exportTimeoutMs + 30_000,
          }),
      ],
    });
  }
}
