/**
 * A small seeded PRNG (a 32-bit xorshift-multiply generator) for deterministic property tests and
 * benchmarks: the same seed gives the same sequence on every run and machine.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Lognormal with the given median and log-space standard deviation. */
  lognormal(median: number, sigma: number): number;
  /** 16 lower-case hex characters. */
  hex16(): string;
}

export function seededRandom(seed: number): SeededRandom {
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const nextU32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  const next = (): number => nextU32() / 4294967296;
  const normal = (): number => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal,
    lognormal: (median, sigma) => median * Math.exp(sigma * normal()),
    hex16: () => nextU32().toString(16).padStart(8, "0") + nextU32().toString(16).padStart(8, "0"),
  };
}
