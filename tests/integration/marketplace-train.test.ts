import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import '#app/features/marketplace/jobs.server.ts'
import '#app/features/ml/jobs.server.ts'
import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { transformRecord } from '#app/features/ml/preprocess.ts'
import { loadModel, predict } from '#app/features/ml/scoring.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { churnRows, FAST, uploadChurn, waitForTraining, type ChurnRow } from '#tests/support/ml.ts'

vi.hoisted(() => {
  process.env.HD_DEPLOY_TICK_SECONDS = '0.2'
})

/*
  POST /assets/{asset_id}/train through the real training module on a real worker (decision 063): the request resolved
  against the asset's current training, the spec's progress and results, auto_deploy gated by performance_threshold
  (below it the version waits as a candidate; reaching it, a blue-green deployment health-checked on consumers'
  recorded inputs), training_period as a real row filter, the logs, and what another tenant cannot do. The metrics in
  the results are the new model's as ml's model summary reports them and as its confusion matrix recounts them; the
  deployed version's answers are the downloaded new model's.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let rows: ChurnRow[]
let trainId: number
let asset: string
const V1 = '/api/v1/analytics'

async function call(user: TestUser, p: string, init: RequestInit & { json?: unknown } = {}) {
  return json(app.fetch(p, { ...init, headers: { ...user.auth, ...(init.headers as Record<string, string>) } }))
}
const churnInput = (r: ChurnRow) => ({ CustomerID: r.CustomerID, Plan: r.Plan, Tenure: r.Tenure, SignupDate: r.SignupDate, Paperless: r.Paperless, MonthlyCharges: r.MonthlyCharges, SupportCalls: r.SupportCalls })
const train = (body: unknown, user = a.data_scientist, id = asset) => call(user, `${V1}/assets/${id}/train`, { method: 'POST', json: body })

async function finished(jobId: string, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    const r = await call(a.viewer, `${V1}/training-jobs/${jobId}`)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    if (['completed', 'failed', 'cancelled'].includes(r.body.data.status)) return r.body.data
    if (Date.now() > end) throw new Error(`still ${JSON.stringify(r.body.data)}`)
    await new Promise((res) => setTimeout(res, 250))
  }
}

const summary = async (id: number) => (await call(a.viewer, `/api/v1/train/model-summary?train_id=${id}`)).body

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  rows = churnRows(1000)
  const datasetId = await uploadChurn(app, a.admin, 'mk_train_churn', rows)
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  const t = await call(a.data_scientist, '/api/v1/train/', {
    method: 'POST',
    json: {
      dataset_id: datasetId,
      predictor_name: 'mk_train_model',
      domain: 'Churn',
      problem_type: 'Classification',
      algorithm: 'xgboost',
      columns: [
        { column_name: 'CustomerID', attribute_name: 'Id' },
        { column_name: 'Churn', attribute_name: 'Target' },
      ],
      shap_enabled: false,
      hyperparameters: FAST,
    },
  })
  expect(t.status, JSON.stringify(t.body)).toBe(201)
  trainId = t.body.id
  expect((await waitForTraining(app, a.viewer, trainId)).status).toBe('completed')
  const r = await call(a.data_scientist, `${V1}/assets`, { method: 'POST', json: { name: 'Churn', category: 'machine_learning', configuration: { train_id: trainId } } })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  asset = r.body.data.asset_id
  expect((await call(a.admin, `${V1}/assets/${asset}`, { method: 'PATCH', json: { status: 'published' } })).status).toBe(200)
  // consumers' executions: the inputs a blue-green health check runs a new version on
  for (const row of rows.slice(0, 5)) expect((await call(b.operator, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: churnInput(row) } })).status).toBe(200)
}, 240_000)

afterAll(async () => {
  await stopWorker({ timeoutMs: 2000 })
  await app?.close()
})

describe('failure paths', () => {
  it('bad bodies 400/422 naming the field; another tenant, a viewer, an unknown asset; nothing written', async () => {
    const count = async () => (await app.db.query(`select (select count(*) from public.asset_trainings)::int + (select count(*) from public.training_jobs)::int as n`)).rows[0].n
    const before = await count()
    const cases: [unknown, number, string][] = [
      [{ training_config: { algorithm: 'prophet' } }, 400, 'training_config.algorithm'],
      [{ training_config: { validation_split: 0.9 } }, 400, 'training_config.validation_split'],
      [{ training_config: { hyperparameters: { max_depth: 100 } } }, 400, 'training_config.hyperparameters.max_depth'],
      [{ training_config: { cross_validation_folds: 1 } }, 400, 'training_config.cross_validation_folds'],
      [{ data_config: { target_variable: 'Nope' } }, 400, 'data_config.target_variable'],
      [{ data_config: { feature_selection: ['Tenure', 'Nope'] } }, 400, 'data_config.feature_selection.1'],
      [{ data_config: { feature_selection: ['Churn'] } }, 400, 'data_config.feature_selection.0'],
      [{ data_config: { feature_selection: 'some' } }, 400, 'data_config.feature_selection'],
      [{ data_config: { training_period: { start_date: '2024-01-01', end_date: '2023-01-01' } } }, 400, 'data_config.training_period.end_date'],
      [{ data_config: { training_period: { start_date: '2024-02-30' } } }, 400, 'data_config.training_period.start_date'],
      [{ data_config: { training_period: { start_date: '2030-01-01' } } }, 422, 'data_config.training_period'],
      [{ data_config: { training_period: { date_column: 'Tenure' } } }, 400, 'data_config.training_period.date_column'],
      [{ data_config: { dataset_id: 999999 } }, 400, 'data_config.dataset_id'],
      [{ deployment_config: { performance_threshold: 2 } }, 400, 'deployment_config.performance_threshold'],
      [{ deployment_config: { deployment_strategy: 'rolling' } }, 400, 'deployment_config.deployment_strategy'],
      [{ deployment_config: { metric: 'mape' } }, 400, 'deployment_config.metric'],
    ]
    for (const [body, status, field] of cases) {
      const r = await train(body)
      expect(r.status, JSON.stringify(body) + JSON.stringify(r.body)).toBe(status)
      expect(r.body.error.details.fields?.[0]?.field ?? r.body.error.details.field, JSON.stringify(body)).toBe(field)
    }
    expect((await train({}, b.admin)).status).toBe(403)
    expect((await train({}, a.viewer)).status).toBe(403)
    expect((await train({}, a.data_scientist, 'asset_000000000000')).status).toBe(404)
    expect(await count()).toBe(before)
    expect((await call(a.viewer, `${V1}/training-jobs/job_000000000000`)).status).toBe(404)
    expect((await call(a.viewer, `${V1}/training-jobs/nope`)).status).toBe(400)
  })
})

describe('training and auto-deploy', () => {
  let belowJob: string

  it('below performance_threshold the new version is not deployed: it waits as a candidate', async () => {
    const r = await train({
      training_config: { algorithm: 'xgboost', hyperparameters: { n_estimators: 20, max_depth: 3 }, validation_split: 0.25 },
      data_config: { feature_selection: 'auto', target_variable: 'Churn' },
      deployment_config: { auto_deploy: true, performance_threshold: 0.999, rollback_on_failure: true },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    expect(r.body.data).toMatchObject({
      training_job_id: expect.stringMatching(/^job_/),
      asset_id: asset,
      status: 'started',
      estimated_duration: expect.stringMatching(/^\d+_minutes$/),
      progress: { current_step: 'data_preparation', steps_total: 5, percentage_complete: 0 },
    })
    belowJob = r.body.data.training_job_id
    const d = await finished(belowJob)
    expect(d.status, JSON.stringify(d)).toBe('completed')
    expect(d.progress).toMatchObject({ current_step: 'deployment', steps_completed: 5, steps_total: 5, percentage_complete: 100 })
    expect(d.results).toMatchObject({ deployment_status: 'below_threshold', model_version: '1.1.0', version_status: 'candidate', metric: { name: 'accuracy', threshold: 0.999, reached: false } })
    // the new model's accuracy, as ml reports it and as its confusion matrix recounts it
    const s = await summary(d.training_id)
    expect(s.params).toMatchObject({ n_estimators: 20, max_depth: 3 })
    expect(d.results.model_performance.accuracy).toBe(s.metrics.accuracy)
    const cm: number[][] = s.confusion_matrix
    const total = cm.flat().reduce((x, y) => x + y, 0)
    expect(total).toBe(s.data.validation_rows)
    expect(d.results.model_performance.accuracy).toBeCloseTo(cm.reduce((t, row, i) => t + row[i], 0) / total, 12)
    expect(d.results.metric.value).toBeLessThan(0.999)
    const v = await call(a.viewer, `${V1}/assets/${asset}/versions`)
    expect(v.body.data.map((x: { version: string; status: string }) => [x.version, x.status])).toEqual([
      ['1.1.0', 'candidate'],
      ['1.0.0', 'active'],
    ])
    expect(v.body.data[0].version_notes).toMatch(/^Retrained \(training \d+, job_\w+\): accuracy 0\.\d{4} \(was 0\.\d{4} in 1\.0\.0\)$/)
    expect((await call(b.operator, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: churnInput(rows[9]) } })).body.data.metadata.model_version).toBe('1.0.0')
  }, 150_000)

  it('reaching performance_threshold deploys blue-green: health-checked on recorded inputs, then all traffic', async () => {
    const r = await train({
      training_config: { hyperparameters: { n_estimators: 30 } },
      deployment_config: { auto_deploy: true, performance_threshold: 0.5, rollback_threshold: { error_rate: 0.2 }, monitor_seconds: 1 },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    const d = await finished(r.body.data.training_job_id)
    expect(d.status, JSON.stringify(d)).toBe('completed')
    expect(d.results).toMatchObject({ deployment_status: 'successful', model_version: '1.2.0', version_status: 'active', metric: { name: 'accuracy', threshold: 0.5, reached: true }, deployment_id: expect.stringMatching(/^deploy_/) })
    expect(d.results.metric.value).toBe((await summary(d.training_id)).metrics.accuracy)
    const dep = (await call(a.viewer, `${V1}/deployments/${d.results.deployment_id}`)).body.data
    expect(dep).toMatchObject({ status: 'completed', strategy: 'blue_green', version: '1.2.0', from_version: '1.0.0', rollback_threshold: { error_rate: 0.2 }, health_check: { ok: true, failed: 0 } })
    const { rows: recorded } = await app.db.query(`select count(*)::int as n from public.asset_sample_inputs where asset_id = $1`, [asset])
    expect(dep.health_check.samples).toBe(recorded[0].n)
    expect(recorded[0].n).toBe(6)
    const v = await call(a.viewer, `${V1}/assets/${asset}/versions`)
    expect(Object.fromEntries(v.body.data.map((x: { version: string; status: string }) => [x.version, x.status]))).toEqual({ '1.2.0': 'active', '1.1.0': 'deprecated', '1.0.0': 'deprecated' })
    // consumers now get the new model's answer: the downloaded model's probability
    const e = await call(b.operator, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: churnInput(rows[11]) } })
    expect(e.body.data.metadata.model_version).toBe('1.2.0')
    const { rows: s } = await app.db.query<{ spec: PreprocessSpec }>(`select p.spec from public.training_jobs t join public.preprocesses p on p.id = t.preprocess_id where t.id = $1`, [d.training_id])
    const dl = await app.fetch(`/api/v1/train/download-model/${d.training_id}`, { headers: a.viewer.auth })
    const model = loadModel(dl.headers.get('x-model-format') as 'xgboost-binary', new Uint8Array(await dl.arrayBuffer()))
    const p = predict(model, transformRecord(s[0].spec, rows[11] as unknown as Record<string, unknown>), 1)[0]
    expect(e.body.data.results.churn_probability).toBeCloseTo(p, 12)
    // the log: the ml training's lines, the asset job's and the deployment's
    const logs = await call(a.viewer, `${V1}/training-jobs/${r.body.data.training_job_id}/logs`)
    expect(logs.status).toBe(200)
    const sources = new Set(logs.body.data.logs.map((l: { source: string }) => l.source))
    expect(sources).toEqual(new Set(['asset', 'training', 'deployment']))
    expect(logs.body.data.logs.some((l: { message: string }) => /^evaluation: accuracy 0\.\d{4}/.test(l.message))).toBe(true)
    // another tenant reads neither
    expect((await call(b.admin, `${V1}/training-jobs/${r.body.data.training_job_id}`)).status).toBe(404)
    expect((await call(b.admin, `${V1}/training-jobs/${r.body.data.training_job_id}/logs`)).status).toBe(404)
  }, 150_000)

  it('training_period trains on the rows of the period only; without auto_deploy nothing is deployed', async () => {
    const r = await train({ data_config: { training_period: { start_date: '2021-01-01', end_date: '2022-12-31' }, feature_selection: ['Tenure', 'Plan', 'MonthlyCharges'] }, deployment_config: { rollback_on_failure: false } })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    const d = await finished(r.body.data.training_job_id)
    expect(d.status, JSON.stringify(d)).toBe('completed')
    expect(d.results).toMatchObject({ deployment_status: 'not_requested', model_version: '2.0.0', version_status: 'candidate' })
    const s = await summary(d.training_id)
    expect(s.data.rows).toBe(rows.filter((x) => x.SignupDate >= '2021-01-01' && x.SignupDate <= '2022-12-31').length)
    const { rows: cols } = await app.db.query(`select columns from public.training_jobs where id = $1`, [d.training_id])
    expect(cols[0].columns.filter((c: { attribute_name: string }) => c.attribute_name === 'Feature').map((c: { column_name: string }) => c.column_name)).toEqual(['Plan', 'Tenure', 'MonthlyCharges'])
    // fewer features: a major version (the input schema changed)
    const v = await call(a.viewer, `${V1}/assets/${asset}/versions`)
    expect(v.body.data[0]).toMatchObject({ version: '2.0.0', status: 'candidate' })
    expect(v.body.data[0].changes[0]).toMatch(/^Changed the input schema: removed /)
  }, 150_000)
})
