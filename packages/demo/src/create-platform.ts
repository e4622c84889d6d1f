import { FaroReporter } from "./faro-reporter.ts";
import { InMemoryBroker, type MessageBroker } from "./message-broker.ts";
import { MessagingPlatform } from "./messaging-platform.ts";
import { ServiceTelemetry } from "./service-telemetry.ts";

/** Where the demo sends its telemetry and changes. */
export interface DemoTarget {
  /** Faultline's API base URL (deploys, reports). */
  apiUrl: string;
  /** Faultline's OTLP/HTTP base URL (traces, Faro /collect). */
  otlpHttpUrl: string;
  environment?: string;
  token?: string | undefined;
  faroApiKey?: string | undefined;
}

/** Options shared by the live demo and story replays. */
export interface PlatformSetup extends DemoTarget {
  seed: string;
  rootRate: number;
  /** Defaults to an in-memory broker. */
  broker?: MessageBroker;
  /** Report browser page loads through Faro (default true). */
  browser?: boolean;
  /** Export every instance's spans through one collector-like exporter (see TelemetryTarget.collector). */
  collector?: boolean;
}

/** A platform wired to a Faultline server, with the resources to release when done. */
export interface ConnectedPlatform {
  platform: MessagingPlatform;
  environment: string;
  /** Spans the receiver never acknowledged so far (see ServiceTelemetry.unacknowledged). */
  unacknowledged(): { spans: number; lastFailure: Error | undefined };
  close(): Promise<void>;
}

/** Builds the simulated platform, its SDKs and its broker, pointed at one Faultline server. */
export function createPlatform(setup: PlatformSetup): ConnectedPlatform {
  const environment = setup.environment ?? "production";
  const telemetry = new ServiceTelemetry({
    otlpHttpUrl: setup.otlpHttpUrl,
    environment,
    token: setup.token,
    idSeed: setup.seed,
    ...(setup.collector ? { collector: true } : {}),
  });
  const broker = setup.broker ?? new InMemoryBroker();
  const platform = new MessagingPlatform({
    telemetry,
    broker,
    seed: setup.seed,
    rootRate: setup.rootRate,
    ...(setup.browser === false
      ? {}
      : { faro: new FaroReporter(`${setup.otlpHttpUrl}/collect`, environment, setup.faroApiKey) }),
  });
  return {
    platform,
    environment,
    unacknowledged: () => telemetry.unacknowledged(),
    close: async () => {
      await broker.close();
      await telemetry.shutdown();
    },
  };
}
