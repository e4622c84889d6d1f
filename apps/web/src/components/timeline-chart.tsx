import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceArea,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import {
  describeChange,
  formatClock,
  formatDateTime,
  formatMs,
  formatPercent,
  formatRate,
} from "../format.ts";

export const seriesColors = [
  "#ff6b5a",
  "#5ab0ff",
  "#f5c542",
  "#7ddc8a",
  "#c58bff",
  "#ff9f43",
  "#4dd9d5",
  "#e27bb1",
];

export interface ChartMarker {
  id: string;
  t: number;
  kind: string;
  service: string;
  version: string | null;
  previousVersion?: string | null;
}

type Metric = "errorRate" | "requestsPerSecond" | "p95Ms";

const metricLabels: Record<Metric, { title: string; format: (value: number) => string }> = {
  errorRate: { title: "Error rate", format: (value) => formatPercent(value) },
  requestsPerSecond: { title: "Throughput", format: (value) => formatRate(value) },
  p95Ms: { title: "p95 latency", format: (value) => formatMs(value) },
};

/**
 * Error rate, throughput and p95 of several services, stacked and synchronised, with each change as a
 * labelled vertical marker and the incident window shaded.
 */
export function TimelineCharts(props: {
  fromMs: number;
  toMs: number;
  series: readonly {
    name: string;
    points: readonly {
      t: number;
      errorRate: number | null;
      requestsPerSecond: number;
      p95Ms: number | null;
    }[];
  }[];
  markers: readonly ChartMarker[];
  window?: { fromMs: number; toMs: number | null };
  metrics?: readonly Metric[];
}) {
  const metrics = props.metrics ?? (["errorRate", "requestsPerSecond", "p95Ms"] as const);
  return (
    <div className="timeline-charts">
      {metrics.map((metric, index) => (
        <figure key={metric} className="chart">
          <figcaption>{metricLabels[metric].title}</figcaption>
          <ResponsiveContainer width="100%" height={index === 0 ? 200 : 150}>
            <LineChart
              syncId="incident-timeline"
              margin={{ top: index === 0 ? 22 : 8, right: 16, bottom: 0, left: 8 }}
            >
              <CartesianGrid stroke="#2a3040" strokeDasharray="3 3" />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={[props.fromMs, props.toMs]}
                tickFormatter={formatClock}
                stroke="#8a93a6"
                allowDuplicatedCategory={false}
              />
              <YAxis
                stroke="#8a93a6"
                width={64}
                tickFormatter={(value: number) => metricLabels[metric].format(value)}
                domain={[0, "auto"]}
              />
              <Tooltip
                contentStyle={{ background: "#161b26", border: "1px solid #2f3747" }}
                labelFormatter={(value) => formatDateTime(Number(value))}
                formatter={(value, name) => [metricLabels[metric].format(Number(value)), String(name)]}
              />
              {props.window && (
                <ReferenceArea
                  x1={props.window.fromMs}
                  x2={props.window.toMs ?? props.toMs}
                  fill="#ff6b5a"
                  fillOpacity={0.12}
                  ifOverflow="hidden"
                />
              )}
              {props.markers.map((marker) => (
                <ReferenceLine
                  key={marker.id}
                  x={marker.t}
                  stroke="#f5c542"
                  strokeDasharray="4 2"
                  ifOverflow="hidden"
                  label={
                    index === 0
                      ? {
                          value: shortLabel(marker),
                          position: "insideTopLeft",
                          fill: "#f5c542",
                          fontSize: 11,
                        }
                      : undefined
                  }
                />
              ))}
              {props.series.map((one, seriesIndex) => (
                <Line
                  key={one.name}
                  name={one.name}
                  data={[...one.points]}
                  dataKey={metric}
                  stroke={seriesColors[seriesIndex % seriesColors.length]}
                  dot={false}
                  strokeWidth={1.6}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </figure>
      ))}
      <ul className="chart-legend" aria-label="Chart legend">
        {props.series.map((one, index) => (
          <li key={one.name}>
            <span className="swatch" style={{ background: seriesColors[index % seriesColors.length] }} />{" "}
            {one.name}
          </li>
        ))}
        {props.window && (
          <li>
            <span className="swatch swatch-window" /> incident window
          </li>
        )}
        {props.markers.length > 0 && (
          <li>
            <span className="swatch swatch-marker" /> change
          </li>
        )}
      </ul>
      {props.markers.length > 0 && (
        <ol className="marker-list" aria-label="Changes on the chart">
          {props.markers.map((marker) => (
            <li key={marker.id}>
              <time dateTime={new Date(marker.t).toISOString()}>{formatClock(marker.t)}</time>{" "}
              {describeChange(marker)}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function shortLabel(marker: ChartMarker): string {
  return `${marker.kind === "feature_flag" ? "flag" : marker.kind} ${marker.service}${marker.version ? ` ${marker.version}` : ""}`;
}
