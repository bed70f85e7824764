/*
  Evaluation metrics on held-out rows, computed from the labels and the model's outputs:
  classification: accuracy, precision, recall, F1 (the positive class for binary, macro averages for multiclass),
  ROC AUC (one-vs-rest macro for multiclass), log loss, the confusion matrix (rows = actual, columns = predicted, in
  class order), ROC and precision-recall curve points; regression: RMSE, MAE, R², MAPE and residual quantiles.
*/

export interface CurvePoint {
  threshold: number
  x: number
  y: number
}

export interface ClassificationMetrics {
  accuracy: number
  precision: number
  recall: number
  f1_score: number
  roc_auc: number | null
  log_loss: number
  confusion_matrix: number[][]
  classes: string[]
  /** Binary: false positive rate (x) against true positive rate (y); multiclass: omitted. */
  roc_curve?: { fpr: number; tpr: number; threshold: number }[]
  pr_curve?: { recall: number; precision: number; threshold: number }[]
  per_class?: { class: string; precision: number; recall: number; f1_score: number; support: number }[]
  rows: number
}

export interface RegressionMetrics {
  rmse: number
  mae: number
  r2: number
  /** Mean absolute percentage error over rows whose target is not 0 (null when all are 0). */
  mape: number | null
  residual_quantiles: { min: number; p5: number; p25: number; p50: number; p75: number; p95: number; max: number }
  rows: number
}

const EPS = 1e-15
const CURVE_POINTS = 200

/** Argmax class of each row of a rows × k probability matrix (k = 1 means binary P(positive)). */
export function predictedClasses(probs: ArrayLike<number>, rows: number, k: number, threshold = 0.5): Int32Array {
  const out = new Int32Array(rows)
  if (k === 1) {
    for (let i = 0; i < rows; i++) out[i] = probs[i] >= threshold ? 1 : 0
    return out
  }
  for (let i = 0; i < rows; i++) {
    let best = 0
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c
    out[i] = best
  }
  return out
}

export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  for (let i = 0; i < actual.length; i++) m[actual[i]][predicted[i]]++
  return m
}

/** Area under the ROC curve by the rank statistic (ties get their average rank), as scikit-learn's roc_auc_score. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b])
  let pos = 0
  let rankSum = 0
  for (let i = 0; i < n; ) {
    let j = i
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++
    const avg = (i + j) / 2 + 1
    for (let r = i; r <= j; r++) {
      if (labels[order[r]] === 1) {
        pos++
        rankSum += avg
      }
    }
    i = j + 1
  }
  const neg = n - pos
  if (!pos || !neg) return null
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg)
}

/** ROC and precision-recall points at every distinct score (thinned to about 200 points, ends kept). */
export function curves(labels: ArrayLike<number>, scores: ArrayLike<number>) {
  const n = labels.length
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a])
  let P = 0
  for (let i = 0; i < n; i++) P += labels[i] === 1 ? 1 : 0
  const N = n - P
  const roc: { fpr: number; tpr: number; threshold: number }[] = [{ fpr: 0, tpr: 0, threshold: Infinity }]
  const pr: { recall: number; precision: number; threshold: number }[] = []
  let tp = 0
  let fp = 0
  for (let i = 0; i < n; ) {
    const s = scores[order[i]]
    while (i < n && scores[order[i]] === s) {
      if (labels[order[i]] === 1) tp++
      else fp++
      i++
    }
    roc.push({ fpr: N ? fp / N : 0, tpr: P ? tp / P : 0, threshold: s })
    pr.push({ recall: P ? tp / P : 0, precision: tp / (tp + fp), threshold: s })
  }
  return { roc: thin(roc), pr: thin(pr) }
}

function thin<T>(points: T[]): T[] {
  if (points.length <= CURVE_POINTS) return points
  const step = (points.length - 1) / (CURVE_POINTS - 1)
  const out: T[] = []
  for (let i = 0; i < CURVE_POINTS; i++) out.push(points[Math.round(i * step)])
  return out
}

/** Mean negative log-likelihood; probabilities clipped to [1e-15, 1 - 1e-15] as scikit-learn does. */
export function logLoss(labels: ArrayLike<number>, probs: ArrayLike<number>, k: number): number {
  const n = labels.length
  let sum = 0
  if (k === 1) {
    for (let i = 0; i < n; i++) {
      const p = Math.min(1 - EPS, Math.max(EPS, probs[i]))
      sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p)
    }
  } else {
    for (let i = 0; i < n; i++) {
      // scikit-learn renormalises each row after clipping.
      let z = 0
      for (let c = 0; c < k; c++) z += Math.min(1 - EPS, Math.max(EPS, probs[i * k + c]))
      sum -= Math.log(Math.min(1 - EPS, Math.max(EPS, probs[i * k + labels[i]])) / z)
    }
  }
  return n ? sum / n : NaN
}

const ratio = (a: number, b: number) => (b ? a / b : 0)

/**
 * Every classification metric. `probs` is rows × k with k = the number of classes, or rows × 1 (P(class 1)) for
 * a binary problem; `labels` are class indexes into `classes`.
 */
export function classificationMetrics(labels: ArrayLike<number>, probs: ArrayLike<number>, classes: string[]): ClassificationMetrics {
  const n = labels.length
  const K = classes.length
  const binary = K === 2
  const width = binary && probs.length === n ? 1 : K
  const pred = predictedClasses(probs, n, width)
  const cm = confusionMatrix(labels, pred, K)
  let correct = 0
  for (let c = 0; c < K; c++) correct += cm[c][c]
  const perClass = classes.map((name, c) => {
    const tp = cm[c][c]
    let fp = 0
    let fn = 0
    let support = 0
    for (let o = 0; o < K; o++) {
      if (o !== c) {
        fp += cm[o][c]
        fn += cm[c][o]
      }
      support += cm[c][o]
    }
    const precision = ratio(tp, tp + fp)
    const recall = ratio(tp, tp + fn)
    return { class: name, precision, recall, f1_score: ratio(2 * precision * recall, precision + recall), support }
  })
  const positive = (i: number) => (width === 1 ? probs[i] : probs[i * K + 1])
  let precision: number
  let recall: number
  let f1: number
  let auc: number | null
  let rocCurve: ClassificationMetrics['roc_curve']
  let prCurve: ClassificationMetrics['pr_curve']
  if (binary) {
    ;({ precision, recall, f1_score: f1 } = perClass[1])
    const scores = Float64Array.from({ length: n }, (_, i) => positive(i))
    auc = rocAuc(labels, scores)
    const c = curves(labels, scores)
    rocCurve = c.roc
    prCurve = c.pr
  } else {
    precision = perClass.reduce((s, p) => s + p.precision, 0) / K
    recall = perClass.reduce((s, p) => s + p.recall, 0) / K
    f1 = perClass.reduce((s, p) => s + p.f1_score, 0) / K
    // One-vs-rest macro AUC over the classes present on both sides.
    const aucs: number[] = []
    for (let c = 0; c < K; c++) {
      const y = Int32Array.from({ length: n }, (_, i) => (labels[i] === c ? 1 : 0))
      const s = Float64Array.from({ length: n }, (_, i) => probs[i * K + c])
      const a = rocAuc(y, s)
      if (a !== null) aucs.push(a)
    }
    auc = aucs.length === K ? aucs.reduce((s, a) => s + a, 0) / K : null
  }
  const binaryProbs = width === 1 ? probs : Float64Array.from({ length: n }, (_, i) => positive(i))
  return {
    accuracy: ratio(correct, n),
    precision,
    recall,
    f1_score: f1,
    roc_auc: auc,
    log_loss: logLoss(labels, binary ? binaryProbs : probs, binary ? 1 : K),
    confusion_matrix: cm,
    classes,
    ...(rocCurve ? { roc_curve: rocCurve.map((p) => ({ ...p, threshold: Number.isFinite(p.threshold) ? p.threshold : 1 })), pr_curve: prCurve } : {}),
    per_class: perClass,
    rows: n,
  }
}

/** Linear interpolation between order statistics (numpy's default percentile). */
export function quantile(sorted: ArrayLike<number>, q: number) {
  if (!sorted.length) return NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  const n = actual.length
  let se = 0
  let ae = 0
  let mean = 0
  let ape = 0
  let apeN = 0
  const residuals = new Float64Array(n)
  for (let i = 0; i < n; i++) mean += actual[i] / n
  let tss = 0
  for (let i = 0; i < n; i++) {
    const r = actual[i] - predicted[i]
    residuals[i] = r
    se += r * r
    ae += Math.abs(r)
    tss += (actual[i] - mean) ** 2
    if (actual[i] !== 0) {
      ape += Math.abs(r / actual[i])
      apeN++
    }
  }
  residuals.sort()
  return {
    rmse: Math.sqrt(se / n),
    mae: ae / n,
    r2: tss > 0 ? 1 - se / tss : 0,
    mape: apeN ? ape / apeN : null,
    residual_quantiles: {
      min: residuals[0],
      p5: quantile(residuals, 0.05),
      p25: quantile(residuals, 0.25),
      p50: quantile(residuals, 0.5),
      p75: quantile(residuals, 0.75),
      p95: quantile(residuals, 0.95),
      max: residuals[n - 1],
    },
    rows: n,
  }
}
