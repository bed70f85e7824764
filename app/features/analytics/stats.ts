import jStat from 'jstat'

/**
 * Descriptive and inferential statistics used by the analytics endpoints and by their tests. Definitions follow
 * pandas / SciPy so the numbers can be checked against them: sample (n−1) variance, linear-interpolation
 * quantiles (pandas' default, Postgres' percentile_cont), bias-corrected skewness (G1) and excess kurtosis (G2),
 * two-sided p-values from the t and F distributions (through the regularised incomplete beta, exact in the tails).
 */

export function mean(xs: ArrayLike<number>) {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]
  return s / xs.length
}

export function variance(xs: ArrayLike<number>) {
  const m = mean(xs)
  let s = 0
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2
  return s / (xs.length - 1)
}

/** Linear interpolation between the closest ranks (type 7) of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, p: number) {
  const pos = p * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

export interface Moments {
  n: number
  mean: number
  /** Central moments Σ(x−mean)^k / n for k = 2, 3, 4. */
  m2: number
  m3: number
  m4: number
}

/**
 * Central moments from the power sums of (x − shift): Σd, Σd², Σd³, Σd⁴. A shift near the mean (e.g. the column's
 * overall mean) keeps the sums well conditioned, so Postgres can compute them in one pass per group.
 */
export function momentsFromPowerSums(n: number, shift: number, s1: number, s2: number, s3: number, s4: number): Moments {
  const d = s1 / n
  const e2 = s2 / n
  const e3 = s3 / n
  const e4 = s4 / n
  return {
    n,
    mean: shift + d,
    m2: Math.max(e2 - d * d, 0),
    m3: e3 - 3 * d * e2 + 2 * d ** 3,
    m4: e4 - 4 * d * e3 + 6 * d * d * e2 - 3 * d ** 4,
  }
}

export function momentsOf(xs: ArrayLike<number>): Moments {
  const m = mean(xs)
  let m2 = 0
  let m3 = 0
  let m4 = 0
  for (let i = 0; i < xs.length; i++) {
    const d = xs[i] - m
    m2 += d * d
    m3 += d ** 3
    m4 += d ** 4
  }
  const n = xs.length
  return { n, mean: m, m2: m2 / n, m3: m3 / n, m4: m4 / n }
}

/** Adjusted Fisher–Pearson skewness G1 (pandas `skew`); null below 3 values or without spread. */
export function skewness(m: Moments): number | null {
  const { n, m2, m3 } = m
  if (n < 3 || !(m2 > 0)) return null
  return (Math.sqrt(n * (n - 1)) / (n - 2)) * (m3 / m2 ** 1.5)
}

/** Bias-corrected excess kurtosis G2 (pandas `kurt`); null below 4 values or without spread. */
export function kurtosis(m: Moments): number | null {
  const { n, m2, m4 } = m
  if (n < 4 || !(m2 > 0)) return null
  const g2 = m4 / (m2 * m2) - 3
  return ((n - 1) / ((n - 2) * (n - 3))) * ((n + 1) * g2 + 6)
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = mean(x)
  const my = mean(y)
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx
    const dy = y[i] - my
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  return sxy / Math.sqrt(sxx * syy)
}

/** Ranks from 1, ties given their average rank (as SciPy's rankdata and Spearman's ρ use). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b])
  const r = new Float64Array(x.length)
  for (let i = 0; i < idx.length; ) {
    let j = i
    while (j + 1 < idx.length && x[idx[j + 1]] === x[idx[i]]) j++
    const avg = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) r[idx[k]] = avg
    i = j + 1
  }
  return r
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>) {
  return pearson(averageRanks(x), averageRanks(y))
}

/**
 * The regularised incomplete beta I_x(a, b), by Lentz's continued fraction to full double precision. jstat's own
 * stops at a 3e-7 step and after 100 terms, too few for the large a, b of millions of rows (it needs ~√max(a, b)).
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(jStat.gammaln(a + b) - jStat.gammaln(a) - jStat.gammaln(b) + a * Math.log(x) + b * Math.log1p(-x))
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a
  return 1 - (front * betaFraction(1 - x, b, a)) / b
}

function betaFraction(x: number, a: number, b: number) {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-16) break
  }
  return h
}

/** Two-sided P(|T| ≥ |t|) for T ~ t(df). */
export function tTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0
  if (df <= 0) return NaN
  return Math.min(1, incompleteBeta(df / (df + t * t), df / 2, 0.5))
}

/** P(F ≥ f) for F ~ F(d1, d2). */
export function fUpperP(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 1
  if (!Number.isFinite(f)) return 0
  return Math.min(1, incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2))
}

/** The t distribution's quantile (e.g. 0.975 for a 95 % two-sided interval). */
export function tQuantile(p: number, df: number): number {
  // jstat's inverse is good to ~1e-8; two Newton steps on the exact CDF make it exact to double precision.
  let x = jStat.studentt.inv(p, df)
  for (let i = 0; i < 2 && Number.isFinite(x); i++) {
    const pdf = jStat.studentt.pdf(x, df)
    if (!(pdf > 0)) break
    x -= (tCdf(x, df) - p) / pdf
  }
  return x
}

/** P(T ≤ t) for T ~ t(df), through the incomplete beta (no cancellation in the tails). */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5)
  return t > 0 ? 1 - tail : tail
}

export function normalQuantile(p: number): number {
  return jStat.normal.inv(p, 0, 1)
}

/** The two-sided p-value of a correlation r over n pairs (the t test SciPy's pearsonr and spearmanr use). */
export function correlationP(r: number, n: number): number {
  if (n < 3 || !Number.isFinite(r)) return NaN
  if (Math.abs(r) >= 1) return 0
  const df = n - 2
  return tTwoSidedP(r * Math.sqrt(df / (1 - r * r)), df)
}

/** Benjamini–Hochberg adjusted p-values (statsmodels `multipletests(method='fdr_bh')`), in the input's order. */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  const order = ps.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((a, b) => a[0] - b[0])
  const m = order.length
  const out = new Array<number>(ps.length).fill(NaN)
  let running = 1
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = order[k]
    running = Math.min(running, (p * m) / (k + 1))
    out[i] = Math.min(running, 1)
  }
  return out
}

/** A deterministic PRNG (mulberry32) for seeded samples and restarts. */
export function seededRandom(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
