import { describe, expect, it } from 'vitest'
import { pythonMissing, runPython, skipReason } from '#tests/support/python.ts'
import { fitLinearRegression, fitLogistic, lbfgs, linearMargins, linearShap, standardised } from './linear.ts'
import { syntheticMatrix } from './synthetic.ts'

const ROWS = 800
const COLS = 5

function shapSum(s: ReturnType<typeof linearShap>, i: number, g: number) {
  let t = 0
  for (let j = 0; j < s.width; j++) t += s.values[(i * s.groups + g) * s.width + j]
  return t
}

describe('linear baselines', () => {
  it('L-BFGS finds the minimum of a convex quadratic', () => {
    const r = lbfgs((x, g) => {
      g[0] = 2 * (x[0] - 3)
      g[1] = 20 * (x[1] + 1)
      return (x[0] - 3) ** 2 + 10 * (x[1] + 1) ** 2
    }, new Float64Array(2))
    expect(r.converged).toBe(true)
    expect(r.x[0]).toBeCloseTo(3, 6)
    expect(r.x[1]).toBeCloseTo(-1, 6)
  })

  it('logistic regression: the gradient of its objective vanishes at the fit; linear SHAP is locally exact', () => {
    const { x, y } = syntheticMatrix({ rows: ROWS, cols: COLS, kind: 'binary', seed: 2, missing: 0.03 })
    const m = fitLogistic(x, y, ROWS, COLS, 2, { C: 1 })
    expect(m.converged).toBe(true)
    const z = standardised(m, x, ROWS, COLS)
    const margin = linearMargins(m, x, ROWS, COLS)
    const grad = new Float64Array(COLS + 1)
    for (let i = 0; i < ROWS; i++) {
      const r = 1 / (1 + Math.exp(-margin[i])) - y[i]
      for (let j = 0; j < COLS; j++) grad[j] += r * z[i * COLS + j]
      grad[COLS] += r
    }
    for (let j = 0; j < COLS; j++) grad[j] += m.coef[0][j] // C = 1: ∂(½‖w‖²)
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-3)
    const s = linearShap(m, x, ROWS, COLS)
    for (let i = 0; i < ROWS; i++) expect(shapSum(s, i, 0)).toBeCloseTo(margin[i], 10)
    // Missing values are imputed with the mean: they contribute nothing.
    const nanAt = Array.from(x).findIndex(Number.isNaN)
    expect(s.values[Math.floor(nanAt / COLS) * s.width + (nanAt % COLS)]).toBe(0)
  })

  it('multinomial: one margin per class, SHAP per class sums to each', () => {
    const { x, y } = syntheticMatrix({ rows: ROWS, cols: COLS, kind: 'multiclass', classes: 3, seed: 3 })
    const m = fitLogistic(x, y, ROWS, COLS, 3)
    expect(m.kind).toBe('multinomial')
    const margin = linearMargins(m, x, ROWS, COLS)
    const s = linearShap(m, x, ROWS, COLS)
    for (let i = 0; i < 50; i++) for (let g = 0; g < 3; g++) expect(shapSum(s, i, g)).toBeCloseTo(margin[i * 3 + g], 10)
  })

  it('linear regression recovers known coefficients', () => {
    const n = 500
    const x = new Float32Array(n * 3)
    const y = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      x[i * 3] = i % 7
      x[i * 3 + 1] = (i * 13) % 11
      x[i * 3 + 2] = 4 // constant: no weight
      y[i] = 2 + 3 * x[i * 3] - 0.5 * x[i * 3 + 1]
    }
    const m = fitLinearRegression(x, y, n, 3)
    const pred = linearMargins(m, x, n, 3)
    for (let i = 0; i < n; i++) expect(pred[i]).toBeCloseTo(y[i], 5)
    expect(m.coef[0][0] / m.scale[0]).toBeCloseTo(3, 5)
    expect(m.coef[0][2]).toBe(0)
  })
})

const missing = pythonMissing(['sklearn', 'numpy'])
describe.skipIf(skipReason(missing, 'scikit-learn linear oracle'))('scikit-learn agrees on the same standardised matrix', () => {
  it('LogisticRegression(C=1) (binary and multinomial) and LinearRegression give our coefficients', () => {
    const bin = syntheticMatrix({ rows: ROWS, cols: COLS, kind: 'binary', seed: 5 })
    const mul = syntheticMatrix({ rows: ROWS, cols: COLS, kind: 'multiclass', classes: 3, seed: 6 })
    const reg = syntheticMatrix({ rows: ROWS, cols: COLS, kind: 'regression', seed: 7 })
    const mb = fitLogistic(bin.x, bin.y, ROWS, COLS, 2)
    const mm = fitLogistic(mul.x, mul.y, ROWS, COLS, 3)
    const mr = fitLinearRegression(reg.x, reg.y, ROWS, COLS)
    const z = (m: typeof mb, x: Float32Array) => Array.from(standardised(m, x, ROWS, COLS))
    const sk = runPython<{ b: number[][]; bi: number[]; m: number[][]; mi: number[]; r: number[]; ri: number }>(
      `
import json, sys, numpy as np
from sklearn.linear_model import LogisticRegression, LinearRegression
a = json.load(sys.stdin)
n, k = a['rows'], a['cols']
zb = np.array(a['zb']).reshape(n, k); zm = np.array(a['zm']).reshape(n, k); zr = np.array(a['zr']).reshape(n, k)
b = LogisticRegression(C=1.0, tol=1e-10, max_iter=5000).fit(zb, a['yb'])
m = LogisticRegression(C=1.0, tol=1e-10, max_iter=5000, multi_class='multinomial').fit(zm, a['ym'])
r = LinearRegression().fit(zr, a['yr'])
print(json.dumps({'b': b.coef_.tolist(), 'bi': b.intercept_.tolist(), 'm': m.coef_.tolist(), 'mi': m.intercept_.tolist(), 'r': r.coef_.tolist(), 'ri': float(r.intercept_)}))
`,
      { rows: ROWS, cols: COLS, zb: z(mb, bin.x), yb: Array.from(bin.y), zm: z(mm, mul.x), ym: Array.from(mul.y), zr: z(mr, reg.x), yr: Array.from(reg.y) },
    )
    sk.b[0].forEach((c, j) => expect(mb.coef[0][j]).toBeCloseTo(c, 4))
    expect(mb.intercept[0]).toBeCloseTo(sk.bi[0], 4)
    sk.m.forEach((row, k) => row.forEach((c, j) => expect(mm.coef[k][j]).toBeCloseTo(c, 3)))
    sk.r.forEach((c, j) => expect(mr.coef[0][j]).toBeCloseTo(c, 5))
    expect(mr.intercept[0]).toBeCloseTo(sk.ri, 5)
  })
})
