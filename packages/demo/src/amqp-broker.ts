import { createRequire } from "node:module";
import {
  type Context,
  context,
  propagation,
  type Span,
  type SpanKind,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AmqplibInstrumentation } from "@opentelemetry/instrumentation-amqplib";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { BrokerMessage, MessageBroker, MessageHandler, PublishOrigin } from "./message-broker.ts";

/** Picks the tracer of the instance that owns a messaging span: the publisher's or a consumer's. */
export type MessagingTracerPicker = (kind: SpanKind | undefined) => Tracer;

/** Options of {@link createAmqpBroker}. */
export interface AmqpBrokerOptions {
  /** e.g. amqp://guest:guest@127.0.0.1:5672 */
  url: string;
  /** Queue-name prefix, so parallel runs (tests) do not share queues; not part of the destination name. */
  prefix?: string;
}

/**
 * The delivery hop over a real RabbitMQ, traced by `@opentelemetry/instrumentation-amqplib`: the
 * instrumentation creates the PRODUCER span on publish, injects the W3C context into the message
 * headers, and creates the CONSUMER span (linked to the producer) around the handler. Each span lands
 * in the tracer provider of the service instance that sent or received it, through a routing provider.
 *
 * The instrumentation's spans carry wall-clock times, so this broker suits live runs (event time = wall
 * clock), not accelerated replays. It registers a global context manager and propagator, which the
 * instrumentation needs.
 */
export async function createAmqpBroker(
  options: AmqpBrokerOptions,
  pick: MessagingTracerPicker,
): Promise<MessageBroker> {
  const prefix = options.prefix ?? "";
  const destinationOf = (queue: string) => (queue.startsWith(prefix) ? queue.slice(prefix.length) : queue);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const instrumentation = new AmqplibInstrumentation({
    useLinksForConsume: true,
    // The instrumentation still writes the older attribute names and names spans after the exchange;
    // add the current conventions and name them as the in-memory hop does, so the series continue.
    publishHook: (span, info) =>
      span.updateName(`send ${destinationOf(info.routingKey)}`).setAttributes({
        "messaging.system": "rabbitmq",
        "messaging.destination.name": destinationOf(info.routingKey),
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
      }),
    consumeHook: (span, info) =>
      span.updateName(`process ${destinationOf(info.msg.fields.routingKey)}`).setAttributes({
        "messaging.system": "rabbitmq",
        "messaging.destination.name": destinationOf(info.msg.fields.routingKey),
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
      }),
  });
  instrumentation.setTracerProvider(routingProvider(pick));
  instrumentation.enable();
  // Loaded only now, through require, so the instrumentation's module hook patches it.
  const amqp = createRequire(import.meta.url)("amqplib") as typeof import("amqplib");
  const connection: ChannelModel = await amqp.connect(options.url);
  const channel: Channel = await connection.createChannel();
  let inFlight = 0;
  let idle: (() => void)[] = [];
  const settle = () => {
    inFlight -= 1;
    if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
  };
  return {
    system: "rabbitmq",
    tracesMessaging: true,
    async subscribe(destination: string, _group: string, handler: MessageHandler) {
      // One queue per destination: the demo has one consumer group, and the queue name is what the
      // instrumentation reports as the routing key.
      const queue = `${prefix}${destination}`;
      await channel.assertQueue(queue, { durable: false, autoDelete: true });
      await channel.consume(queue, (message: ConsumeMessage | null) => {
        if (!message) return;
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(message.properties.headers ?? {}))
          headers[key] = String(value);
        // The instrumentation made the consumer span active around this callback.
        handler({ headers, body: message.content.toString() }, context.active())
          .catch(() => {})
          .finally(() => {
            channel.ack(message);
            settle();
          });
      });
    },
    async publish(destination: string, message: BrokerMessage, origin?: PublishOrigin) {
      const queue = `${prefix}${destination}`;
      inFlight += 1;
      context.with(origin?.parent ?? context.active(), () =>
        channel.sendToQueue(queue, Buffer.from(message.body), { headers: { ...message.headers } }),
      );
    },
    drain: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    async close() {
      if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
      idle = [];
      await channel.close();
      await connection.close();
      instrumentation.disable();
    },
  };
}

/** A TracerProvider whose tracers hand each span to the instance's own SDK that owns it. */
function routingProvider(pick: MessagingTracerPicker): TracerProvider {
  const tracer: Tracer = {
    startSpan: (name: string, options?: SpanOptions, parent?: Context): Span =>
      pick(options?.kind).startSpan(name, options, parent),
    startActiveSpan: ((name: string, ...rest: unknown[]) => {
      const run = rest[rest.length - 1] as (span: Span) => unknown;
      const options = (rest.length > 1 ? rest[0] : undefined) as SpanOptions | undefined;
      const parent = (rest.length > 2 ? rest[1] : undefined) as Context | undefined;
      const span = pick(options?.kind).startSpan(name, options, parent ?? context.active());
      return context.with(trace.setSpan(parent ?? context.active(), span), () => run(span));
    }) as Tracer["startActiveSpan"],
  };
  return { getTracer: () => tracer };
}
