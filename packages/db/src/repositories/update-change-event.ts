import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../create-db.ts";
import { type ChangeOutcome, type ChangeScope, changeEvents } from "../schema/index.ts";

/** Which change event to update: by its id, or by the idempotency key it was recorded under. */
export type ChangeEventTarget = { id: string } | { idempotencyKey: string };

/** Fields a later report may fill in or correct on an existing change event. Absent = unchanged. */
export interface ChangeEventPatch {
  finishedAt?: Date | null;
  outcome?: ChangeOutcome | null;
  previousVersion?: string | null;
  scope?: ChangeScope | null;
  url?: string | null;
}

/**
 * Updates one change event, e.g. to mark a started deploy finished when the CI/CD system reports its
 * outcome, or to record the progress of a rollout seen in telemetry.
 *
 * With `onlyIfUnfinished`, the update applies only while the event has no `finishedAt`: the first
 * finish reported wins, so a redelivered or out-of-order webhook cannot overwrite the outcome.
 *
 * @returns the id and whether a row changed; null when no event matches the target.
 */
export async function updateChangeEvent(
  db: Database,
  target: ChangeEventTarget,
  patch: ChangeEventPatch,
  options: { onlyIfUnfinished?: boolean } = {},
): Promise<{ id: string; updated: boolean } | null> {
  const match =
    "id" in target ? eq(changeEvents.id, target.id) : eq(changeEvents.idempotencyKey, target.idempotencyKey);
  const set: Partial<typeof changeEvents.$inferInsert> = {};
  if (patch.finishedAt !== undefined) set.finishedAt = patch.finishedAt;
  if (patch.outcome !== undefined) set.outcome = patch.outcome;
  if (patch.previousVersion !== undefined) set.previousVersion = patch.previousVersion;
  if (patch.scope !== undefined) set.scope = patch.scope;
  if (patch.url !== undefined) set.url = patch.url;
  if (Object.keys(set).length > 0) {
    const updated = await db
      .update(changeEvents)
      .set({ ...set, updatedAt: sql`now()` })
      .where(options.onlyIfUnfinished ? and(match, isNull(changeEvents.finishedAt)) : match)
      .returning({ id: changeEvents.id });
    const first = updated[0];
    if (first) return { id: first.id, updated: true };
  }
  const existing = await db.select({ id: changeEvents.id }).from(changeEvents).where(match).limit(1);
  const found = existing[0];
  return found ? { id: found.id, updated: false } : null;
}
