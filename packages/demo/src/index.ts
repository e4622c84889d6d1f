export { type AmqpBrokerOptions, createAmqpBroker, type MessagingTracerPicker } from "./amqp-broker.ts";
export { brokerKindOf, connectBroker } from "./connect-broker.ts";
export {
  type ConnectedPlatform,
  createPlatform,
  type DemoTarget,
  type PlatformSetup,
} from "./create-platform.ts";
export { buildStory, type ChangeReport, type Story, type StoryName, storyNames } from "./demo-stories.ts";
export { FaroReporter } from "./faro-reporter.ts";
export {
  type BrokerMessage,
  InMemoryBroker,
  type MessageBroker,
  type MessageHandler,
} from "./message-broker.ts";
export { type Fault, MessagingPlatform } from "./messaging-platform.ts";
export { createNatsBroker, type NatsBrokerOptions } from "./nats-broker.ts";
export { type ReplayOptions, type ReplayResult, replayStory, replayWindow } from "./replay-story.ts";
export { postChange, runTimeline, scheduleStory, type TimedStep } from "./run-timeline.ts";
export { ServiceTelemetry } from "./service-telemetry.ts";
export { type DemoOptions, type RunningDemo, startDemo } from "./start-demo.ts";
