import jStat from 'jstat'
import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'

/*
  What a model asset answers beyond the prediction, pure and tested beside:
  - key factors: the record's SHAP values (margin scale) summed per input column (a one-hot column's features
    together), ranked by |φ|; importance is the column's share of Σ|φ|; direction says which way it pushes
    ('risk' raises P(positive), 'protective' lowers it; 'increases' / 'decreases' for regression).
  - risk level: P(positive) against the asset's stated thresholds (default medium 0.33, high 0.66).
  - confidence interval: classification, the Wilson score interval of the probability at the model's validation
    size (how precisely a rate of p is known from that many held-out rows); regression, prediction ± z·RMSE on the
    validation rows. Both are documented approximations (decision 060), not a posterior.
*/

export interface KeyFactor {
  factor: string
  importance: number
  direction: 'risk' | 'protective' | 'increases' | 'decreases'
  contribution: number
}

/** `phi`: one record's SHAP values for one output group, features + 1 long (bias last). */
export function keyFactors(spec: PreprocessSpec, phi: ArrayLike<number>, top: number): KeyFactor[] {
  const perColumn = spec.columns.map((c) => ({ column: c.column, value: c.features.reduce((s, f) => s + phi[f], 0) }))
  const total = perColumn.reduce((s, c) => s + Math.abs(c.value), 0)
  const classification = spec.problem_type === 'Classification'
  return perColumn
    .filter((c) => c.value !== 0)
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || (a.column < b.column ? -1 : 1))
    .slice(0, top)
    .map((c) => ({
      factor: c.column,
      importance: total > 0 ? Math.abs(c.value) / total : 0,
      direction: classification ? (c.value > 0 ? 'risk' : 'protective') : c.value > 0 ? 'increases' : 'decreases',
      contribution: c.value,
    }))
}

export interface RiskThresholds {
  medium: number
  high: number
}
export const DEFAULT_RISK: RiskThresholds = { medium: 0.33, high: 0.66 }

export function riskLevel(p: number, t: RiskThresholds = DEFAULT_RISK): 'low' | 'medium' | 'high' {
  return p >= t.high ? 'high' : p >= t.medium ? 'medium' : 'low'
}

const zOf = (level: number) => jStat.normal.inv(1 - (1 - level) / 2, 0, 1)

/** Wilson score interval of a proportion p observed over n rows. */
export function wilsonInterval(p: number, n: number, level = 0.95): { lower: number; upper: number } {
  if (!(n > 0)) return { lower: 0, upper: 1 }
  const z = zOf(level)
  const z2 = z * z
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n)
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) }
}

export function normalInterval(value: number, rmse: number, level = 0.95): { lower: number; upper: number } {
  const h = zOf(level) * rmse
  return { lower: value - h, upper: value + h }
}

/** Output column name of the positive class probability: `churn_probability` for a target `Churn`. */
export function probabilityName(target: string) {
  return `${target.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toLowerCase() || 'positive'}_probability`
}
export function predictedName(target: string) {
  return `predicted_${target.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toLowerCase() || 'value'}`
}
