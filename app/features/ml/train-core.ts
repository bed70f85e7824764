import { featureImportance, type FeatureImportance } from './explain.ts'
import { fitLinearRegression, fitLogistic } from './linear.ts'
import { classificationMetrics, regressionMetrics, type ClassificationMetrics, type RegressionMetrics } from './metrics.ts'
import { buildMatrix, encodeTarget, fitPreprocess, MAX_CLASSES, PreprocessError, targetClasses, type PreprocessSpec, type ProblemType } from './preprocess.ts'
import type { RawTable } from './raw-table.ts'
import { linearArtefact, loadModel, predict, type LoadedModel, type ModelFormat } from './scoring.ts'
import { foldSplit, stratifiedFolds, stratifiedHoldout, strata } from './split.ts'
import { boost, DEFAULT_BOOSTING, type BoostingParams, type Task } from './xgboost-train.ts'
import { XGBoostRuntime } from './xgboost-wasm.ts'

/*
  One training, start to finish, on a dataset already in typed arrays: split (stratified, seeded) → preprocessing fitted
  on the training split → XGBoost with early stopping and/or the linear baseline → metrics on the held-out rows →
  leaderboard (best first) → optional k-fold cross-validation → SHAP feature importance of the chosen model. Pure
  computation (the WASM module is the only dependency); runs on a pool thread (train.thread.ts) and in unit tests.
*/

export type Algorithm = 'auto' | 'xgboost' | 'linear'
export type Step = 'data_preparation' | 'preprocessing' | 'training' | 'cross_validation' | 'evaluation' | 'explanation' | 'registration'

export interface TrainSpec {
  problem_type: ProblemType
  target: string
  features: string[]
  ids: string[]
  algorithm: Algorithm
  boosting: BoostingParams
  linear: { C: number; max_iter: number }
  validation_split: number
  /** 0 = no cross-validation, else k ≥ 2. */
  cv_folds: number
  seed: number
  shap: boolean
  /** Held-out rows the SHAP importance is computed on (at most). */
  shap_rows: number
}

export const DEFAULT_SPEC: Omit<TrainSpec, 'problem_type' | 'target' | 'features' | 'ids'> = {
  algorithm: 'auto',
  boosting: DEFAULT_BOOSTING,
  linear: { C: 1, max_iter: 500 },
  validation_split: 0.2,
  cv_folds: 0,
  seed: 42,
  shap: true,
  shap_rows: 2000,
}

export interface Score {
  metric: 'roc_auc' | 'log_loss' | 'rmse'
  value: number
  higher_is_better: boolean
}

export interface CrossValidation {
  folds: number
  metric: Score['metric']
  scores: { fold: number; train_rows: number; validation_rows: number; value: number }[]
  mean: number
  std: number
}

export interface Candidate {
  algorithm: 'XGBoost' | 'Linear'
  model: 'XGBoostClassifier' | 'XGBoostRegressor' | 'LogisticRegression' | 'LinearRegression'
  format: ModelFormat
  artefact: Uint8Array
  metrics: ClassificationMetrics | RegressionMetrics
  score: Score
  params: Record<string, unknown>
  best_iteration?: number
  rounds_trained?: number
  /** Early-stopping metric on the validation split after each round. */
  history?: number[]
  cv?: CrossValidation
  duration_ms: number
}

export interface TrainResult {
  preprocess: PreprocessSpec
  task: Task
  data: {
    rows: number
    used_rows: number
    dropped_missing_target: number
    train_rows: number
    validation_rows: number
    class_counts?: Record<string, number>
    validation_split: number
    seed: number
  }
  /** Best first by the validation score; the first is the chosen model. */
  candidates: Candidate[]
  feature_importance: FeatureImportance | null
}

export type ProgressFn = (step: Step, pct: number, message: string) => void

const MIN_ROWS = 10

/** The validation score the leaderboard sorts by: ROC AUC (binary), log loss (multiclass), RMSE (regression). */
export function scoreOf(task: Task, m: ClassificationMetrics | RegressionMetrics): Score {
  if (task.kind === 'regression') return { metric: 'rmse', value: (m as RegressionMetrics).rmse, higher_is_better: false }
  if (task.kind === 'binary') return { metric: 'roc_auc', value: (m as ClassificationMetrics).roc_auc ?? 0.5, higher_is_better: true }
  return { metric: 'log_loss', value: (m as ClassificationMetrics).log_loss, higher_is_better: false }
}

const better = (a: Score, b: Score) => (a.higher_is_better ? b.value - a.value : a.value - b.value)

function evaluate(task: Task, classes: string[] | null, m: LoadedModel, x: Float32Array, labels: Float64Array) {
  const out = predict(m, x, labels.length)
  return task.kind === 'regression' ? regressionMetrics(labels, out) : classificationMetrics(labels, out, classes!)
}

function pick(labels: Float64Array, rows: Int32Array) {
  return Float64Array.from(rows, (r) => labels[r])
}

/** Checks the target and works out the task; throws PreprocessError naming the field. */
export function taskOf(table: RawTable, spec: Pick<TrainSpec, 'problem_type' | 'target'>): { task: Task; classes: string[] | null } {
  const col = table.columns.find((c) => c.name === spec.target)
  if (!col) throw new PreprocessError('columns', `target column '${spec.target}' is not in the dataset`)
  if (spec.problem_type === 'Regression') {
    if (col.data_type !== 'Integer' && col.data_type !== 'Float') {
      throw new PreprocessError('columns', `target '${spec.target}' is ${col.data_type}: Regression needs a numeric (Integer or Float) target`)
    }
    return { task: { kind: 'regression', classes: 0 }, classes: null }
  }
  const classes = targetClasses(table, spec.target)
  if (classes.length > MAX_CLASSES) throw new PreprocessError('columns', `target '${spec.target}' has more than ${MAX_CLASSES} classes: use Regression, or a column with fewer classes`)
  if (classes.length < 2) throw new PreprocessError('columns', `target '${spec.target}' has ${classes.length} class${classes.length === 1 ? '' : 'es'} in the data: Classification needs at least 2`, 'INSUFFICIENT_DATA')
  return { task: { kind: classes.length === 2 ? 'binary' : 'multiclass', classes: classes.length }, classes }
}

interface FitOutput {
  model: LoadedModel
  format: ModelFormat
  artefact: Uint8Array
  params: Record<string, unknown>
  best_iteration?: number
  rounds_trained?: number
  history?: number[]
}

async function fitXGBoost(
  table: RawTable,
  pre: PreprocessSpec,
  task: Task,
  labels: Float64Array,
  train: Int32Array,
  valid: { x: Float32Array; labels: Float64Array } | null,
  params: BoostingParams,
  onRound?: (done: number, total: number) => void,
): Promise<FitOutput> {
  const rt = await XGBoostRuntime.create()
  const F = pre.features.length
  // The training matrix is written straight into the module's heap; XGBoost copies it into its own format.
  const matrix = rt.writeMatrix(train.length, F, (view) => buildMatrix(pre, table, train, view))
  const y = Float32Array.from(train, (r) => labels[r])
  let out
  try {
    const v = valid && valid.labels.length ? { x: valid.x, rows: valid.labels.length, labels: valid.labels } : undefined
    out = boost(rt, { matrix, rows: train.length, cols: F, labels: y, valid: v }, task, params, onRound)
  } finally {
    rt.free(matrix)
  }
  return {
    model: loadModel('xgboost-binary', out.bytes),
    format: 'xgboost-binary',
    artefact: out.bytes,
    params: { ...params, xgboost: out.params },
    best_iteration: out.best_iteration,
    rounds_trained: out.rounds_trained,
    history: out.history,
  }
}

function fitLinear(table: RawTable, pre: PreprocessSpec, task: Task, labels: Float64Array, train: Int32Array, opts: TrainSpec['linear']): FitOutput {
  const F = pre.features.length
  const x = buildMatrix(pre, table, train)
  const y = pick(labels, train)
  const model = task.kind === 'regression' ? fitLinearRegression(x, y, train.length, F) : fitLogistic(x, y, train.length, F, task.classes, { C: opts.C, maxIter: opts.max_iter })
  const artefact = linearArtefact(model)
  return {
    model: loadModel('linear-json', artefact),
    format: 'linear-json',
    artefact,
    params: { ...opts, standardise: true, impute: 'mean', iterations: model.iterations, converged: model.converged },
  }
}

function modelName(task: Task, algorithm: 'XGBoost' | 'Linear'): Candidate['model'] {
  if (algorithm === 'XGBoost') return task.kind === 'regression' ? 'XGBoostRegressor' : 'XGBoostClassifier'
  return task.kind === 'regression' ? 'LinearRegression' : 'LogisticRegression'
}

export interface Prepared {
  task: Task
  classes: string[] | null
  labels: Float64Array
  usedRows: Int32Array
  stratum: Int32Array
  train: Int32Array
  valid: Int32Array
  pre: PreprocessSpec
  validX: Float32Array
  validLabels: Float64Array
  data: TrainResult['data']
}

/** Checks, split and preprocessing: everything before a model is fitted (shared by every engine). */
export function prepare(table: RawTable, spec: TrainSpec, progress: ProgressFn = () => {}): Prepared {
  const { task, classes } = taskOf(table, spec)
  const labels = encodeTarget({ problem_type: spec.problem_type, target: { column: spec.target, data_type: 'String', classes } }, table)
  const used: number[] = []
  for (let i = 0; i < table.rows; i++) if (labels[i] === labels[i]) used.push(i)
  if (used.length < MIN_ROWS) {
    throw new PreprocessError('dataset_id', `${used.length} row(s) have a value in the target '${spec.target}': training needs at least ${MIN_ROWS}`, 'INSUFFICIENT_DATA')
  }
  const usedRows = Int32Array.from(used)
  const usedLabels = pick(labels, usedRows)
  const stratum = strata(usedLabels, task.kind === 'regression' ? 'regression' : 'classification')
  let classCounts: Record<string, number> | undefined
  if (classes) {
    const counts = new Array<number>(classes.length).fill(0)
    for (const l of usedLabels) counts[l]++
    classCounts = Object.fromEntries(classes.map((c, i) => [c, counts[i]]))
    const smallest = Math.min(...counts)
    if (smallest < 2) throw new PreprocessError('columns', `class '${classes[counts.indexOf(smallest)]}' of '${spec.target}' has ${smallest} row: every class needs at least 2 to be split`, 'INSUFFICIENT_DATA')
    if (spec.cv_folds && smallest < spec.cv_folds) throw new PreprocessError('cv_folds', `class '${classes[counts.indexOf(smallest)]}' has ${smallest} rows, fewer than cv_folds = ${spec.cv_folds}`)
  }
  if (spec.cv_folds && spec.cv_folds > used.length / 2) throw new PreprocessError('cv_folds', `${spec.cv_folds} folds need at least ${spec.cv_folds * 2} rows (there are ${used.length})`)

  progress('preprocessing', 12, `splitting ${used.length} rows (validation ${Math.round(spec.validation_split * 100)} %, seed ${spec.seed})`)
  const split = stratifiedHoldout(stratum, spec.validation_split, spec.seed)
  const train = Int32Array.from(split.train, (p) => usedRows[p])
  const valid = Int32Array.from(split.valid, (p) => usedRows[p])
  const pre = fitPreprocess(table, { target: spec.target, features: spec.features, ids: spec.ids }, spec.problem_type, train, classes)
  progress('preprocessing', 15, `${pre.features.length} features from ${spec.features.length} columns, fitted on ${train.length} training rows`)
  return {
    task,
    classes,
    labels,
    usedRows,
    stratum,
    train,
    valid,
    pre,
    validX: buildMatrix(pre, table, valid),
    validLabels: pick(labels, valid),
    data: {
      rows: table.rows,
      used_rows: used.length,
      dropped_missing_target: table.rows - used.length,
      train_rows: train.length,
      validation_rows: valid.length,
      ...(classCounts ? { class_counts: classCounts } : {}),
      validation_split: spec.validation_split,
      seed: spec.seed,
    },
  }
}

/** Evenly spaced held-out rows (the whole file, not its first part) for SHAP. */
export function shapSample(validX: Float32Array, rows: number, features: number, max: number) {
  const n = Math.min(rows, max)
  const sample = new Float32Array(n * features)
  for (let i = 0; i < n; i++) {
    const r = Math.floor((i * rows) / n)
    sample.set(validX.subarray(r * features, (r + 1) * features), i * features)
  }
  return { sample, n }
}

export async function runTraining(table: RawTable, spec: TrainSpec, progress: ProgressFn = () => {}): Promise<TrainResult> {
  const { task, classes, labels, usedRows, stratum, train, valid, pre, validX, validLabels, data } = prepare(table, spec, progress)
  const algorithms: ('XGBoost' | 'Linear')[] = spec.algorithm === 'auto' ? ['XGBoost', 'Linear'] : spec.algorithm === 'xgboost' ? ['XGBoost'] : ['Linear']
  const fitted: { algorithm: 'XGBoost' | 'Linear'; fit: FitOutput; ms: number }[] = []
  for (const algorithm of algorithms) {
    const started = performance.now()
    if (algorithm === 'XGBoost') {
      const span = algorithms.length > 1 ? 55 : 65
      progress('training', 15, `XGBoost: round 0 of ${spec.boosting.n_estimators}`)
      const fit = await fitXGBoost(table, pre, task, labels, train, { x: validX, labels: validLabels }, spec.boosting, (done, total) =>
        progress('training', 15 + (span * done) / total, `XGBoost: round ${done} of ${total}`),
      )
      fitted.push({ algorithm, fit, ms: performance.now() - started })
    } else {
      progress('training', algorithms.length > 1 ? 70 : 15, `linear baseline (${task.kind === 'regression' ? 'least squares' : 'logistic regression'})`)
      fitted.push({ algorithm, fit: fitLinear(table, pre, task, labels, train, spec.linear), ms: performance.now() - started })
    }
  }

  progress('evaluation', 80, `metrics on ${valid.length} held-out rows`)
  let candidates: Candidate[] = fitted.map(({ algorithm, fit, ms }) => {
    const metrics = evaluate(task, classes, fit.model, validX, validLabels)
    return {
      algorithm,
      model: modelName(task, algorithm),
      format: fit.format,
      artefact: fit.artefact,
      metrics,
      score: scoreOf(task, metrics),
      params: fit.params,
      ...(fit.best_iteration !== undefined ? { best_iteration: fit.best_iteration, rounds_trained: fit.rounds_trained, history: fit.history } : {}),
      duration_ms: Math.round(ms),
    }
  })
  // Stable: on a tie the order of `algorithms` (XGBoost first) decides.
  candidates = candidates.map((c, i) => ({ c, i })).sort((a, b) => better(a.c.score, b.c.score) || a.i - b.i).map(({ c }) => c)

  if (spec.cv_folds >= 2) {
    const folds = stratifiedFolds(stratum, spec.cv_folds, spec.seed)
    for (const c of candidates) {
      const scores: CrossValidation['scores'] = []
      for (let f = 0; f < spec.cv_folds; f++) {
        progress('cross_validation', 82 + (8 * (f + candidates.indexOf(c) * spec.cv_folds)) / (spec.cv_folds * candidates.length), `${c.algorithm}: fold ${f + 1} of ${spec.cv_folds}`)
        const part = foldSplit(folds, f)
        const tr = Int32Array.from(part.train, (p) => usedRows[p])
        const va = Int32Array.from(part.valid, (p) => usedRows[p])
        const foldPre = fitPreprocess(table, { target: spec.target, features: spec.features, ids: spec.ids }, spec.problem_type, tr, classes)
        // Each fold trains as many rounds as early stopping chose on the holdout.
        const fit =
          c.algorithm === 'XGBoost'
            ? await fitXGBoost(table, foldPre, task, labels, tr, null, { ...spec.boosting, n_estimators: (c.best_iteration ?? spec.boosting.n_estimators - 1) + 1 })
            : fitLinear(table, foldPre, task, labels, tr, spec.linear)
        const m = evaluate(task, classes, fit.model, buildMatrix(foldPre, table, va), pick(labels, va))
        scores.push({ fold: f + 1, train_rows: tr.length, validation_rows: va.length, value: scoreOf(task, m).value })
      }
      const mean = scores.reduce((s, x) => s + x.value, 0) / scores.length
      const std = Math.sqrt(scores.reduce((s, x) => s + (x.value - mean) ** 2, 0) / Math.max(1, scores.length - 1))
      c.cv = { folds: spec.cv_folds, metric: c.score.metric, scores, mean, std }
    }
  }

  let importance: FeatureImportance | null = null
  if (spec.shap) {
    const { sample, n } = shapSample(validX, valid.length, pre.features.length, spec.shap_rows)
    progress('explanation', 92, `SHAP values of ${n} held-out rows`)
    const best = candidates[0]
    importance = featureImportance(loadModel(best.format, best.artefact), pre, sample, n)
  }
  return { preprocess: pre, task, data, candidates, feature_importance: importance }
}

// ---------------------------------------------------------------- external trainers

export interface ExternalInput {
  preprocess: PreprocessSpec
  task: Task
  classes: string[] | null
  data: TrainResult['data']
  trainX: Float32Array
  trainY: Float32Array
  validX: Float32Array
  validY: Float32Array
}

/** What an external trainer (native XGBoost) trains on: the same split and preprocessing as the in-process trainer. */
export function prepareExternal(table: RawTable, spec: TrainSpec, progress: ProgressFn = () => {}): ExternalInput {
  const p = prepare(table, spec, progress)
  return {
    preprocess: p.pre,
    task: p.task,
    classes: p.classes,
    data: p.data,
    trainX: buildMatrix(p.pre, table, p.train),
    trainY: Float32Array.from(p.train, (r) => p.labels[r]),
    validX: p.validX,
    validY: Float32Array.from(p.validLabels),
  }
}

/**
 * Scores a model an external trainer sent back on the held-out rows it was given: our metrics, not its claims, and
 * the SHAP importance from its trees (TreeSHAP here, local accuracy checked).
 */
export function evaluateExternal(
  input: Pick<ExternalInput, 'preprocess' | 'task' | 'classes' | 'validX' | 'validY'>,
  format: ModelFormat,
  artefact: Uint8Array,
  opts: { shap: boolean; shapRows: number },
): { metrics: ClassificationMetrics | RegressionMetrics; score: Score; importance: FeatureImportance | null; trees: number } {
  const model = loadModel(format, artefact)
  const F = input.preprocess.features.length
  if (model.features !== F) throw new Error(`the trainer's model reads ${model.features} features; the training data has ${F}`)
  const labels = Float64Array.from(input.validY)
  const metrics = evaluate(input.task, input.classes, model, input.validX, labels)
  let importance: FeatureImportance | null = null
  if (opts.shap) {
    const { sample, n } = shapSample(input.validX, labels.length, F, opts.shapRows)
    importance = featureImportance(model, input.preprocess, sample, n)
  }
  return { metrics, score: scoreOf(input.task, metrics), importance, trees: model.kind === 'trees' ? model.trees.trees.length : 0 }
}
