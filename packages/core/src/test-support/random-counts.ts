import type { SeededRandom } from "./seeded-random.ts";

// Seeded count generators for synthetic traffic in detection tests.

/** Poisson by inversion, in pieces of ≤ 400 so e^-λ never underflows. */
export function poisson(random: SeededRandom, mean: number): number {
  let total = 0;
  let left = mean;
  while (left > 0) {
    const lambda = Math.min(400, left);
    left -= lambda;
    let k = 0;
    let p = Math.exp(-lambda);
    let cumulative = p;
    const u = random.next();
    while (u > cumulative && k < 10 * lambda + 50) {
      k += 1;
      p *= lambda / k;
      cumulative += p;
    }
    total += k;
  }
  return total;
}

/** Binomial by inversion (exact; fine while n·p stays in the hundreds). */
export function binomial(random: SeededRandom, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  if (n * p > 300)
    return Math.max(0, Math.min(n, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * random.normal())));
  let k = 0;
  let pmf = (1 - p) ** n;
  let cumulative = pmf;
  const u = random.next();
  const odds = p / (1 - p);
  while (u > cumulative && k < n) {
    pmf *= ((n - k) / (k + 1)) * odds;
    k += 1;
    cumulative += pmf;
  }
  return k;
}
