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
  formatDay,
  formatMs,
  formatPercent,
  formatRate,
} from "../format.ts";
import { timeTicks } from "../time-ticks.ts";

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
  /** Start the axis at the first data point when the data begins later than `fromMs`. */
  trimToData?: boolean;
}) {
  const metrics = props.metrics ?? (["errorRate", "requestsPerSecond", "p95Ms"] as const);
  const firstData = Math.min(...props.series.map((one) => one.points[0]?.t ?? Number.POSITIVE_INFINITY));
  const firstShown = Math.min(
    firstData,
    ...props.markers.map((marker) => marker.t),
    props.window?.fromMs ?? firstData,
  );
  const fromMs =
    props.trimToData && Number.isFinite(firstShown)
      ? Math.max(props.fromMs, firstShown - 60_000)
      : props.fromMs;
  const ticks = timeTicks(fromMs, props.toMs);
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
                domain={[fromMs, props.toMs]}
                ticks={ticks}
                tickFormatter={props.toMs - fromMs > 36 * 3_600_000 ? formatDay : formatClock}
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
              {props.markers.map((marker, markerIndex) => (
                <ReferenceLine
                  key={marker.id}
                  x={marker.t}
                  stroke="#f5c542"
                  strokeDasharray="4 2"
                  ifOverflow="hidden"
                  label={
                    index === 0 ? <MarkerLabel text={shortLabel(marker)} row={markerIndex % 3} /> : undefined
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

/** A change's label beside its line; neighbours step down a row so close changes stay readable. */
function MarkerLabel(props: { text: string; row: number; viewBox?: { x?: number; y?: number } }) {
  const x = (props.viewBox?.x ?? 0) + 4;
  const y = (props.viewBox?.y ?? 0) - 10 + props.row * 12;
  return (
    <text x={x} y={y} fill="#f5c542" fontSize={11}>
      {props.text}
    </text>
  );
}

function shortLabel(marker: ChartMarker): string {
  return `${marker.kind === "feature_flag" ? "flag" : marker.kind} ${marker.service}${marker.version ? ` ${marker.version}` : ""}`;
}
