import {
  type ChangeOutcome,
  type Database,
  type NewChangeEvent,
  recordChangeEvent,
  updateChangeEvent,
} from "@faultline/db";

/** What a CI/CD notification means for the change record. */
export type WebhookChange =
  /** Not a change Faultline tracks (another event, action or state): answered 2xx, nothing stored. */
  | { type: "ignore"; reason: string }
  /**
   * A change started or finished. `event` is the whole change as known from this notification;
   * `finish` is set when the notification says the change ended.
   */
  | { type: "change"; event: NewChangeEvent; finish: { finishedAt: Date; outcome: ChangeOutcome } | null };

/**
 * Stores a webhook's change on the one change-event model. The first notification of a change creates
 * it (finished already if that notification is the final one); later ones find it by its idempotency
 * key and mark it finished, first finish winning, so redeliveries and retries change nothing.
 */
export async function applyWebhookChange(
  db: Database,
  change: Extract<WebhookChange, { type: "change" }>,
): Promise<{ id: string }> {
  const finish = change.finish;
  const event: NewChangeEvent = finish
    ? { ...change.event, finishedAt: finish.finishedAt, outcome: finish.outcome }
    : change.event;
  const recorded = await recordChangeEvent(db, event);
  if (recorded.created || finish === null) return { id: recorded.id };
  await updateChangeEvent(
    db,
    { idempotencyKey: event.idempotencyKey },
    // A status can arrive before the deployment it belongs to (GitHub does not order deliveries), so
    // a finish may also be the first time we see the start; never move the start later though.
    // The final status usually links the finished environment or run; keep the earlier link otherwise.
    { finishedAt: finish.finishedAt, outcome: finish.outcome, ...(event.url ? { url: event.url } : {}) },
    { onlyIfUnfinished: true },
  );
  return { id: recorded.id };
}
