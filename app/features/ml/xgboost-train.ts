import { logLoss } from './metrics.ts'
import { marginsToOutputs, parseLegacyModel, predictMargins, truncateLegacyModel, type TreeEnsemble } from './tree-model.ts'
import type { WasmBooster, XGBoostRuntime } from './xgboost-wasm.ts'

/*
  Boosting with early stopping on the validation split. The WASM build exports no evaluation, so the validation margins
  are kept here: after every few rounds the model is saved, its new trees are read (tree-model.ts) and added to the
  margins one tree at a time, so the validation metric is known after every round. Training stops `early_stopping_rounds`
  rounds after the best one, and the model is cut back to the best round.
*/

export type TaskKind = 'binary' | 'multiclass' | 'regression'

export interface Task {
  kind: TaskKind
  /** Classes (2 for binary, k for multiclass, 0 for regression). */
  classes: number
}

export interface BoostingParams {
  max_depth: number
  learning_rate: number
  n_estimators: number
  subsample: number
  colsample_bytree: number
  min_child_weight: number
  scale_pos_weight: number
  reg_lambda: number
  reg_alpha: number
  gamma: number
  max_bin: number
  early_stopping_rounds: number
  seed: number
}

export const DEFAULT_BOOSTING: BoostingParams = {
  max_depth: 6,
  learning_rate: 0.1,
  n_estimators: 200,
  subsample: 1,
  colsample_bytree: 1,
  min_child_weight: 1,
  scale_pos_weight: 1,
  reg_lambda: 1,
  reg_alpha: 0,
  gamma: 0,
  max_bin: 256,
  early_stopping_rounds: 20,
  seed: 42,
}

/** The metric early stopping watches (lower is better): log loss for classification, RMSE for regression. */
export function stoppingMetricName(task: Task) {
  return task.kind === 'regression' ? 'rmse' : task.kind === 'binary' ? 'logloss' : 'mlogloss'
}

/** The parameters handed to XGBoost, every one explicit (its WASM defaults are subsample 0.5 and reg:linear). */
export function xgboostParams(task: Task, p: BoostingParams, baseScore: number): Record<string, string | number> {
  return {
    booster: 'gbtree',
    objective: task.kind === 'binary' ? 'binary:logistic' : task.kind === 'multiclass' ? 'multi:softprob' : 'reg:linear',
    ...(task.kind === 'multiclass' ? { num_class: task.classes } : {}),
    tree_method: 'hist',
    max_depth: p.max_depth,
    eta: p.learning_rate,
    subsample: p.subsample,
    colsample_bytree: p.colsample_bytree,
    min_child_weight: p.min_child_weight,
    scale_pos_weight: p.scale_pos_weight,
    lambda: p.reg_lambda,
    alpha: p.reg_alpha,
    gamma: p.gamma,
    max_bin: p.max_bin,
    base_score: baseScore,
    seed: p.seed,
    silent: 1,
  }
}

/** XGBoost's starting prediction: the mean target for regression, 0.5 otherwise (native's default). */
export function baseScoreFor(task: Task, labels: ArrayLike<number>) {
  if (task.kind !== 'regression') return 0.5
  let s = 0
  for (let i = 0; i < labels.length; i++) s += labels[i]
  return labels.length ? s / labels.length : 0
}

function stoppingMetric(task: Task, margins: Float64Array, labels: ArrayLike<number>, objective: TreeEnsemble['objective']) {
  const n = labels.length
  if (task.kind === 'regression') {
    let se = 0
    for (let i = 0; i < n; i++) se += (margins[i] - labels[i]) ** 2
    return Math.sqrt(se / n)
  }
  const probs = marginsToOutputs(objective, margins, task.kind === 'binary' ? 1 : task.classes)
  return logLoss(labels, probs, task.kind === 'binary' ? 1 : task.classes)
}

export interface BoostedModel {
  /** The model in XGBoost's legacy binary format, cut back to the best round. */
  bytes: Uint8Array
  model: TreeEnsemble
  /** 0-based index of the best round (rounds kept = best_iteration + 1). */
  best_iteration: number
  rounds_trained: number
  /** Validation metric after each round. */
  history: number[]
  metric: string
  params: Record<string, string | number>
}

export interface BoostInput {
  /** Training matrix already in the runtime's heap (writeMatrix); freed by the caller. */
  matrix: number
  rows: number
  cols: number
  labels: Float32Array
  /** Validation rows for early stopping; without them, all n_estimators rounds are trained. */
  valid?: { x: Float32Array; rows: number; labels: Float64Array }
}

const CHECK_EVERY = 5

/** Trains one booster; `onRound(done, total)` after every check. */
export function boost(rt: XGBoostRuntime, input: BoostInput, task: Task, p: BoostingParams, onRound?: (done: number, total: number, metric: number | null) => void): BoostedModel {
  const params = xgboostParams(task, p, baseScoreFor(task, input.labels))
  const booster: WasmBooster = rt.createBooster(input.matrix, input.labels, input.rows, input.cols, params)
  try {
    const perRound = task.kind === 'multiclass' ? task.classes : 1
    const total = p.n_estimators
    const history: number[] = []
    let best = -1
    let bestValue = Infinity
    let done = 0
    let bytes: Uint8Array = new Uint8Array()
    let model: TreeEnsemble | undefined
    let margins: Float64Array | undefined
    const valid = input.valid && input.valid.rows > 0 ? input.valid : undefined
    while (done < total) {
      const chunk = valid ? Math.min(CHECK_EVERY, total - done) : total - done
      booster.boost(chunk)
      done += chunk
      if (!valid) {
        onRound?.(done, total, null)
        continue
      }
      bytes = booster.save()
      model = parseLegacyModel(bytes)
      if (!margins) {
        margins = new Float64Array(valid.rows * model.numGroups)
        margins.fill(model.baseMargin)
      }
      let stop = false
      for (let r = done - chunk; r < done; r++) {
        predictMargins(model, valid.x, valid.rows, input.cols, { from: r * perRound, trees: (r + 1) * perRound, out: margins })
        const value = stoppingMetric(task, margins, valid.labels, model.objective)
        history.push(value)
        if (value < bestValue - 1e-12) {
          bestValue = value
          best = r
        } else if (r - best >= p.early_stopping_rounds) {
          stop = true
          break
        }
      }
      onRound?.(done, total, bestValue)
      if (stop) break
    }
    if (!valid) {
      bytes = booster.save()
      model = parseLegacyModel(bytes)
      best = done - 1
    }
    const keep = (best + 1) * perRound
    if (model!.trees.length > keep) {
      bytes = truncateLegacyModel(bytes, keep)
      model = parseLegacyModel(bytes)
    }
    return { bytes, model: model!, best_iteration: best, rounds_trained: done, history: history.slice(0, done), metric: stoppingMetricName(task), params }
  } finally {
    booster.free()
  }
}
