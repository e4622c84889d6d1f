import { describe, expect, it } from "vitest";
import { createTokenBucketLimiter } from "./token-bucket-rate-limiter.ts";

describe("createTokenBucketLimiter", () => {
  it("allows a burst, then one request per refill interval, with an honest Retry-After", () => {
    let now = 0;
    const limiter = createTokenBucketLimiter({ ratePerSecond: 0.5, burst: 2, clock: () => now });
    expect(limiter.take("a")).toEqual({ allowed: true });
    expect(limiter.take("a")).toEqual({ allowed: true });
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 2 });
    now += 1000;
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1000;
    expect(limiter.take("a")).toEqual({ allowed: true });
    expect(limiter.take("b")).toEqual({ allowed: true });
  });

  it("bounds the keys it remembers, forgetting the least recently used", () => {
    const limiter = createTokenBucketLimiter({ ratePerSecond: 1, burst: 1, clock: () => 0, maxKeys: 2 });
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("b").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    limiter.take("c");
    // "b" was least recently used and is forgotten: it starts again with a full bucket.
    expect(limiter.take("b").allowed).toBe(true);
    expect(limiter.take("c").allowed).toBe(false);
  });
});
