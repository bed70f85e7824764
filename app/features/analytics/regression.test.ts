import { describe, expect, it } from 'vitest'
import { olsRows } from '#tests/support/ols.ts'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'
import { AliasedFeatures, fitLinear, momentsOfColumns, predictInterval, r2OfSubset } from './regression.ts'
import { seededRandom, tQuantile } from './stats.ts'

const rand = seededRandom(11)
const n = 200
const x1 = Array.from({ length: n }, () => rand() * 100)
const x2 = Array.from({ length: n }, () => rand() * 10 + 1000)
const y = x1.map((v, i) => 50 + 2.5 * v - 4 * (x2[i] - 1000) + (rand() - 0.5) * 30)
const m = momentsOfColumns(['x1', 'x2', 'y'], [x1, x2, y])

describe('OLS from moments', () => {
  it('gives the coefficients, standard errors and intervals of OLS on the rows', () => {
    const fit = fitLinear(m, ['x1', 'x2'], 'y')
    const ref = olsRows([x1, x2], y)
    expect(fit.intercept).toBeCloseTo(ref.beta[0], 6)
    fit.coefficients.forEach((b, i) => expect(b).toBeCloseTo(ref.beta[i + 1], 9))
    expect(fit.interceptSe / ref.se[0]).toBeCloseTo(1, 8)
    fit.stdErrors.forEach((s, i) => expect(s / ref.se[i + 1]).toBeCloseTo(1, 8))
    expect(fit.df).toBe(ref.df)
    // interval for a new observation at x0: ŷ ± t·√(s²(1 + x0ᵀ(XᵀX)⁻¹x0))
    const x0 = [1, 30, 1004]
    const h = x0.reduce((s, a, i) => s + a * x0.reduce((t, b, j) => t + ref.inv[i][j] * b, 0), 0)
    const yhat = x0.reduce((s, v, i) => s + v * ref.beta[i], 0)
    const half = tQuantile(0.975, ref.df) * Math.sqrt(ref.s2 * (1 + h))
    const pi = predictInterval(fit, [30, 1004], 0.95)
    expect(pi.value).toBeCloseTo(yhat, 6)
    expect(pi.upper - pi.value).toBeCloseTo(half, 6)
  })

  it('names collinear and constant features', () => {
    const c = x1.map(() => 3)
    const dup = x1.map((v) => 2 * v + 1)
    const mm = momentsOfColumns(['x1', 'c', 'dup', 'y'], [x1, c, dup, y])
    expect(() => fitLinear(mm, ['x1', 'c'], 'y')).toThrow(AliasedFeatures)
    try {
      fitLinear(mm, ['x1', 'dup'], 'y')
    } catch (e) {
      expect((e as AliasedFeatures).features).toEqual(['dup'])
    }
  })

  it('R² of a subset equals the fit of that subset', () => {
    expect(r2OfSubset(m, [0, 1], 2)).toBeCloseTo(fitLinear(m, ['x1', 'x2'], 'y').r2, 12)
    expect(r2OfSubset(m, [0], 2)).toBeCloseTo(fitLinear(m, ['x1'], 'y').r2, 12)
  })

  it('matches statsmodels OLS and scikit-learn Ridge', () => {
    const why = pythonMissing(['statsmodels', 'sklearn'])
    if (why) return skipNote('OLS vs statsmodels', why)
    const py = runPython(
      `import json,sys
import numpy as np, statsmodels.api as sm
from sklearn.linear_model import Ridge
d=json.load(sys.stdin)
X=np.column_stack([d['x1'],d['x2']]); y=np.array(d['y'])
r=sm.OLS(y,sm.add_constant(X)).fit()
f=r.get_prediction(np.array([[1,30,1004],[1,90,1009]])).summary_frame(alpha=0.1)
rg=Ridge(alpha=25.0).fit(X,y)
print(json.dumps({'params':list(r.params),'bse':list(r.bse),'p':list(r.pvalues),'r2':r.rsquared,'adj':r.rsquared_adj,
 'mean':list(f['mean']),'lo':list(f['obs_ci_lower']),'hi':list(f['obs_ci_upper']),'ridge':[rg.intercept_]+list(rg.coef_)}))`,
      { x1, x2, y },
    )
    const fit = fitLinear(m, ['x1', 'x2'], 'y')
    expect(fit.intercept / py.params[0]).toBeCloseTo(1, 8)
    fit.coefficients.forEach((b, i) => expect(b / py.params[i + 1]).toBeCloseTo(1, 9))
    fit.stdErrors.forEach((s, i) => expect(s / py.bse[i + 1]).toBeCloseTo(1, 8))
    fit.pValues.forEach((p, i) => expect(p / py.p[i + 1]).toBeCloseTo(1, 6))
    expect(fit.r2).toBeCloseTo(py.r2, 10)
    expect(fit.adjR2).toBeCloseTo(py.adj, 10)
    ;[[30, 1004], [90, 1009]].forEach((x, i) => {
      const pi = predictInterval(fit, x, 0.9)
      expect(pi.value).toBeCloseTo(py.mean[i], 6)
      expect(pi.lower).toBeCloseTo(py.lo[i], 6)
      expect(pi.upper).toBeCloseTo(py.hi[i], 6)
    })
    const ridge = fitLinear(m, ['x1', 'x2'], 'y', { alpha: 25 })
    expect(ridge.intercept).toBeCloseTo(py.ridge[0], 6)
    ridge.coefficients.forEach((b, i) => expect(b).toBeCloseTo(py.ridge[i + 1], 9))
  }, ORACLE_TIMEOUT)
})
