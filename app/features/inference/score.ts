import { featureColumns, type PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { margins, shapValues, type LoadedModel } from '#app/features/ml/scoring.ts'
import { marginsToOutputs } from '#app/features/ml/tree-model.ts'

/*
  Scoring a matrix the preprocess made, for real time (one row) and batch (a page of rows) alike, so the two give the
  same answer by construction: the predicted class and its probability (classification) or the value and an interval
  (regression), and SHAP contributions summed back to the original columns (one-hot and date parts add up to their
  column). Contributions explain the predicted class's margin (log-odds for binary, the class score for multiclass,
  the value for regression): bias + Σ contributions = that margin, per row (local accuracy). Pure: no database.
*/

/** Residual quantiles of the held-out rows (actual − predicted), as training stores them for a regression model. */
export interface ResidualQuantiles {
  p5: number
  p95: number
}

export interface Scored {
  rows: number
  groups: number
  /** Classification: index of the predicted class per row. */
  classIndex: Int32Array | null
  /** rows × classes probabilities (classification). */
  probabilities: Float64Array | null
  /** The prediction (regression) or the predicted class's probability (classification). */
  value: Float64Array
  /** The explained margin per row (bias + Σ contributions). */
  margin: Float64Array
  /** Column contributions, rows × columns (order of spec.columns), toward the predicted class / value. */
  contributions: Float64Array | null
  /** Bias (expected margin) per row. */
  bias: Float64Array | null
}

/** Probability threshold of a binary prediction: the positive class from 0.5 on. */
export const BINARY_THRESHOLD = 0.5

export function scoreMatrix(spec: PreprocessSpec, m: LoadedModel, x: Float32Array, rows: number, opts: { explain: boolean }): Scored {
  const F = spec.features.length
  if (F !== m.features) throw new Error(`the model reads ${m.features} features, the preprocess makes ${F}`)
  const g = m.groups
  const raw = margins(m, x, rows)
  const out = marginsToOutputs(m.objective, raw, g)
  const classification = !!spec.target.classes
  const classIndex = classification ? new Int32Array(rows) : null
  const value = new Float64Array(rows)
  const margin = new Float64Array(rows)
  // Binary: one margin (log-odds of classes[1]); the negative class's margin is its negation.
  const sign = new Float64Array(rows).fill(1)
  const group = new Int32Array(rows)
  for (let i = 0; i < rows; i++) {
    if (!classification) {
      value[i] = out[i]
      margin[i] = raw[i]
    } else if (g === 1) {
      const positive = out[i] >= BINARY_THRESHOLD
      classIndex![i] = positive ? 1 : 0
      value[i] = positive ? out[i] : 1 - out[i]
      sign[i] = positive ? 1 : -1
      margin[i] = sign[i] * raw[i]
    } else {
      let best = 0
      for (let k = 1; k < g; k++) if (out[i * g + k] > out[i * g + best]) best = k
      classIndex![i] = best
      value[i] = out[i * g + best]
      group[i] = best
      margin[i] = raw[i * g + best]
    }
  }
  let probabilities: Float64Array | null = null
  if (classification) {
    const K = spec.target.classes!.length
    probabilities = new Float64Array(rows * K)
    for (let i = 0; i < rows; i++) {
      if (g === 1) {
        probabilities[i * K] = 1 - out[i]
        probabilities[i * K + 1] = out[i]
      } else for (let k = 0; k < K; k++) probabilities[i * K + k] = out[i * g + k]
    }
  }
  if (!opts.explain) return { rows, groups: g, classIndex, probabilities, value, margin, contributions: null, bias: null }

  const shap = shapValues(m, x, rows)
  const C = spec.columns.length
  const colOf = featureColumns(spec)
  const colIndex = new Map(spec.columns.map((c, j) => [c.column, j]))
  const featureToCol = Int32Array.from(colOf, (name) => colIndex.get(name)!)
  const contributions = new Float64Array(rows * C)
  const bias = new Float64Array(rows)
  const W = shap.width
  for (let i = 0; i < rows; i++) {
    const at = (i * shap.groups + group[i]) * W
    const s = sign[i]
    for (let f = 0; f < F; f++) contributions[i * C + featureToCol[f]] += s * shap.values[at + f]
    bias[i] = s * shap.values[at + F]
  }
  return { rows, groups: g, classIndex, probabilities, value, margin, contributions, bias }
}

/** The prediction's label: the class name (classification) or the value. */
export function predictionOf(spec: PreprocessSpec, s: Scored, i: number): string | number {
  return s.classIndex ? spec.target.classes![s.classIndex[i]] : s.value[i]
}

export interface Reason {
  feature: string
  shap: number
  direction: 'increases' | 'decreases'
}

/** The k columns that moved row i's margin most (by |contribution|), largest first; zero contributions left out. */
export function topReasons(spec: PreprocessSpec, s: Scored, i: number, k: number): Reason[] {
  if (!s.contributions) return []
  const C = spec.columns.length
  const idx: number[] = []
  for (let j = 0; j < C; j++) if (s.contributions[i * C + j] !== 0) idx.push(j)
  idx.sort((a, b) => Math.abs(s.contributions![i * C + b]) - Math.abs(s.contributions![i * C + a]) || a - b)
  return idx.slice(0, k).map((j) => {
    const v = s.contributions![i * C + j]
    return { feature: spec.columns[j].column, shap: v, direction: v > 0 ? 'increases' : 'decreases' }
  })
}

/** A regression interval from the held-out residual quantiles: [value + p5, value + p95], 90 % nominal. */
export function intervalOf(value: number, q: ResidualQuantiles | null): { lower: number; upper: number; confidence: number } | null {
  if (!q || !Number.isFinite(q.p5) || !Number.isFinite(q.p95)) return null
  return { lower: value + q.p5, upper: value + q.p95, confidence: 0.9 }
}
