import type { ChartSnapshotData } from "@faultline/core";
import { memo } from "react";
import { formatDateTime } from "../format.ts";
import { TimelineCharts } from "./timeline-chart.tsx";

/**
 * A chart frozen when the postmortem was written, drawn from the stored data (not from live series, which
 * keep changing): error rate and throughput per service, the incident shaded, changes marked.
 */
export const ChartSnapshotView = memo(function ChartSnapshotView(props: {
  snapshot: { id: string; title: string; capturedAtMs: number; data: ChartSnapshotData };
}) {
  const { data } = props.snapshot;
  const stepSeconds = data.stepSeconds || 10;
  const changeMarkers = data.markers.flatMap((marker, index) => {
    const match = /^(deploy|config|rollback|feature_flag): (.*)$/.exec(marker.label);
    return match
      ? [{ id: `m${index}`, t: marker.atMs, kind: match[1] ?? "", service: match[2] ?? "", version: null }]
      : [];
  });
  const started = data.markers.find((marker) => marker.label === "started")?.atMs;
  const recovered = data.markers.find((marker) => marker.label === "recovered")?.atMs ?? null;
  return (
    <figure className="chart-snapshot" data-snapshot-id={props.snapshot.id}>
      <figcaption>
        {props.snapshot.title}{" "}
        <span className="muted">(data frozen {formatDateTime(props.snapshot.capturedAtMs)})</span>
      </figcaption>
      <TimelineCharts
        fromMs={data.fromMs}
        toMs={data.toMs}
        series={data.series.map((one) => ({
          name: one.service,
          points: one.points.map((point) => ({
            t: point.t,
            errorRate: point.requests === 0 ? null : point.errors / point.requests,
            requestsPerSecond: point.requests / stepSeconds,
            p95Ms: point.p95Ms,
          })),
        }))}
        markers={changeMarkers}
        {...(started === undefined ? {} : { window: { fromMs: started, toMs: recovered } })}
        metrics={["errorRate", "requestsPerSecond"]}
      />
    </figure>
  );
});
