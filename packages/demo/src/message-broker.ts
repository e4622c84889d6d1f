import type { Context } from "@opentelemetry/api";
import type { InstanceIdentity } from "./service-telemetry.ts";

/** A message on a topic: W3C trace headers plus the simulator's own bookkeeping, and a body. */
export interface BrokerMessage {
  headers: Record<string, string>;
  body: string;
}

/**
 * A consumer's handler; the broker waits for it before it counts the message as delivered. `active` is
 * the consumer span's context when the broker traces messaging itself.
 */
export type MessageHandler = (message: BrokerMessage, active?: Context) => Promise<void>;

/** Who publishes, for a broker that creates the producer span itself. */
export interface PublishOrigin {
  /** The context the producer span is a child of. */
  parent: Context;
  producer: InstanceIdentity;
}

/**
 * The one hop the platform sends over a broker (dm-api → `dm.messages` → delivery-worker). The default
 * is in memory; `createAmqpBroker` runs the same hop over a real RabbitMQ.
 */
export interface MessageBroker {
  /** "in-memory", "rabbitmq", …: the `messaging.system` of the hop. */
  readonly system: string;
  /**
   * True when the broker's own instrumentation creates the producer and consumer spans (RabbitMQ with
   * instrumentation-amqplib); the platform then leaves them out. False: the platform creates them.
   */
  readonly tracesMessaging: boolean;
  /** Starts delivering `destination`'s messages to `handler` as consumer group `group`. */
  subscribe(destination: string, group: string, handler: MessageHandler): Promise<void>;
  /** Publishes one message; resolves once the broker accepted it. */
  publish(destination: string, message: BrokerMessage, origin?: PublishOrigin): Promise<void>;
  /** Resolves when every message published so far has been handled. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Delivers in the same process on the next turn, so no setup is needed. */
export class InMemoryBroker implements MessageBroker {
  readonly system = "in-memory";
  readonly tracesMessaging = false;
  private readonly handlers = new Map<string, MessageHandler[]>();
  private readonly pending = new Set<Promise<void>>();

  async subscribe(destination: string, _group: string, handler: MessageHandler): Promise<void> {
    this.handlers.set(destination, [...(this.handlers.get(destination) ?? []), handler]);
  }

  async publish(destination: string, message: BrokerMessage): Promise<void> {
    for (const handler of this.handlers.get(destination) ?? []) {
      const delivery: Promise<void> = Promise.resolve()
        .then(() => handler(message))
        .finally(() => this.pending.delete(delivery));
      this.pending.add(delivery);
    }
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.drain();
    this.handlers.clear();
  }
}
