import { describe, expect, it } from 'vitest'
import { bumpVersion, compareVersions, planVersion, sameJson, type AssetState } from './versioning.ts'

const base: AssetState = {
  kind: 'model',
  name: 'Customer Churn Predictor',
  description: 'Predicts churn',
  category: 'machine_learning',
  subcategory: null,
  status: 'published',
  configuration: { performance_threshold: 0.85, features: ['tenure', 'plan'], train_id: 3 },
  validation_rules: {},
  pricing: { model: 'per_request', price: 5, currency: 'USD', free_tier: { requests: 50, period: 'monthly' } },
  definition: { model_version_id: 7 },
  input_schema: { tenure: 'integer', plan: 'string' },
}
const next = (over: Partial<AssetState>): AssetState => ({ ...base, ...over })

describe('semantic version bumps', () => {
  it('counts numerically', () => {
    expect(bumpVersion('2.1.0', 'major')).toBe('3.0.0')
    expect(bumpVersion('2.1.7', 'minor')).toBe('2.2.0')
    expect(bumpVersion('2.1.7', 'patch')).toBe('2.1.8')
    expect(compareVersions('1.10.0', '1.9.3')).toBeGreaterThan(0)
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true)
  })

  it("is the spec's example: threshold, two new features and a price → minor, with the changes listed and retraining", () => {
    const p = planVersion(
      base,
      next({
        name: 'Advanced Customer Churn Predictor',
        configuration: { ...base.configuration, performance_threshold: 0.9, additional_features: ['social_media_engagement', 'mobile_app_usage'] },
        pricing: { ...base.pricing, price: 3.5, free_tier: { requests: 75, period: 'monthly' } },
      }),
      '2.1.0',
    )
    expect(p.bump).toBe('minor')
    expect(p.version).toBe('2.2.0')
    expect(p.changes).toEqual(
      expect.arrayContaining(['Updated performance threshold to 0.90', 'Added 2 new features', 'Adjusted pricing to $3.50', 'Free tier set to 75 requests per month']),
    )
    expect(p.requires_retraining).toBe(true)
  })

  it('major when the input schema changes, whatever else does', () => {
    const p = planVersion(base, next({ input_schema: { tenure: 'integer', plan: 'string', calls: 'integer' }, definition: { model_version_id: 9 }, description: 'x' }), '2.1.0')
    expect(p.bump).toBe('major')
    expect(p.version).toBe('3.0.0')
    expect(p.changes[0]).toBe('Changed the input schema: added calls')
    expect(p.definition_changed).toBe(true)
  })

  it('minor when only the model changes under the same inputs', () => {
    const p = planVersion(base, next({ definition: { model_version_id: 9 } }), '1.0.3')
    expect(p).toMatchObject({ bump: 'minor', version: '1.1.0', changes: ['Changed the model'], requires_retraining: false })
  })

  it('patch for metadata: name, description, category, pricing, validation rules', () => {
    for (const over of [{ name: 'X' }, { description: 'y' }, { category: 'forecasting' }, { pricing: { ...base.pricing, price: 1 } }, { validation_rules: { min_data_points: 10 } }]) {
      const p = planVersion(base, next(over), '1.2.3')
      expect(p.bump, JSON.stringify(over)).toBe('patch')
      expect(p.version).toBe('1.2.4')
      expect(p.requires_retraining).toBe(false)
    }
  })

  it('no version for a status change alone, or for nothing', () => {
    expect(planVersion(base, next({ status: 'archived' }), '1.0.0')).toMatchObject({ bump: null, version: '1.0.0', changes: ['Archived'] })
    expect(planVersion(base, next({}), '1.0.0')).toMatchObject({ bump: null, changes: [] })
  })

  it('a sql asset never needs retraining; parameter changes are named', () => {
    const sql = next({ kind: 'sql', configuration: { query: 'select 1', parameters: [{ name: 'region' }] }, input_schema: { region: 'string' } })
    const p = planVersion(sql, { ...sql, configuration: { query: 'select 2', parameters: [{ name: 'region' }, { name: 'since' }] }, input_schema: { region: 'string', since: 'date' } }, '1.0.0')
    expect(p.bump).toBe('major')
    expect(p.changes).toEqual(['Changed the input schema: added since', 'Added 1 parameter (since)', 'Changed the query'])
    expect(p.requires_retraining).toBe(false)
  })
})
