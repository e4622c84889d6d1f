import { describe, expect, it } from "vitest";
import { type JoinableSpan, SpanJoinIndex, type WaitingSpan } from "./span-join-index.ts";
import { seededRandom } from "./test-support/seeded-random.ts";

const client: JoinableSpan = {
  environment: "production",
  service: "web-gateway",
  kind: "client",
  endMs: 1000,
  destination: null,
  error: false,
};

function remember(index: SpanJoinIndex, id: string, span: JoinableSpan): number {
  return index.remember(
    id,
    span.environment,
    span.service,
    span.kind,
    span.endMs,
    span.destination,
    span.error,
  );
}

function child(service: string): WaitingSpan {
  return {
    edge: "call",
    environment: "production",
    service,
    startMs: 10,
    bucketStartMs: 0,
    error: false,
    destination: null,
    countPending: false,
  };
}

describe("SpanJoinIndex", () => {
  it("remembers spans up to its bound, evicting the oldest first", () => {
    const index = new SpanJoinIndex({ maxSpans: 3 });
    for (const id of ["a", "b", "c", "d"]) remember(index, id, client);
    expect(index.spanCount).toBe(3);
    expect(index.evictedSpans).toBe(1);
    expect(index.find("a")).toBeUndefined();
    expect(index.slotOf("a")).toBe(-1);
    expect(index.find("d")).toEqual(client);
    // A repeated id is remembered anew (fresh age, latest data) in the next slot, here b's.
    const again = { ...client, service: "again", kind: "producer" as const, error: true, destination: "q" };
    remember(index, "c", again);
    expect(index.find("b")).toBeUndefined();
    expect(index.find("c")).toEqual(again);
    expect(index.spanCount).toBe(2);
    // The ring then reaches c's old slot: the newer entry for c stays.
    remember(index, "e", client);
    expect(index.find("c")).toEqual(again);
    expect(index.find("e")).toEqual(client);
    expect(index.spanCount).toBe(3);
    expect(index.evictedSpans).toBe(3);
  });

  it("hands waiting children over once, in arrival order, and bounds them", () => {
    const index = new SpanJoinIndex({ maxWaiting: 3 });
    index.wait("p1", child("a"));
    index.wait("p1", child("b"));
    index.wait("p2", child("c"));
    expect(index.waitingCount).toBe(3);
    index.wait("p3", child("d"));
    // p1's two children were the oldest group: both go.
    expect(index.evictedWaiting).toBe(2);
    expect(index.waitingCount).toBe(2);
    expect(index.takeWaiting("p1")).toBeUndefined();
    expect(index.takeWaiting("p2")).toEqual(child("c"));
    expect(index.takeWaiting("p2")).toBeUndefined();
    expect(index.waitingCount).toBe(1);
  });

  it("groups several children of one parent", () => {
    const index = new SpanJoinIndex();
    index.wait("p", child("a"));
    index.wait("p", child("b"));
    const taken = index.takeWaiting("p");
    expect(Array.isArray(taken) ? taken.map((c) => c.service) : taken).toEqual(["a", "b"]);
  });

  it("agrees with a plain ring + Map model under random ids, repeats and evictions (seeded property test)", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = seededRandom(seed);
      const capacity = 1 + random.int(60);
      const index = new SpanJoinIndex({ maxSpans: capacity });
      const ring: Array<string | undefined> = new Array(capacity).fill(undefined);
      const model = new Map<string, number>();
      let cursor = 0;
      const seen: string[] = [];
      const freshId = (): string => {
        const style = random.int(4);
        if (style === 0) return (seen.length + 1).toString(16).padStart(16, "0"); // sequential
        if (style === 1) return `not-hex-${random.int(1000)}`; // broken input, hashed
        return random.hex16();
      };
      for (let step = 0; step < 3000; step++) {
        const id = seen.length > 0 && random.next() < 0.2 ? (seen[random.int(seen.length)] ?? "") : freshId();
        seen.push(id);
        const slot = index.remember(id, "production", `svc-${step}`, "client", step, null, false);
        if (slot !== cursor) expect(slot).toBe(cursor);
        const evicted = ring[cursor];
        if (evicted !== undefined && model.get(evicted) === cursor) model.delete(evicted);
        ring[cursor] = id;
        model.set(id, cursor);
        cursor = (cursor + 1) % capacity;
        if (step % 50 === 0 || step > 2950) {
          // One assertion per checkpoint: thousands of expect calls would dominate the run time.
          const mismatches = seen.filter((probe) => index.slotOf(probe) !== (model.get(probe) ?? -1));
          expect(mismatches).toEqual([]);
          expect(index.spanCount).toBe(model.size);
        }
      }
      for (const [id, slot] of model) expect(index.serviceAt(index.slotOf(id))).toBe(index.serviceAt(slot));
    }
  });

  it("rejects a capacity below 1", () => {
    expect(() => new SpanJoinIndex({ maxSpans: 0 })).toThrow(RangeError);
  });
});
