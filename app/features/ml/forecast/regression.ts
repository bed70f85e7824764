import { etsName, fitAutoEts, forecastEts, refilterEts, type EtsFit, type Forecast, type RegressorEffect } from './models.ts'

/*
  The cheap regression candidate (decision 064): ordinary least squares of the target on an intercept and the numeric
  regressors, then ETS (by AICc, as the univariate candidate) on the residuals, which carry the trend and season the
  regressors do not explain. Forecast: intercept + Σ β·x(future) + the residuals' ETS forecast; the interval is the ETS
  one (the coefficients' own uncertainty is left out: with tens of periods per coefficient it is small beside σ).
*/

export interface RegressionFit {
  kind: 'regression'
  /** intercept, then one coefficient per regressor */
  coef: number[]
  ets: EtsFit
  label: string
}

/** OLS coefficients [intercept, β_1 … β_k] by the normal equations (Gauss-Jordan, partial pivoting); null when singular. */
export function ols(y: number[], exog: number[][]): number[] | null {
  const k = exog.length + 1
  const n = y.length
  if (n <= k) return null
  const row = (t: number) => [1, ...exog.map((c) => c[t])]
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0))
  for (let t = 0; t < n; t++) {
    const r = row(t)
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) a[i][j] += r[i] * r[j]
      a[i][k] += r[i] * y[t]
    }
  }
  for (let c = 0; c < k; c++) {
    let p = c
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r
    const scale = Math.max(...a.map((r) => Math.abs(r[c])))
    if (!(Math.abs(a[p][c]) > 1e-10 * (scale || 1))) return null
    ;[a[c], a[p]] = [a[p], a[c]]
    for (let r = 0; r < k; r++) {
      if (r === c) continue
      const f = a[r][c] / a[c][c]
      for (let j = c; j <= k; j++) a[r][j] -= f * a[c][j]
    }
  }
  const coef = a.map((r, i) => r[k] / r[i])
  return coef.every(Number.isFinite) ? coef : null
}

const residuals = (y: number[], exog: number[][], coef: number[]) => y.map((v, t) => v - coef[0] - exog.reduce((s, c, j) => s + coef[j + 1] * c[t], 0))

function withEffect(fit: RegressionFit, exog: number[][], ets: EtsFit, steps: number): { forecast: Forecast; effect: RegressorEffect } {
  const f = forecastEts(ets, steps)
  const ref = exog.map((c) => c[c.length - 1])
  const beta = fit.coef.slice(1)
  const at = fit.coef[0] + beta.reduce((s, b, j) => s + b * ref[j], 0)
  return { forecast: { mean: f.mean.map((v) => v + at), sd: f.sd }, effect: { ref, beta } }
}

export function fitRegression(y: number[], exog: number[][], m: number, steps: number): { fit: RegressionFit; forecast: Forecast; effect: RegressorEffect } | null {
  if (!exog.length || y.length < Math.max(8, exog.length + 4)) return null
  const coef = ols(y, exog)
  if (!coef) return null
  const ets = fitAutoEts(residuals(y, exog, coef), m)
  const fit: RegressionFit = { kind: 'regression', coef, ets, label: `Regression on ${exog.length} regressor${exog.length > 1 ? 's' : ''} + ${etsName(ets)} residuals` }
  return { fit, ...withEffect(fit, exog, ets, steps) }
}

/** The same coefficients and smoothing parameters on another history: the residuals' state at its end. */
export function forecastRegression(fit: RegressionFit, y: number[], exog: number[][], steps: number) {
  const ets = refilterEts(fit.ets, residuals(y, exog, fit.coef))
  return withEffect(fit, exog, ets, steps)
}
