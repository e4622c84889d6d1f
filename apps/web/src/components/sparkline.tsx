/**
 * A small inline SVG line (no chart library: the health board draws hundreds of these). Markers are
 * vertical ticks at change times; the optional window is shaded.
 */
export function Sparkline(props: {
  points: readonly { t: number; v: number | null }[];
  fromMs: number;
  toMs: number;
  markers?: readonly { t: number; label: string }[];
  window?: { fromMs: number; toMs: number | null };
  width?: number;
  height?: number;
  label: string;
  /** Fixed top of the y axis (e.g. 1 for error rates), else the data's maximum. */
  max?: number;
}) {
  const width = props.width ?? 160;
  const height = props.height ?? 32;
  const span = Math.max(1, props.toMs - props.fromMs);
  const values = props.points.map((point) => point.v ?? 0);
  const top = Math.max(props.max ?? 0, ...values, 1e-9);
  const x = (t: number) => ((t - props.fromMs) / span) * width;
  const y = (v: number) => height - 2 - (v / top) * (height - 4);
  const line = props.points
    .map((point) => `${x(point.t).toFixed(1)},${y(point.v ?? 0).toFixed(1)}`)
    .join(" ");
  return (
    <svg
      className="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.label}
    >
      {props.window && (
        <rect
          className="sparkline-window"
          x={x(props.window.fromMs)}
          y={0}
          width={Math.max(2, x(props.window.toMs ?? props.toMs) - x(props.window.fromMs))}
          height={height}
        />
      )}
      {props.markers?.map((marker) => (
        <line
          key={`${marker.t}-${marker.label}`}
          className="sparkline-marker"
          x1={x(marker.t)}
          x2={x(marker.t)}
          y1={0}
          y2={height}
        >
          <title>{marker.label}</title>
        </line>
      ))}
      {props.points.length > 0 && <polyline className="sparkline-line" points={line} />}
    </svg>
  );
}
