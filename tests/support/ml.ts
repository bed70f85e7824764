import { expect } from 'vitest'
import { seededRandom } from '#app/features/ml/split.ts'
import { createTemplate, json, uploadCsv, type TestApp, type TestUser } from './app.ts'

/*
  Training test data: a churn-shaped CSV (an id, a plan, numbers with gaps, a flag, a date, a Boolean target that
  depends on them) generated from a seed, uploaded as a validated dataset; and a wait for a training to finish.
*/

export const CHURN_SCHEMA = [
  { column_name: 'CustomerID', data_type: 'String' },
  { column_name: 'Plan', data_type: 'String' },
  { column_name: 'Tenure', data_type: 'Integer' },
  { column_name: 'MonthlyCharges', data_type: 'Float' },
  { column_name: 'SupportCalls', data_type: 'Integer' },
  { column_name: 'Paperless', data_type: 'Boolean' },
  { column_name: 'SignupDate', data_type: 'Date' },
  { column_name: 'Churn', data_type: 'Boolean' },
]

export interface ChurnRow {
  CustomerID: string
  Plan: string
  Tenure: number
  MonthlyCharges: number | null
  SupportCalls: number
  Paperless: boolean
  SignupDate: string
  Churn: boolean
}

export function churnRows(n: number, seed = 3): ChurnRow[] {
  const rng = seededRandom(seed)
  const plans = ['Basic', 'Standard', 'Premium']
  return Array.from({ length: n }, (_, i) => {
    const plan = plans[Math.floor(rng() * 3)]
    const tenure = Math.floor(rng() * 72)
    const charges = rng() < 0.05 ? null : Math.round((20 + rng() * 90) * 100) / 100
    const calls = Math.floor(rng() * rng() * 10)
    const paperless = rng() < 0.6
    const signup = new Date(Date.UTC(2020, 0, 1) + Math.floor(rng() * 1500) * 86400000).toISOString().slice(0, 10)
    const z = -1.2 + (plan === 'Basic' ? 0.9 : plan === 'Premium' ? -0.7 : 0) - tenure / 30 + (charges ?? 60) / 60 + calls * 0.35 + (paperless ? 0.3 : 0) + (rng() - 0.5)
    return { CustomerID: `C${String(i + 1).padStart(6, '0')}`, Plan: plan, Tenure: tenure, MonthlyCharges: charges, SupportCalls: calls, Paperless: paperless, SignupDate: signup, Churn: z > 0 }
  })
}

export function churnCsv(rows: ChurnRow[]) {
  return 'CustomerID,Plan,Tenure,MonthlyCharges,SupportCalls,Paperless,SignupDate,Churn\n' + rows.map((r) => [r.CustomerID, r.Plan, r.Tenure, r.MonthlyCharges ?? '', r.SupportCalls, r.Paperless, r.SignupDate, r.Churn].join(',')).join('\n') + '\n'
}

/** Uploads the rows as a validated dataset of `user`'s tenant; returns its id. */
export async function uploadChurn(app: TestApp, user: TestUser, name: string, rows: ChurnRow[]) {
  const templateId = await createTemplate(app, user, `${name} template`, CHURN_SCHEMA)
  const up = await uploadCsv(app, user, `dataset_name=${name}&usage=train&template_id=${templateId}&iceberg_table_name=${name.replace(/[^a-z0-9_]/g, '_')}`, churnCsv(rows), `${name}.csv`)
  expect(up.status, JSON.stringify(up.body)).toBe(201)
  return up.body.dataset_id as number
}

/** Polls the list until the training leaves submitted/running. */
export async function waitForTraining(app: TestApp, user: TestUser, id: number, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const r = await json(app.fetch('/api/v1/train/list?limit=500', { headers: user.auth }))
    const t = r.body.data.find((x: { id: number }) => x.id === id)
    if (t && !['submitted', 'running'].includes(t.status)) return t
    if (Date.now() > until) throw new Error(`training ${id} still ${t?.status} after ${timeoutMs} ms: ${JSON.stringify(t)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

export const FAST = { n_estimators: 40, max_depth: 4 }

/** Trains the churn classifier (XGBoost, FAST, no SHAP) on an uploaded churn dataset; resolves with the training id once completed. */
export async function trainChurn(app: TestApp, user: TestUser, viewer: TestUser, datasetId: number, predictorName: string) {
  const t = await json(
    app.fetch('/api/v1/train/', {
      method: 'POST',
      headers: user.auth,
      json: {
        dataset_id: datasetId,
        predictor_name: predictorName,
        domain: 'Churn',
        problem_type: 'Classification',
        algorithm: 'xgboost',
        columns: [
          { column_name: 'CustomerID', data_type: 'String', attribute_name: 'Id' },
          { column_name: 'Churn', data_type: 'Boolean', attribute_name: 'Target' },
        ],
        shap_enabled: false,
        hyperparameters: FAST,
      },
    }),
  )
  expect(t.status, JSON.stringify(t.body)).toBe(201)
  const done = await waitForTraining(app, viewer, t.body.id)
  expect(done.status, JSON.stringify(done)).toBe('completed')
  return t.body.id as number
}
