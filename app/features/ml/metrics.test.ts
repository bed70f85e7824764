import { describe, expect, it } from 'vitest'
import { pythonMissing, runPython, skipReason } from '#tests/support/python.ts'
import { classificationMetrics, curves, logLoss, quantile, regressionMetrics, rocAuc } from './metrics.ts'
import { seededRandom } from './split.ts'

function binaryCase(n: number, seed: number) {
  const rng = seededRandom(seed)
  const y = Float64Array.from({ length: n }, () => (rng() < 0.35 ? 1 : 0))
  // Scores that carry signal, with ties (rounded to 2 decimals) to exercise the tie handling.
  const p = Float64Array.from(y, (v) => Math.min(0.99, Math.max(0.01, Math.round((0.3 * v + 0.7 * rng()) * 100) / 100)))
  return { y, p }
}

/** AUC by its definition: the share of (positive, negative) pairs ranked correctly, ties counting half. */
function pairAuc(y: ArrayLike<number>, s: ArrayLike<number>) {
  let good = 0
  let pairs = 0
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue
      pairs++
      good += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0
    }
  }
  return good / pairs
}

describe('classification metrics against a direct computation', () => {
  it('binary: counts, AUC by pairs, log loss by its formula', () => {
    const { y, p } = binaryCase(600, 3)
    const m = classificationMetrics(y, p, ['no', 'yes'])
    let tp = 0, fp = 0, fn = 0, tn = 0
    for (let i = 0; i < y.length; i++) {
      const hat = p[i] >= 0.5 ? 1 : 0
      if (hat === 1 && y[i] === 1) tp++
      else if (hat === 1) fp++
      else if (y[i] === 1) fn++
      else tn++
    }
    expect(m.confusion_matrix).toEqual([[tn, fp], [fn, tp]])
    expect(m.accuracy).toBeCloseTo((tp + tn) / y.length, 12)
    expect(m.precision).toBeCloseTo(tp / (tp + fp), 12)
    expect(m.recall).toBeCloseTo(tp / (tp + fn), 12)
    expect(m.f1_score).toBeCloseTo((2 * tp) / (2 * tp + fp + fn), 12)
    expect(m.roc_auc!).toBeCloseTo(pairAuc(y, p), 12)
    let ll = 0
    for (let i = 0; i < y.length; i++) ll -= y[i] ? Math.log(p[i]) : Math.log(1 - p[i])
    expect(m.log_loss).toBeCloseTo(ll / y.length, 12)
    expect(m.rows).toBe(600)
  })

  it('ROC curve runs from (0,0) to (1,1); its trapezoid area is the AUC; PR ends at recall 1', () => {
    const { y, p } = binaryCase(400, 9)
    const { roc, pr } = curves(y, p)
    expect(roc[0]).toMatchObject({ fpr: 0, tpr: 0 })
    expect(roc[roc.length - 1]).toMatchObject({ fpr: 1, tpr: 1 })
    let area = 0
    for (let i = 1; i < roc.length; i++) area += ((roc[i].fpr - roc[i - 1].fpr) * (roc[i].tpr + roc[i - 1].tpr)) / 2
    expect(area).toBeCloseTo(rocAuc(y, p)!, 10)
    expect(pr[pr.length - 1].recall).toBe(1)
  })

  it('multiclass: macro averages of per-class counts; argmax prediction', () => {
    const rng = seededRandom(5)
    const n = 300
    const K = 3
    const y = Float64Array.from({ length: n }, () => Math.floor(rng() * K))
    const p = new Float64Array(n * K)
    for (let i = 0; i < n; i++) {
      let s = 0
      for (let k = 0; k < K; k++) s += p[i * K + k] = rng() + (k === y[i] ? 0.6 : 0)
      for (let k = 0; k < K; k++) p[i * K + k] /= s
    }
    const m = classificationMetrics(y, p, ['a', 'b', 'c'])
    const f1s: number[] = []
    for (let c = 0; c < K; c++) {
      let tp = 0, fp = 0, fn = 0
      for (let i = 0; i < n; i++) {
        let hat = 0
        for (let k = 1; k < K; k++) if (p[i * K + k] > p[i * K + hat]) hat = k
        if (hat === c && y[i] === c) tp++
        else if (hat === c) fp++
        else if (y[i] === c) fn++
      }
      f1s.push((2 * tp) / (2 * tp + fp + fn))
    }
    expect(m.f1_score).toBeCloseTo(f1s.reduce((a, b) => a + b) / K, 12)
    expect(m.confusion_matrix.flat().reduce((a, b) => a + b)).toBe(n)
    expect(m.roc_curve).toBeUndefined()
  })

  it('log loss clips probabilities of 0 and 1', () => {
    expect(logLoss([1, 0], [0, 1], 1)).toBeCloseTo((-Math.log(1e-15) - Math.log(1 - (1 - 1e-15))) / 2, 9)
  })
})

describe('regression metrics against a direct computation', () => {
  it('RMSE, MAE, R², MAPE and residual quantiles', () => {
    const rng = seededRandom(11)
    const y = Float64Array.from({ length: 200 }, () => 5 + rng() * 10)
    const yhat = Float64Array.from(y, (v) => v + (rng() - 0.5) * 2)
    const m = regressionMetrics(y, yhat)
    const r = Array.from(y, (v, i) => v - yhat[i])
    const mean = y.reduce((a, b) => a + b) / y.length
    expect(m.rmse).toBeCloseTo(Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length), 12)
    expect(m.mae).toBeCloseTo(r.reduce((s, v) => s + Math.abs(v), 0) / r.length, 12)
    expect(m.r2).toBeCloseTo(1 - r.reduce((s, v) => s + v * v, 0) / y.reduce((s, v) => s + (v - mean) ** 2, 0), 12)
    expect(m.mape!).toBeCloseTo(r.reduce((s, v, i) => s + Math.abs(v / y[i]), 0) / r.length, 12)
    const sorted = [...r].sort((a, b) => a - b)
    expect(m.residual_quantiles.p50).toBeCloseTo((sorted[99] + sorted[100]) / 2, 12)
    expect(m.residual_quantiles.min).toBe(sorted[0])
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12)
  })
})

const missing = pythonMissing(['sklearn', 'numpy'])
describe.skipIf(skipReason(missing, 'scikit-learn metrics oracle'))('scikit-learn agrees', () => {
  it('binary, multiclass and regression metrics equal sklearn.metrics on the same predictions', () => {
    const { y, p } = binaryCase(500, 21)
    const rng = seededRandom(4)
    const K = 4
    const ym = Array.from({ length: 300 }, () => Math.floor(rng() * K))
    const pm = ym.map((c) => {
      const row = Array.from({ length: K }, (_, k) => rng() + (k === c ? 0.5 : 0))
      const s = row.reduce((a, b) => a + b)
      return row.map((v) => v / s)
    })
    const yr = Array.from({ length: 300 }, () => 1 + rng() * 50)
    const pr = yr.map((v) => v * (0.9 + rng() * 0.2))
    const sk = runPython<Record<string, number | number[][]>>(
      `
import json, sys, numpy as np
from sklearn import metrics as M
a = json.load(sys.stdin)
y, p = np.array(a['y']), np.array(a['p'])
ym, pm = np.array(a['ym']), np.array(a['pm'])
yr, pr = np.array(a['yr']), np.array(a['pr'])
hat = (p >= 0.5).astype(int)
hm = pm.argmax(axis=1)
print(json.dumps({
  'accuracy': M.accuracy_score(y, hat), 'precision': M.precision_score(y, hat), 'recall': M.recall_score(y, hat),
  'f1': M.f1_score(y, hat), 'auc': M.roc_auc_score(y, p), 'logloss': M.log_loss(y, p), 'cm': M.confusion_matrix(y, hat).tolist(),
  'm_f1': M.f1_score(ym, hm, average='macro'), 'm_precision': M.precision_score(ym, hm, average='macro', zero_division=0),
  'm_recall': M.recall_score(ym, hm, average='macro'), 'm_auc': M.roc_auc_score(ym, pm, multi_class='ovr', average='macro'),
  'm_logloss': M.log_loss(ym, pm, labels=list(range(${K}))),
  'rmse': M.mean_squared_error(yr, pr) ** 0.5, 'mae': M.mean_absolute_error(yr, pr), 'r2': M.r2_score(yr, pr),
  'mape': M.mean_absolute_percentage_error(yr, pr),
}))
`,
      { y: Array.from(y), p: Array.from(p), ym, pm, yr, pr },
    )
    const b = classificationMetrics(y, p, ['0', '1'])
    expect(b.accuracy).toBeCloseTo(sk.accuracy as number, 10)
    expect(b.precision).toBeCloseTo(sk.precision as number, 10)
    expect(b.recall).toBeCloseTo(sk.recall as number, 10)
    expect(b.f1_score).toBeCloseTo(sk.f1 as number, 10)
    expect(b.roc_auc!).toBeCloseTo(sk.auc as number, 10)
    expect(b.log_loss).toBeCloseTo(sk.logloss as number, 10)
    expect(b.confusion_matrix).toEqual(sk.cm)
    const m = classificationMetrics(ym, pm.flat(), ['a', 'b', 'c', 'd'])
    expect(m.f1_score).toBeCloseTo(sk.m_f1 as number, 10)
    expect(m.precision).toBeCloseTo(sk.m_precision as number, 10)
    expect(m.recall).toBeCloseTo(sk.m_recall as number, 10)
    expect(m.roc_auc!).toBeCloseTo(sk.m_auc as number, 10)
    expect(m.log_loss).toBeCloseTo(sk.m_logloss as number, 10)
    const r = regressionMetrics(yr, pr)
    expect(r.rmse).toBeCloseTo(sk.rmse as number, 10)
    expect(r.mae).toBeCloseTo(sk.mae as number, 10)
    expect(r.r2).toBeCloseTo(sk.r2 as number, 10)
    expect(r.mape!).toBeCloseTo(sk.mape as number, 10)
  })
})
