import { randomUUID } from "node:crypto";
import { and, asc, eq, gte, lt } from "drizzle-orm";
import type { Database } from "../create-db.ts";
import { type ChangeScope, changeEvents } from "../schema/index.ts";

export type ChangeEventRow = typeof changeEvents.$inferSelect;
export type NewChangeEvent = Omit<typeof changeEvents.$inferInsert, "id" | "createdAt" | "updatedAt"> & {
  scope?: ChangeScope | null;
};

/**
 * Stores a change event once per idempotency key. A repeat of the same key returns the id of the
 * first submission and changes nothing, so a CI system retrying its request creates no duplicate.
 */
export async function recordChangeEvent(
  db: Database,
  event: NewChangeEvent,
): Promise<{ id: string; created: boolean }> {
  const inserted = await db
    .insert(changeEvents)
    .values({ ...event, id: `chg_${randomUUID()}` })
    .onConflictDoNothing({ target: changeEvents.idempotencyKey })
    .returning({ id: changeEvents.id });
  const first = inserted[0];
  if (first) return { id: first.id, created: true };
  const existing = await db
    .select({ id: changeEvents.id })
    .from(changeEvents)
    .where(eq(changeEvents.idempotencyKey, event.idempotencyKey))
    .limit(1);
  const found = existing[0];
  if (!found) throw new Error("change event vanished between insert and read");
  return { id: found.id, created: false };
}

/** Change events that started in [from, to), oldest first, optionally for one service. */
export async function listChangeEvents(
  db: Database,
  query: { environment: string; from: Date; to: Date; service?: string },
): Promise<ChangeEventRow[]> {
  return db
    .select()
    .from(changeEvents)
    .where(
      and(
        eq(changeEvents.environment, query.environment),
        gte(changeEvents.startedAt, query.from),
        lt(changeEvents.startedAt, query.to),
        query.service === undefined ? undefined : eq(changeEvents.service, query.service),
      ),
    )
    .orderBy(asc(changeEvents.startedAt));
}

/** Change events of every environment that started at or after `fromMs` (attribution candidates). */
export async function listChangeEventsSince(db: Database, fromMs: number): Promise<ChangeEventRow[]> {
  return db
    .select()
    .from(changeEvents)
    .where(gte(changeEvents.startedAt, new Date(fromMs)))
    .orderBy(asc(changeEvents.startedAt));
}
