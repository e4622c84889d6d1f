import {
  type Context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AckPolicy,
  type ConsumerMessages,
  connect,
  type JsMsg,
  type MsgHdrs,
  nanos,
  headers as natsHeaders,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "nats";
import type { MessagingTracerPicker } from "./amqp-broker.ts";
import type { BrokerMessage, MessageBroker, MessageHandler, PublishOrigin } from "./message-broker.ts";

/** Options of {@link createNatsBroker}. */
export interface NatsBrokerOptions {
  /** e.g. nats://127.0.0.1:4222 */
  url: string;
  /**
   * Subject prefix, so parallel runs (tests) do not share a stream; not part of the destination name.
   * The stream is named after the prefixed subject.
   */
  prefix?: string;
  /** Deletes the stream on close (a test's own stream); the demo's stays for the next start. */
  deleteStreamOnClose?: boolean;
}

const propagator = new W3CTraceContextPropagator();
/** Set on every message this broker publishes, so it only counts its own messages as handled. */
const runHeader = "faultline-demo-run";

/**
 * The delivery hop over a real NATS JetStream: each destination is a subject captured by a memory-backed
 * work-queue stream, and each consumer group a durable pull consumer with explicit acks. There is no
 * OpenTelemetry instrumentation for the NATS client, so the broker traces the hop itself as the AMQP
 * instrumentation does: a PRODUCER span (on the publishing instance's SDK, child of the caller's span)
 * ended when JetStream acknowledged the message, the W3C context carried in the NATS message headers,
 * and a CONSUMER span (on the consuming instance's SDK) linked to the producer span around the handler.
 * Spans carry wall-clock times, so this broker suits live runs, not accelerated replays. It injects and
 * extracts with its own propagator, so unlike the AMQP instrumentation it registers nothing global.
 */
export async function createNatsBroker(
  options: NatsBrokerOptions,
  pick: MessagingTracerPicker,
): Promise<MessageBroker> {
  const prefix = options.prefix ?? "";
  const { hostname, port } = new URL(options.url);
  const serverPort = Number(port || 4222);
  const connection = await connect({ servers: `${hostname}:${serverPort}`, name: "faultline-demo" });
  const manager = await connection.jetstreamManager();
  const jetstream = connection.jetstream();
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const streams = new Set<string>();
  const subscriptions: ConsumerMessages[] = [];
  const loops: Promise<void>[] = [];
  let inFlight = 0;
  let idle: (() => void)[] = [];
  const settle = () => {
    inFlight -= 1;
    if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
  };
  const messagingAttributes = (destination: string) => ({
    "messaging.system": "nats",
    "messaging.destination.name": destination,
    "server.address": hostname,
    "server.port": serverPort,
  });

  /** The work-queue stream of one destination, created (or brought to this config) on first use. */
  const ensureStream = async (destination: string): Promise<string> => {
    const subject = `${prefix}${destination}`;
    const name = streamName(subject);
    if (streams.has(name)) return name;
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: [subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.Memory,
      // A demo's messages are worth nothing after a few minutes; a stopped demo leaves no backlog.
      max_age: nanos(10 * 60_000),
    };
    await manager.streams.add(config).catch(() => manager.streams.update(name, config));
    streams.add(name);
    return name;
  };

  const consume = async (message: JsMsg, destination: string, group: string, handler: MessageHandler) => {
    const ownMessage = message.headers?.get(runHeader) === run;
    const carried = headerRecord(message.headers);
    const producer = trace.getSpanContext(
      propagator.extract(ROOT_CONTEXT, carried, {
        get: (carrier, key) => carrier[key],
        keys: (carrier) => Object.keys(carrier),
      }),
    );
    const links: Link[] = producer ? [{ context: producer }] : [];
    // A new trace linked to the producer, as instrumentation-amqplib does with useLinksForConsume.
    const span = pick(SpanKind.CONSUMER).startSpan(
      `process ${destination}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          ...messagingAttributes(destination),
          "messaging.operation.type": "process",
          "messaging.operation.name": "process",
          "messaging.consumer.group.name": group,
          "messaging.message.id": String(message.seq),
          "messaging.message.body.size": message.data.length,
        },
      },
      ROOT_CONTEXT,
    );
    try {
      await handler(
        { headers: carried, body: new TextDecoder().decode(message.data) },
        trace.setSpan(ROOT_CONTEXT, span),
      );
    } catch (error) {
      failed(span, error);
    } finally {
      message.ack();
      span.end();
      if (ownMessage) settle();
    }
  };

  return {
    system: "nats",
    tracesMessaging: true,
    async subscribe(destination: string, group: string, handler: MessageHandler) {
      const stream = await ensureStream(destination);
      await manager.consumers.add(stream, { durable_name: group, ack_policy: AckPolicy.Explicit });
      const consumer = await jetstream.consumers.get(stream, group);
      const messages = await consumer.consume();
      subscriptions.push(messages);
      loops.push(
        (async () => {
          // Handled one after another: the handler's work is synchronous simulation, so this costs
          // nothing and keeps each consumer span's instance choice next to its own handler call.
          for await (const message of messages) await consume(message, destination, group, handler);
        })(),
      );
    },
    async publish(destination: string, message: BrokerMessage, origin?: PublishOrigin) {
      const subject = `${prefix}${destination}`;
      await ensureStream(destination);
      inFlight += 1;
      const parent: Context = origin?.parent ?? ROOT_CONTEXT;
      const span = pick(SpanKind.PRODUCER).startSpan(
        `send ${destination}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            ...messagingAttributes(destination),
            "messaging.operation.type": "send",
            "messaging.operation.name": "publish",
            "messaging.message.body.size": Buffer.byteLength(message.body),
          },
        },
        parent,
      );
      const carried: Record<string, string> = { ...message.headers };
      propagator.inject(trace.setSpan(parent, span), carried, {
        set: (carrier, key, value) => {
          carrier[key] = value;
        },
      });
      const headers = natsHeaders();
      for (const [key, value] of Object.entries(carried)) headers.set(key, value);
      headers.set(runHeader, run);
      try {
        const ack = await jetstream.publish(subject, new TextEncoder().encode(message.body), { headers });
        span.setAttribute("messaging.message.id", String(ack.seq));
      } catch (error) {
        // Never delivered, so never handled: it no longer counts as in flight.
        failed(span, error);
        settle();
        throw error;
      } finally {
        span.end();
      }
    },
    drain: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    async close() {
      if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
      idle = [];
      for (const messages of subscriptions) await messages.close();
      await Promise.allSettled(loops);
      if (options.deleteStreamOnClose) {
        for (const name of streams) await manager.streams.delete(name).catch(() => false);
      }
      await connection.drain();
    },
  };
}

/** A stream name from a subject: stream names may not hold `.`, `*`, `>`, path separators or spaces. */
function streamName(subject: string): string {
  return subject.replace(/[.*>/\\\s]/g, "_");
}

function headerRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  for (const key of headers.keys()) if (key !== runHeader) record[key] = headers.get(key);
  return record;
}

function failed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setAttribute("error.type", error instanceof Error ? error.name : "Error");
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
