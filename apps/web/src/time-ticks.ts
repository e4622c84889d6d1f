const minute = 60_000;
const tickSteps = [
  minute,
  2 * minute,
  5 * minute,
  10 * minute,
  15 * minute,
  30 * minute,
  60 * minute,
  2 * 60 * minute,
  3 * 60 * minute,
  6 * 60 * minute,
  12 * 60 * minute,
  24 * 60 * minute,
];

/**
 * Round time ticks for an axis from `fromMs` to `toMs`: the smallest step of 1, 2, 5, 10, 15, 30 min,
 * 1, 2, 3, 6, 12 h or 1 d that gives at most `maxTicks`, on multiples of that step (local-time
 * minutes and hours, UTC days).
 */
export function timeTicks(fromMs: number, toMs: number, maxTicks = 8): number[] {
  if (!(toMs > fromMs)) return [];
  const step =
    tickSteps.find((candidate) => (toMs - fromMs) / candidate <= maxTicks) ?? tickSteps.at(-1) ?? minute;
  const offset = new Date(fromMs).getTimezoneOffset() * minute;
  const first = Math.ceil((fromMs - offset) / step) * step + offset;
  const ticks: number[] = [];
  for (let tick = first; tick <= toMs; tick += step) ticks.push(tick);
  return ticks;
}
