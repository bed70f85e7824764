/**
 * LMG (Lindeman–Merenda–Gold) decomposition of R²: each factor's Shapley value in the game whose worth of a coalition
 * is the R² of the target on it. The shares add up to the full model's R² and do not depend on the order the
 * factors are listed in. A factor may be a group of columns (the dummies of a seasonality), so the cost is
 * 2^p regressions on p factors — from moments, so p ≈ 12 (4096 small solves) stays well under a second.
 */

export const MAX_SHAPLEY_FACTORS = 12

/** `r2(mask)` gives the R² of the coalition whose factors are the set bits of `mask`. */
export function shapleyValues(p: number, r2: (mask: number) => number): number[] {
  if (p > 20) throw new Error('too many factors for an exact Shapley decomposition')
  const size = 1 << p
  const worth = new Float64Array(size)
  for (let mask = 1; mask < size; mask++) worth[mask] = r2(mask)
  // weight(s) = s! (p − s − 1)! / p!
  const fact = [1]
  for (let i = 1; i <= p; i++) fact[i] = fact[i - 1] * i
  const weight = Array.from({ length: p }, (_, s) => (fact[s] * fact[p - s - 1]) / fact[p])
  const out = new Array<number>(p).fill(0)
  for (let mask = 0; mask < size; mask++) {
    const s = popcount(mask)
    for (let j = 0; j < p; j++) {
      const bit = 1 << j
      if (mask & bit) continue
      out[j] += weight[s] * (worth[mask | bit] - worth[mask])
    }
  }
  return out
}

function popcount(x: number) {
  let c = 0
  while (x) {
    x &= x - 1
    c++
  }
  return c
}
