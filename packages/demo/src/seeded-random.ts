/**
 * A small seeded pseudo-random source (mulberry32) with the distributions the simulator needs. The
 * demo and its tests must produce the same traffic for the same seed, so nothing here reads
 * `Math.random`.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number | string) {
    this.state = typeof seed === "number" ? seed >>> 0 : hashText(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly [T, ...T[]]): T {
    return items[this.int(items.length)] ?? items[0];
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), Number.EPSILON);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Poisson-distributed count; a normal approximation above 30 keeps large means cheap. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let count = 0;
    let product = this.next();
    while (product > limit) {
      count += 1;
      product *= this.next();
    }
    return count;
  }

  /** A lognormal duration with the given mean and standard deviation (ms), capped at 30× the mean. */
  duration(meanMs: number, sdMs: number): number {
    const sigma2 = Math.log(1 + (sdMs * sdMs) / (meanMs * meanMs));
    const mu = Math.log(meanMs) - sigma2 / 2;
    return Math.min(meanMs * 30, Math.exp(mu + Math.sqrt(sigma2) * this.normal()));
  }

  /** Hex string of `bytes` random bytes (never all zero, which OpenTelemetry treats as invalid). */
  hex(bytes: number): string {
    let text = "";
    for (let index = 0; index < bytes; index += 1) text += this.int(256).toString(16).padStart(2, "0");
    return /^0+$/.test(text) ? `${text.slice(0, -1)}1` : text;
  }
}

/** FNV-1a of a string, used to turn names and seeds into 32-bit seeds. */
export function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
