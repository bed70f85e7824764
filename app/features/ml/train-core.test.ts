import { describe, expect, it } from 'vitest'
import type { ClassificationMetrics, RegressionMetrics } from './metrics.ts'
import { buildMatrix, encodeTarget, PreprocessError } from './preprocess.ts'
import { RawTableBuilder, type RawTable } from './raw-table.ts'
import { loadModel, predict } from './scoring.ts'
import { stratifiedHoldout, strata } from './split.ts'
import { syntheticMatrix } from './synthetic.ts'
import { DEFAULT_SPEC, runTraining, type TrainSpec } from './train-core.ts'

const PLANS = ['Basic', 'Standard', 'Premium']

/** A churn-shaped table: 6 numbers, a plan (one-hot), a boolean target that depends on both. */
function churnTable(rows: number, kind: 'binary' | 'multiclass' | 'regression' = 'binary', seed = 1): RawTable {
  const { x, y } = syntheticMatrix({ rows, cols: 6, kind, classes: 3, seed, missing: 0.02 })
  const cols = [
    ...Array.from({ length: 6 }, (_, j) => ({ column_name: `f${j}`, data_type: 'Float' as const })),
    { column_name: 'plan', data_type: 'String' as const },
    { column_name: 'target', data_type: kind === 'binary' ? ('Boolean' as const) : kind === 'multiclass' ? ('String' as const) : ('Float' as const) },
  ]
  const b = new RawTableBuilder(cols, rows)
  const data: unknown[][] = []
  for (let i = 0; i < rows; i++) {
    const plan = PLANS[i % 3]
    let target: unknown = kind === 'binary' ? y[i] === 1 : kind === 'multiclass' ? `class-${y[i]}` : y[i]
    // The plan matters: Premium customers churn less.
    if (kind === 'binary' && plan === 'Premium' && i % 4 === 0) target = false
    data.push([...Array.from(x.subarray(i * 6, i * 6 + 6), (v) => (Number.isNaN(v) ? null : v)), plan, target])
  }
  b.append(data)
  return b.finish()
}

function spec(over: Partial<TrainSpec> = {}): TrainSpec {
  return {
    ...DEFAULT_SPEC,
    problem_type: 'Classification',
    target: 'target',
    features: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'plan'],
    ids: [],
    boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 60 },
    ...over,
  }
}

/** AUC by counting ranked pairs: an independent check of the registry's number. */
function pairAuc(y: ArrayLike<number>, s: ArrayLike<number>) {
  let good = 0
  let pairs = 0
  for (let i = 0; i < y.length; i++) for (let j = 0; j < y.length; j++) {
    if (y[i] === 1 && y[j] === 0) {
      pairs++
      good += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0
    }
  }
  return good / pairs
}

describe('a whole training (pure core)', () => {
  const table = churnTable(2000)

  it('auto trains both algorithms, ranks them by validation AUC, and the metrics recompute from the held-out rows', async () => {
    const steps: string[] = []
    const r = await runTraining(table, spec(), (step) => steps.push(step))
    expect(r.candidates.map((c) => c.algorithm).sort()).toEqual(['Linear', 'XGBoost'])
    expect(r.candidates[0].score.value).toBeGreaterThanOrEqual(r.candidates[1].score.value)
    expect(new Set(steps)).toEqual(new Set(['preprocessing', 'training', 'evaluation', 'explanation']))
    expect(r.data).toMatchObject({ rows: 2000, used_rows: 2000, train_rows: 1600, validation_rows: 400 })

    // Re-derive the held-out rows and the predictions on our side, then every headline metric.
    const labels = encodeTarget(r.preprocess, table)
    const split = stratifiedHoldout(strata(labels, 'classification'), 0.2, 42)
    const x = buildMatrix(r.preprocess, table, split.valid)
    const y = Float64Array.from(split.valid, (i) => labels[i])
    for (const c of r.candidates) {
      const p = predict(loadModel(c.format, c.artefact), x, y.length)
      const m = c.metrics as ClassificationMetrics
      expect(m.roc_auc!).toBeCloseTo(pairAuc(y, p), 10)
      const correct = y.reduce((s, v, i) => s + (v === (p[i] >= 0.5 ? 1 : 0) ? 1 : 0), 0)
      expect(m.accuracy).toBeCloseTo(correct / y.length, 12)
      expect(m.confusion_matrix.flat().reduce((a, b) => a + b)).toBe(400)
    }
    expect(r.candidates.find((c) => c.algorithm === 'XGBoost')!.metrics).toMatchObject({ classes: ['false', 'true'] })
    expect((r.candidates[0].metrics as ClassificationMetrics).roc_auc!).toBeGreaterThan(0.85)
  })

  it('feature importance: SHAP per original column (one-hot parts summed), normalised to 1, locally accurate', async () => {
    const r = await runTraining(table, spec({ algorithm: 'xgboost' }))
    const fi = r.feature_importance!
    expect(Object.keys(fi.feature_importance).sort()).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'plan'])
    expect(Object.values(fi.feature_importance).reduce((a, b) => a + b)).toBeCloseTo(1, 10)
    expect(fi.local_accuracy_max_error).toBeLessThan(1e-4)
    expect(fi.method).toBe('tree_shap')
    // f0 drives the target most (coefficient 1.2 in the generator).
    expect(Object.keys(fi.feature_importance)[0]).toBe('f0')
    const lin = await runTraining(table, spec({ algorithm: 'linear' }))
    expect(lin.feature_importance!.method).toBe('linear_shap')
    expect(lin.feature_importance!.local_accuracy_max_error).toBeLessThan(1e-9)
  })

  it('is reproducible: the same request on the same data gives the same model bytes and metrics', async () => {
    const a = await runTraining(table, spec({ boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 30, subsample: 0.8, colsample_bytree: 0.8 } }))
    const b = await runTraining(table, spec({ boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 30, subsample: 0.8, colsample_bytree: 0.8 } }))
    expect(Buffer.from(a.candidates[0].artefact).equals(Buffer.from(b.candidates[0].artefact))).toBe(true)
    expect(a.candidates.map((c) => c.metrics)).toEqual(b.candidates.map((c) => c.metrics))
    const c = await runTraining(table, spec({ seed: 7, boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 30, subsample: 0.8, colsample_bytree: 0.8 } }))
    expect(Buffer.from(c.candidates[0].artefact).equals(Buffer.from(a.candidates[0].artefact))).toBe(false)
  })

  it('early stopping stops after early_stopping_rounds without improvement and keeps the best round', async () => {
    const r = await runTraining(table, spec({ algorithm: 'xgboost', shap: false, boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 400, learning_rate: 0.5, early_stopping_rounds: 10 } }))
    const c = r.candidates[0]
    expect(c.rounds_trained!).toBeLessThan(400)
    const best = c.history!.indexOf(Math.min(...c.history!))
    expect(c.best_iteration).toBe(best)
    expect(c.history!.length - 1 - best).toBeGreaterThanOrEqual(10)
    expect(loadModel(c.format, c.artefact).kind === 'trees' && (loadModel(c.format, c.artefact) as { trees: { trees: unknown[] } }).trees.trees.length).toBe(best + 1)
  })

  it('k-fold cross-validation gives a score per fold for each candidate', async () => {
    const r = await runTraining(churnTable(600), spec({ cv_folds: 3, shap: false, boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 20 } }))
    for (const c of r.candidates) {
      expect(c.cv!.scores.map((s) => s.fold)).toEqual([1, 2, 3])
      expect(c.cv!.scores.reduce((s, f) => s + f.validation_rows, 0)).toBe(600)
      expect(c.cv!.mean).toBeCloseTo(c.cv!.scores.reduce((s, f) => s + f.value, 0) / 3, 12)
    }
  })

  it('multiclass and regression train end to end', async () => {
    const m = await runTraining(churnTable(900, 'multiclass'), spec({ shap: true, boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 20 } }))
    expect(m.task).toEqual({ kind: 'multiclass', classes: 3 })
    expect((m.candidates[0].metrics as ClassificationMetrics).confusion_matrix.length).toBe(3)
    expect(m.candidates[0].score.metric).toBe('log_loss')
    expect(m.feature_importance!.local_accuracy_max_error).toBeLessThan(1e-4)
    const g = await runTraining(churnTable(900, 'regression'), spec({ problem_type: 'Regression', boosting: { ...DEFAULT_SPEC.boosting, n_estimators: 40 } }))
    expect(g.candidates[0].score.metric).toBe('rmse')
    expect((g.candidates[0].metrics as RegressionMetrics).r2).toBeGreaterThan(0.5)
    expect(g.candidates.map((c) => c.model).sort()).toEqual(['LinearRegression', 'XGBoostRegressor'])
  })

  it('refuses data that cannot train, naming the field', async () => {
    const one = new RawTableBuilder([{ column_name: 'a', data_type: 'Float' }, { column_name: 't', data_type: 'Boolean' }], 20)
    one.append(Array.from({ length: 20 }, (_, i) => [i, true]))
    await expect(runTraining(one.finish(), spec({ target: 't', features: ['a'] }))).rejects.toMatchObject({ field: 'columns', code: 'INSUFFICIENT_DATA' })
    await expect(runTraining(table, spec({ problem_type: 'Regression' }))).rejects.toThrow(PreprocessError)
    await expect(runTraining(table, spec({ problem_type: 'Regression' }))).rejects.toMatchObject({ field: 'columns', message: expect.stringMatching(/target 'target' is Boolean/) })
  })
})
