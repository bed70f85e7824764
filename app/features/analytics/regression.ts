import { dot, matMul, quadForm, sub, sweep, type Matrix } from './linalg.ts'
import { tQuantile, tTwoSidedP } from './stats.ts'

/**
 * Linear regression from sufficient statistics: the count, the means and the centred cross-products of the
 * columns (Postgres computes them in one pass over any number of rows with avg() and covar_pop()). OLS gives
 * exactly what statsmodels' OLS gives on the same rows; ridge follows scikit-learn's `Ridge(alpha)` (intercept not
 * penalised), with approximate (sandwich) standard errors.
 */

export interface MomentSet {
  /** Column names, in the order of `means` and `cross`. */
  names: string[]
  n: number
  means: number[]
  /** Σ (xᵢ − x̄ᵢ)(xⱼ − x̄ⱼ) over the rows. */
  cross: Matrix
  /** Smallest and largest value of each column, when known. */
  min?: number[]
  max?: number[]
}

export interface LinearFit {
  kind: 'ols' | 'ridge'
  alpha: number
  target: string
  features: string[]
  n: number
  intercept: number
  coefficients: number[]
  interceptSe: number
  stdErrors: number[]
  tValues: number[]
  pValues: number[]
  interceptT: number
  interceptP: number
  /** Residual degrees of freedom (n − 1 − effective number of slopes). */
  df: number
  sigma2: number
  r2: number
  adjR2: number
  xMeans: number[]
  yMean: number
  /** Covariance of the slope estimates. */
  covBeta: Matrix
}

export class AliasedFeatures extends Error {
  constructor(readonly features: string[]) {
    super(`collinear or constant: ${features.join(', ')}`)
  }
}

/** Moments of the named columns only (a sub-view; no new pass over the data). */
export function pick(m: MomentSet, names: readonly string[]): MomentSet {
  const idx = names.map((n) => {
    const i = m.names.indexOf(n)
    if (i < 0) throw new Error(`no moments for ${n}`)
    return i
  })
  return { names: [...names], n: m.n, means: idx.map((i) => m.means[i]), cross: sub(m.cross, idx), min: m.min && idx.map((i) => m.min![i]), max: m.max && idx.map((i) => m.max![i]) }
}

export function fitLinear(m: MomentSet, features: readonly string[], target: string, opts: { alpha?: number } = {}): LinearFit {
  const alpha = opts.alpha ?? 0
  const fi = features.map((f) => m.names.indexOf(f))
  const yi = m.names.indexOf(target)
  if (fi.some((i) => i < 0) || yi < 0) throw new Error('fitLinear: unknown column')
  const k = features.length
  const n = m.n
  const sxx = sub(m.cross, fi)
  const sxy = fi.map((i) => m.cross[i][yi])
  const syy = m.cross[yi][yi]
  const xMeans = fi.map((i) => m.means[i])
  const yMean = m.means[yi]
  let beta: number[]
  let sse: number
  let ainv: Matrix
  let effective: number
  if (alpha === 0) {
    // Sweep [[Sxx, Sxy], [Syx, Syy]] on the features: β, Sxx⁻¹ and the SSE in one pass.
    const full = [...sxx.map((r, i) => [...r, sxy[i]]), [...sxy, syy]]
    const s = sweep(full, fi.map((_, i) => i))
    if (s.aliased.length) throw new AliasedFeatures(s.aliased.map((i) => features[i]))
    beta = fi.map((_, i) => s.m[i][k])
    sse = Math.max(s.m[k][k], 0)
    ainv = fi.map((_, i) => fi.map((_, j) => -s.m[i][j]))
    effective = k
  } else {
    const a = sxx.map((r, i) => r.map((v, j) => (i === j ? v + alpha : v)))
    const s = sweep(a, fi.map((_, i) => i), 1e-14)
    if (s.aliased.length) throw new AliasedFeatures(s.aliased.map((i) => features[i]))
    ainv = s.m.map((r) => r.map((v) => -v))
    beta = ainv.map((r) => dot(r, sxy))
    sse = Math.max(syy - 2 * dot(beta, sxy) + quadForm(sxx, beta), 0)
    // Effective number of parameters: tr(Sxx (Sxx + αI)⁻¹).
    const h = matMul(sxx, ainv)
    effective = h.reduce((t, r, i) => t + r[i], 0)
  }
  const df = n - 1 - effective
  const sigma2 = df > 0 ? sse / df : NaN
  const covBeta = alpha === 0 ? ainv.map((r) => r.map((v) => v * sigma2)) : matMul(matMul(ainv, sxx), ainv).map((r) => r.map((v) => v * sigma2))
  const stdErrors = covBeta.map((r, i) => Math.sqrt(r[i]))
  const tValues = beta.map((b, i) => b / stdErrors[i])
  const intercept = yMean - dot(beta, xMeans)
  const interceptSe = Math.sqrt(sigma2 / n + quadForm(covBeta, xMeans))
  const interceptT = intercept / interceptSe
  const r2 = syy > 0 ? 1 - sse / syy : NaN
  return {
    kind: alpha === 0 ? 'ols' : 'ridge',
    alpha,
    target,
    features: [...features],
    n,
    intercept,
    coefficients: beta,
    interceptSe,
    stdErrors,
    tValues,
    pValues: tValues.map((t) => tTwoSidedP(t, df)),
    interceptT,
    interceptP: tTwoSidedP(interceptT, df),
    df,
    sigma2,
    r2,
    adjR2: df > 0 ? 1 - (1 - r2) * ((n - 1) / df) : NaN,
    xMeans,
    yMean,
    covBeta,
  }
}

export function predict(fit: Pick<LinearFit, 'intercept' | 'coefficients'>, x: readonly number[]) {
  return fit.intercept + dot(fit.coefficients, x)
}

export interface PredictionInterval {
  value: number
  /** Standard error of the fitted mean at x, and of a new observation there. */
  seMean: number
  seObs: number
  lower: number
  upper: number
}

/**
 * The prediction at x with the interval a new observation falls in with probability `level`:
 * ŷ ± t(1 − (1 − level)/2, df) · √(σ² + Var(ŷ)), Var(ŷ) = σ²/n + (x − x̄)' Cov(β) (x − x̄) — statsmodels' obs_ci.
 */
export function predictInterval(fit: LinearFit, x: readonly number[], level: number): PredictionInterval {
  const value = predict(fit, x)
  const d = x.map((v, i) => v - fit.xMeans[i])
  const varMean = fit.sigma2 / fit.n + quadForm(fit.covBeta, d)
  const seObs = Math.sqrt(fit.sigma2 + varMean)
  const t = tQuantile(1 - (1 - level) / 2, fit.df)
  return { value, seMean: Math.sqrt(varMean), seObs, lower: value - t * seObs, upper: value + t * seObs }
}

/** R² of the target on each subset of predictor columns, straight from the moments (for LMG / Shapley). */
export function r2OfSubset(m: MomentSet, columns: readonly number[], target: number): number {
  const idx = [...columns, target]
  const s = sweep(sub(m.cross, idx), columns.map((_, i) => i))
  const syy = m.cross[target][target]
  return syy > 0 ? Math.min(Math.max(1 - s.m[columns.length][columns.length] / syy, 0), 1) : 0
}

/** Moments of in-memory columns (two passes), the same quantities the SQL computes. */
export function momentsOfColumns(names: string[], columns: ArrayLike<number>[]): MomentSet {
  const n = columns[0]?.length ?? 0
  const means = columns.map((c) => {
    let s = 0
    for (let i = 0; i < n; i++) s += c[i]
    return s / n
  })
  const cross = columns.map(() => new Array<number>(columns.length).fill(0))
  for (let a = 0; a < columns.length; a++) {
    for (let b = a; b < columns.length; b++) {
      let s = 0
      for (let i = 0; i < n; i++) s += (columns[a][i] - means[a]) * (columns[b][i] - means[b])
      cross[a][b] = cross[b][a] = s
    }
  }
  return { names, n, means, cross }
}
