import { describe, expect, it } from 'vitest'
import { formFieldOf, trainForm } from './forms.ts'
import { trainInput } from './schemas.ts'

function form(entries: [string, string][]) {
  const f = new FormData()
  for (const [k, v] of entries) f.append(k, v)
  return f
}

const base: [string, string][] = [
  ['dataset_id', '7'],
  ['predictor_name', ' churn '],
  ['domain', 'telecom'],
  ['problem_type', 'Classification'],
  ['columns.0.column_name', 'id'],
  ['columns.0.attribute_name', 'Id'],
  ['columns.1.column_name', 'tenure'],
  ['columns.1.attribute_name', 'Feature'],
  ['columns.2.column_name', 'Churn'],
  ['columns.2.attribute_name', 'Target'],
  ['algorithm', 'auto'],
]

describe('the New model form as a POST /train/ body', () => {
  it('keeps the column order, leaves blanks to the defaults and parses with the API schema', () => {
    const body = trainInput.parse(trainForm(form([...base, ['hyperparameters.max_depth', '4'], ['hyperparameters.learning_rate', ''], ['cv_folds', '3'], ['seed', '']])))
    expect(body.columns.map((c) => [c.column_name, c.attribute_name])).toEqual([['id', 'Id'], ['tenure', 'Feature'], ['Churn', 'Target']])
    expect(body.hyperparameters).toEqual({ max_depth: 4 })
    expect(body).toMatchObject({ dataset_id: 7, predictor_name: 'churn', cv_folds: 3, seed: 42, validation_split: 0.2, shap_enabled: true, algorithm: 'auto' })
  })

  it('an unticked SHAP box turns SHAP off; no box at all keeps the default', () => {
    expect(trainInput.parse(trainForm(form([...base, ['shap_field', '1']]))).shap_enabled).toBe(false)
    expect(trainInput.parse(trainForm(form([...base, ['shap_field', '1'], ['shap_enabled', 'on']]))).shap_enabled).toBe(true)
  })

  it('a bad value reaches the schema, which names its field; the field maps back to the form input', () => {
    const r = trainInput.safeParse(trainForm(form([...base, ['hyperparameters.max_depth', '40'], ['validation_split', 'half']])))
    expect(r.success).toBe(false)
    const fields = r.error!.issues.map((i) => i.path.join('.'))
    expect(fields).toEqual(expect.arrayContaining(['hyperparameters.max_depth', 'validation_split']))
    expect(formFieldOf('columns[2].attribute_name')).toBe('columns.2.attribute_name')
    expect(formFieldOf('hyperparameters.max_depth')).toBe('hyperparameters.max_depth')
  })

  it('a Forecast form sends the frequency and the forecast settings; blanks stay out so the API infers or defaults them', () => {
    const forecast: [string, string][] = [
      ['dataset_id', '9'],
      ['predictor_name', 'towers'],
      ['domain', 'network'],
      ['problem_type', 'Forecast'],
      ['columns.0.column_name', 'timestamp'],
      ['columns.0.attribute_name', 'Timestamp'],
      ['columns.1.column_name', 'tower_id'],
      ['columns.1.attribute_name', 'UniqueId'],
      ['columns.2.column_name', 'traffic_load_gbps'],
      ['columns.2.attribute_name', 'Target'],
      ['algorithm', 'auto'],
    ]
    const body = trainInput.parse(trainForm(form([...forecast, ['frequency', 'Hour'], ['forecast.horizon', '6'], ['forecast.origins', '1'], ['forecast.season_length', ''], ['forecast.selection', 'per_series']])))
    expect(body).toMatchObject({ problem_type: 'Forecast', frequency: 'Hour', forecast: { horizon: 6, origins: 1, selection: 'per_series' } })
    expect(body.forecast).not.toHaveProperty('season_length')
    expect(body.columns.map((c) => c.attribute_name)).toEqual(['Timestamp', 'UniqueId', 'Target'])
    const blank = trainInput.parse(trainForm(form([...forecast, ['frequency', ''], ['forecast.horizon', '']])))
    expect(blank.frequency).toBeUndefined()
    expect(blank.forecast).toEqual({})
    // a bad horizon is named by the schema as the form's own input name
    const r = trainInput.safeParse(trainForm(form([...forecast, ['forecast.horizon', '0'], ['forecast.origins', 'two']])))
    expect(r.success).toBe(false)
    const fields = r.error!.issues.map((i) => formFieldOf(i.path.join('.')))
    expect(fields).toEqual(expect.arrayContaining(['forecast.horizon', 'forecast.origins']))
  })
})
