import { createAmqpBroker, type MessagingTracerPicker } from "./amqp-broker.ts";
import type { MessageBroker } from "./message-broker.ts";
import { createNatsBroker } from "./nats-broker.ts";

/** The real brokers the live demo's dm.messages hop can run over, by URL scheme. */
export const brokerSchemes = {
  "amqp:": "RabbitMQ",
  "amqps:": "RabbitMQ",
  "nats:": "NATS JetStream",
} as const;

/** The broker's name for `url` (e.g. "NATS JetStream"), or undefined for a scheme the demo cannot use. */
export function brokerKindOf(url: string): string | undefined {
  try {
    return brokerSchemes[new URL(url).protocol as keyof typeof brokerSchemes];
  } catch {
    return undefined;
  }
}

/** Connects the hop to RabbitMQ (amqp://…) or NATS JetStream (nats://…). */
export function connectBroker(url: string, pick: MessagingTracerPicker): Promise<MessageBroker> {
  const protocol = new URL(url).protocol;
  if (protocol === "nats:") return createNatsBroker({ url }, pick);
  if (protocol === "amqp:" || protocol === "amqps:") return createAmqpBroker({ url }, pick);
  throw new Error(`no demo broker for ${protocol} URLs (use amqp:// or nats://)`);
}
