import { type Range, ranges } from "../url-state.ts";

const labels: Record<Range, string> = { live: "Live", "1h": "1 h", "6h": "6 h", "24h": "24 h", "7d": "7 d" };

/** Buttons for the time range; the chosen one is pressed (aria-pressed) for screen readers. */
export function RangePicker(props: { value: Range; onChange: (range: Range) => void }) {
  return (
    <fieldset className="range-picker">
      <legend className="visually-hidden">Time range</legend>
      {ranges.map((range) => (
        <button
          key={range}
          type="button"
          aria-pressed={props.value === range}
          className={props.value === range ? "active" : ""}
          onClick={() => props.onChange(range)}
        >
          {labels[range]}
        </button>
      ))}
    </fieldset>
  );
}
