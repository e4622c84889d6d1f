import type { SpanKind } from "@faultline/otlp";
import type { EdgeKind } from "../edge-kinds.ts";
import type { LatencyIndexBins } from "../latency-index-bins.ts";
import type { SketchBins } from "../sketch-bins.ts";

/** One series' aggregate for one raw bucket, as detection consumes it. Times in ms since the epoch. */
export interface SeriesObservation {
  environment: string;
  service: string;
  operation: string;
  spanKind: SpanKind;
  version: string | null;
  bucketStartMs: number;
  spans: number;
  errors: number;
  latencyBins: SketchBins;
  /** The same bins in numeric form, when the producer kept them: read instead of `latencyBins`. */
  latencyIndexBins?: LatencyIndexBins;
  userRegisters: SketchBins;
}

/** One graph edge's aggregate for one raw bucket. */
export interface EdgeObservation {
  environment: string;
  kind: EdgeKind;
  source: string;
  target: string;
  bucketStartMs: number;
  count: number;
  errors: number;
}

/** A change attribution may blame: reported, webhook or inferred; every kind. */
export interface ChangeCandidate {
  id: string;
  environment: string;
  service: string;
  version: string | null;
  previousVersion: string | null;
  kind: "deploy" | "config" | "rollback" | "feature_flag";
  source: "api" | "webhook" | "telemetry";
  startedAtMs: number;
}

export type DetectorSignal = "error_rate" | "throughput" | "latency";

export interface RankedSuspect {
  changeId: string;
  service: string;
  version: string | null;
  kind: ChangeCandidate["kind"];
  startedAtMs: number;
  /** 0..1. */
  score: number;
  evidence: string[];
}

export type IncidentTimelineKind =
  | "opened"
  | "spread"
  | "suspects_changed"
  | "severity_changed"
  | "recovered"
  | "reopened";

export interface IncidentTimelineEvent {
  /** Event time. */
  atMs: number;
  kind: IncidentTimelineKind;
  message: string;
}

export type Severity = "sev1" | "sev2" | "sev3" | "sev4";

/** An incident as detection sees it; `revision` grows whenever anything in it changes. */
export interface IncidentSnapshot {
  id: string;
  environment: string;
  title: string;
  status: "open" | "resolved";
  severity: Severity;
  signal: DetectorSignal;
  rootService: string | null;
  startedAtMs: number;
  detectedAtMs: number;
  endedAtMs: number | null;
  services: string[];
  surfaces: string[];
  affectedUsers: number;
  suspects: RankedSuspect[];
  causeChangeId: string | null;
  events: IncidentTimelineEvent[];
  revision: number;
}
