import { describe, expect, it } from 'vitest'
import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { keyFactors, normalInterval, probabilityName, riskLevel, wilsonInterval } from './prediction.ts'

const spec = {
  problem_type: 'Classification',
  columns: [
    { column: 'Plan', features: [0, 1, 2] },
    { column: 'Tenure', features: [3] },
    { column: 'SupportCalls', features: [4] },
  ],
} as unknown as PreprocessSpec

describe('key factors from SHAP values', () => {
  it("sums a one-hot column's features, ranks by |φ|, shares of Σ|φ|, direction by sign", () => {
    const phi = [0.1, -0.3, 0.05, -0.9, 0.45, -1.2 /* bias */]
    const f = keyFactors(spec, phi, 5)
    expect(f.map((x) => x.factor)).toEqual(['Tenure', 'SupportCalls', 'Plan'])
    const total = 0.9 + 0.45 + 0.15
    expect(f[0]).toMatchObject({ direction: 'protective' })
    expect(f[0].importance).toBeCloseTo(0.9 / total, 12)
    expect(f[1]).toMatchObject({ direction: 'risk' })
    expect(f[2].contribution).toBeCloseTo(-0.15, 12)
    expect(f.reduce((s, x) => s + x.importance, 0)).toBeCloseTo(1, 12)
    expect(keyFactors(spec, phi, 1)).toHaveLength(1)
  })
})

describe('risk level and intervals', () => {
  it('risk by the stated thresholds', () => {
    expect(riskLevel(0.2)).toBe('low')
    expect(riskLevel(0.5)).toBe('medium')
    expect(riskLevel(0.7)).toBe('high')
    expect(riskLevel(0.5, { medium: 0.6, high: 0.8 })).toBe('low')
  })

  it('Wilson interval as computed by hand (statsmodels proportion_confint method="wilson" gives the same)', () => {
    // p = 0.23, n = 300, z = 1.959964: centre (0.23 + z²/600)/(1 + z²/300), half z/(1+z²/300)·√(p(1-p)/300 + z²/360000)
    const z = 1.959963984540054
    const centre = (0.23 + (z * z) / 600) / (1 + (z * z) / 300)
    const half = (z / (1 + (z * z) / 300)) * Math.sqrt((0.23 * 0.77) / 300 + (z * z) / 360000)
    const w = wilsonInterval(0.23, 300)
    expect(w.lower).toBeCloseTo(centre - half, 10)
    expect(w.upper).toBeCloseTo(centre + half, 10)
    expect(w.lower).toBeCloseTo(0.18597181807303012, 9) // statsmodels proportion_confint(69, 300, method='wilson')
    expect(w.upper).toBeCloseTo(0.28085538638822466, 9)
    expect(normalInterval(10, 2).upper).toBeCloseTo(10 + z * 2, 10)
  })

  it('names the output after the target', () => {
    expect(probabilityName('Churn')).toBe('churn_probability')
    expect(probabilityName('churned 90 days')).toBe('churned_90_days_probability')
  })
})
