import type { SpanKind } from "@faultline/otlp";

/** The identity of a series: one per (environment, service, operation, kind, destination, version). */
export interface SeriesIdentity {
  environment: string;
  service: string;
  /** The span name. */
  operation: string;
  spanKind: SpanKind;
  /** `messaging.destination.name`, or null (an empty name is null too). */
  destination: string | null;
  /** `service.version`, or null (an empty version is null too). */
  version: string | null;
}

// U+001F (unit separator) never appears in service, operation or version names in practice; a name that
// did contain it could only merge two series' keys, never lose a span.
const separator = "\u001f";

/**
 * The in-memory key of a series, for grouping and joining deltas of one batch or rollup. Not stored: the
 * database keys series by their columns. Null destination/version are encoded apart from any string.
 */
export function seriesKeyOf(series: SeriesIdentity): string {
  return (
    series.environment +
    separator +
    series.service +
    separator +
    series.operation +
    separator +
    series.spanKind +
    separator +
    (series.destination === null ? "\u0000" : `=${series.destination}`) +
    separator +
    (series.version === null ? "\u0000" : `=${series.version}`)
  );
}
