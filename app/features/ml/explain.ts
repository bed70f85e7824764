import { featureColumns, type PreprocessSpec } from './preprocess.ts'
import { margins, shapValues, type LoadedModel } from './scoring.ts'

/*
  Feature importance from SHAP values (TreeSHAP for trees, exact linear SHAP for the baseline): per row, the parts of
  one original column (one-hot categories, date parts) are summed, then the mean |SHAP| per column is taken over the
  rows (and summed over classes for multiclass), and normalised to sum to 1 as the spec's example does. Every call
  checks local accuracy (bias + Σ SHAP = margin, per row and class) and reports the largest error.
*/

export interface FeatureImportance {
  /** Column → share of the total mean |SHAP| (sums to 1), largest first. */
  feature_importance: Record<string, number>
  /** Column → mean |SHAP| in margin units (not normalised). */
  mean_abs_shap: Record<string, number>
  method: 'tree_shap' | 'linear_shap'
  rows: number
  /** The expected margin per output group (the SHAP bias). */
  base_value: number[]
  /** max over rows and groups of |bias + Σ SHAP − margin|. */
  local_accuracy_max_error: number
}

export function featureImportance(m: LoadedModel, spec: PreprocessSpec, x: Float32Array, rows: number): FeatureImportance {
  const F = spec.features.length
  const shap = shapValues(m, x, rows)
  const margin = margins(m, x, rows)
  const owner = featureColumns(spec)
  const names = spec.columns.map((c) => c.column)
  const colIndex = new Map(names.map((n, i) => [n, i]))
  const ownerIndex = Int32Array.from(owner, (n) => colIndex.get(n)!)
  const sums = new Float64Array(names.length)
  const perRow = new Float64Array(names.length)
  const base = new Float64Array(shap.groups)
  let maxError = 0
  for (let i = 0; i < rows; i++) {
    for (let g = 0; g < shap.groups; g++) {
      const at = (i * shap.groups + g) * shap.width
      perRow.fill(0)
      let total = shap.values[at + F]
      for (let f = 0; f < F; f++) {
        const v = shap.values[at + f]
        perRow[ownerIndex[f]] += v
        total += v
      }
      for (let c = 0; c < names.length; c++) sums[c] += Math.abs(perRow[c])
      base[g] += shap.values[at + F] / Math.max(1, rows)
      maxError = Math.max(maxError, Math.abs(total - margin[i * shap.groups + g]))
    }
  }
  const mean = Array.from(sums, (s) => (rows ? s / rows : 0))
  const total = mean.reduce((a, b) => a + b, 0)
  const order = names.map((n, i) => ({ n, v: mean[i] })).sort((a, b) => b.v - a.v || (a.n < b.n ? -1 : 1))
  return {
    feature_importance: Object.fromEntries(order.map(({ n, v }) => [n, total > 0 ? v / total : 0])),
    mean_abs_shap: Object.fromEntries(order.map(({ n, v }) => [n, v])),
    method: m.kind === 'trees' ? 'tree_shap' : 'linear_shap',
    rows,
    base_value: Array.from(base),
    local_accuracy_max_error: maxError,
  }
}
