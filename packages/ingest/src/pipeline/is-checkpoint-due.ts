/**
 * Whether the periodic timer should start a checkpoint now. A checkpoint writes each open (series,
 * bucket) once however many requests added to it, so under a load the database cannot write every
 * interval, checkpoints that follow each other back to back write the same rows again and again. After
 * a long checkpoint the next waits twice its duration: the database then spends at most about a third
 * of the time on them and each writes more requests per row. Readers (`flushAcknowledged`) do not wait
 * for this, and a quarter of the uncheckpointed-span bound always starts one.
 */
export function isCheckpointDue(state: {
  nowMs: number;
  lastEndedAtMs: number;
  lastDurationMs: number;
  uncheckpointedSpans: number;
  maxUncheckpointedSpans: number;
}): boolean {
  if (state.uncheckpointedSpans >= state.maxUncheckpointedSpans / 4) return true;
  return state.nowMs - state.lastEndedAtMs >= 2 * state.lastDurationMs;
}
