import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/env.server.ts'
import { signAccessToken } from '#app/features/auth/auth.server.ts'
import { signTrainerToken } from '#app/features/ml/engines.server.ts'
import { featureImportance } from '#app/features/ml/explain.ts'
import '#app/features/ml/jobs.server.ts'
import { transformRecord, type PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { loadModel } from '#app/features/ml/scoring.ts'
import { stratifiedHoldout } from '#app/features/ml/split.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { fakeRayJobsApi } from '#tests/support/fake-ray.ts'
import { serveApp } from '#tests/support/http.ts'
import { churnRows, uploadChurn, waitForTraining, type ChurnRow } from '#tests/support/ml.ts'
import { pythonMissing, skipReason } from '#tests/support/python.ts'

/*
  External trainers: the repository's Python entrypoint (native XGBoost) run as a plain process, and submitted
  through Ray's Jobs REST API to a double of it (no Ray cluster can run here). Both fetch their input and post back
  over real HTTP to the real routes; the registry scores the posted model itself. Then the callbacks' guards: who may
  post, what is validated, idempotency.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let rows: ChurnRow[]
let datasetId: number
let server: Awaited<ReturnType<typeof serveApp>>
let ray: Awaited<ReturnType<typeof fakeRayJobsApi>>

const setEnv = (vars: Record<string, string | undefined>) => {
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]
  else process.env[k] = v
  resetEnvCache()
}

async function start(engine: string, over: Record<string, unknown> = {}) {
  const r = await json(
    app.fetch('/api/v1/train/', {
      method: 'POST',
      headers: a.data_scientist.auth,
      json: {
        dataset_id: datasetId,
        predictor_name: `ext-${Math.random().toString(36).slice(2, 8)}`,
        domain: 'Churn',
        problem_type: 'Classification',
        columns: [{ column_name: 'Churn', attribute_name: 'Target' }, { column_name: 'CustomerID', attribute_name: 'Id' }],
        engine,
        hyperparameters: { n_estimators: 60, max_depth: 4 },
        ...over,
      },
    }),
  )
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body as { id: number; job_id: string; training_status: string }
}

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  rows = churnRows(1200, 5)
  datasetId = await uploadChurn(app, a.admin, 'churn_ext', rows)
  server = await serveApp(app)
  ray = await fakeRayJobsApi()
  setEnv({ HD_CALLBACK_URL: server.url })
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
})
afterAll(async () => {
  setEnv({ HD_CALLBACK_URL: undefined, RAY_ADDRESS: undefined })
  await stopWorker({ timeoutMs: 2000 })
  await ray.close()
  await server.close()
  await app.close()
})

/** Our TreeSHAP importance of a model on the training's held-out rows, re-derived from the CSV rows. */
async function ourImportance(trainId: number) {
  const { rows: r } = await app.db.query<{ spec: PreprocessSpec }>(`select p.spec from public.preprocesses p join public.training_jobs t on t.preprocess_id = p.id where t.id = $1`, [trainId])
  const spec = r[0].spec
  const dl = await app.fetch(`/api/v1/train/download-model/${trainId}`, { headers: a.viewer.auth })
  const model = loadModel('xgboost-json', new Uint8Array(await dl.arrayBuffer()))
  const holdout = stratifiedHoldout(Int32Array.from(rows, (x) => (x.Churn ? 1 : 0)), 0.2, 42)
  const F = spec.features.length
  const x = new Float32Array(holdout.valid.length * F)
  holdout.valid.forEach((i, k) => x.set(transformRecord(spec, rows[i] as unknown as Record<string, unknown>), k * F))
  return featureImportance(model, spec, x, holdout.valid.length)
}

const noXgb = pythonMissing(['xgboost', 'numpy'])
describe.skipIf(skipReason(noXgb, 'external trainer (python3-xgboost)'))('native XGBoost as the external trainer', () => {
  it('engine python: a plain process trains, posts its model and SHAP back over HTTP; the registry scores the model itself', async () => {
    const t = await start('python')
    expect(t.training_status).toBe('submitted')
    const done = await waitForTraining(app, a.viewer, t.id, 120_000)
    expect(done.status, JSON.stringify(done)).toBe('completed')
    const s = await json(app.fetch(`/api/v1/train/model-summary?train_id=${t.id}`, { headers: a.viewer.auth }))
    expect(s.body).toMatchObject({ trained_by: 'python', format: 'xgboost-json', algorithm: 'XGBoost', model_summary: { model: 'XGBoostClassifier' } })
    // What the trainer claimed equals what we computed from its model on the same rows.
    const reported = s.body.params.reported_metrics
    expect(s.body.metrics.accuracy).toBeCloseTo(reported.accuracy, 12)
    expect(s.body.metrics.roc_auc).toBeCloseTo(reported.roc_auc, 9)
    expect(s.body.metrics.log_loss).toBeCloseTo(reported.log_loss, 5)
    expect(s.body.metrics.roc_auc).toBeGreaterThan(0.8)
    // Its SHAP (pred_contribs) is ours (TreeSHAP) on the same held-out rows.
    const fi = await json(app.fetch(`/api/v1/train/view-feature-importance?train_id=${t.id}`, { headers: a.viewer.auth }))
    expect(fi.body).toMatchObject({ status: 'completed', source: 'callback', method: 'external' })
    const ours = await ourImportance(t.id)
    for (const [col, v] of Object.entries(ours.feature_importance)) expect(fi.body.feature_importance[col]).toBeCloseTo(v, 4)
    const log = (await app.db.query<{ message: string }>(`select message from public.job_logs where job_id = $1 order by id`, [t.job_id])).rows.map((x) => x.message)
    expect(log.some((m) => /External trainer posted its model/.test(m))).toBe(true)
    // The input file is removed once the trainer is done.
    expect((await app.fetch(`/api/v1/train/external/input?train_id=${t.id}`, { headers: { 'x-trainer-token': signTrainerToken({ train_id: t.id, tenant_id: a.id, job_id: t.job_id }) } })).status).toBe(404)
  }, 180_000)

  it('engine ray: submitted through the Jobs REST API (a double), the worker fetches the script and data, posts back', async () => {
    setEnv({ RAY_ADDRESS: ray.url })
    try {
      const t = await start('auto')
      expect(t.training_status).toBe('submitted_to_ray')
      const done = await waitForTraining(app, a.viewer, t.id, 120_000)
      expect(done.status, JSON.stringify(done)).toBe('completed')
      const submitted = [...ray.jobs.values()].find((j) => j.metadata.train_id === String(t.id))!
      expect(submitted.status, submitted.stderr).toBe('SUCCEEDED')
      expect(submitted.entrypoint).toMatch(/^python -c /)
      expect(JSON.parse(submitted.env_vars.HD_TRAINER_CONFIG)).toMatchObject({ train_id: t.id, result_url: `${server.url}/api/v1/train/result` })
      const s = await json(app.fetch(`/api/v1/train/model-summary?train_id=${t.id}`, { headers: a.viewer.auth }))
      expect(s.body.trained_by).toBe('ray')
      const { rows: ext } = await app.db.query(`select external_job_id from public.training_jobs where id = $1`, [t.id])
      expect(ext[0].external_job_id).toBe(submitted.submission_id)

      // Cancelling a Ray training stops the job on the cluster.
      const slow = await start('ray', { hyperparameters: { n_estimators: 2000, learning_rate: 0.001, early_stopping_rounds: 500, max_depth: 10 } })
      for (let i = 0; i < 200 && ![...ray.jobs.values()].some((j) => j.metadata.train_id === String(slow.id) && j.status === 'RUNNING'); i++) await new Promise((r) => setTimeout(r, 100))
      const stop = await json(app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=hd-train-${slow.id}-${slow.job_id.slice(0, 8)}&usage=training`, { method: 'POST', headers: a.data_scientist.auth }))
      expect(stop.status, JSON.stringify(stop.body)).toBe(200)
      for (let i = 0; i < 50 && [...ray.jobs.values()].find((j) => j.metadata.train_id === String(slow.id))?.status !== 'STOPPED'; i++) await new Promise((r) => setTimeout(r, 100))
      expect([...ray.jobs.values()].find((j) => j.metadata.train_id === String(slow.id))!.status).toBe('STOPPED')
      expect((await waitForTraining(app, a.viewer, slow.id)).status).toBe('cancelled')
    } finally {
      setEnv({ RAY_ADDRESS: undefined })
    }
  }, 240_000)
})

describe('the callbacks', () => {
  let queued: { id: number; job_id: string }
  let serviceA: string
  let serviceB: string
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) => json(app.fetch(url, { method: 'POST', headers, json: body }))
  const model = Buffer.from(
    JSON.stringify({
      learner: {
        learner_model_param: { base_score: '5E-1', num_feature: '1', num_class: '0' },
        objective: { name: 'binary:logistic' },
        gradient_booster: { name: 'gbtree', model: { trees: [{ left_children: [-1], right_children: [-1], split_indices: [0], split_conditions: [0.1], default_left: [0], sum_hessian: [1] }], tree_info: [0] } },
      },
    }),
  ).toString('base64')

  beforeAll(async () => {
    // An external training nobody works: the worker is stopped while it is queued.
    await stopWorker({ timeoutMs: 2000 })
    setEnv({ RAY_ADDRESS: ray.url })
    queued = await start('ray')
    setEnv({ RAY_ADDRESS: undefined })
    serviceA = `Bearer ${(await signAccessToken({ sub: '00000000-0000-0000-0000-000000000000', role: 'service_role', app_metadata: { tenant_id: a.id } })).token}`
    serviceB = `Bearer ${(await signAccessToken({ sub: '00000000-0000-0000-0000-000000000000', role: 'service_role', app_metadata: { tenant_id: b.id } })).token}`
  })
  afterAll(async () => {
    await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  })

  it('accept only a service_role caller or the job’s trainer token', async () => {
    const body = { train_id: queued.id, result: { metrics: { accuracy: 0.9 }, error: 'x' } }
    expect((await post('/api/v1/train/result', body)).status).toBe(401)
    expect((await post('/api/v1/train/result', body, a.admin.auth)).status).toBe(403)
    expect((await post('/api/v1/train/result', { ...body, token: 'hdt1.e30.forged' })).status).toBe(401)
    const otherTraining = signTrainerToken({ train_id: queued.id + 999, tenant_id: a.id, job_id: queued.job_id })
    expect((await post('/api/v1/train/result', { ...body, token: otherTraining })).status).toBe(403)
    const oldJob = signTrainerToken({ train_id: queued.id, tenant_id: a.id, job_id: '00000000-0000-4000-8000-000000000000' })
    expect((await post('/api/v1/train/result', { ...body, token: oldJob })).status).toBe(409)
    // Another tenant's service token: the training does not exist for it.
    expect((await post('/api/v1/train/result', body, { authorization: serviceB })).status).toBe(404)
    expect((await post('/api/v1/train/result', { ...body, train_id: 987654 }, { authorization: serviceA })).status).toBe(404)
  })

  it('validate the payload, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ train_id: queued.id, result: { metrics: { accuracy: 2 }, model_base64: model } }, 'result.metrics.accuracy'],
      [{ train_id: queued.id, result: { metrics: { roc_auc: 'high' }, model_base64: model } }, 'result.metrics.roc_auc'],
      [{ train_id: queued.id, result: { metrics: {} } }, 'result.model_base64'],
      [{ train_id: queued.id, result: { metrics: {}, model_base64: Buffer.from('not a model').toString('base64') } }, 'result.model_base64'],
      [{ train_id: 'x', result: {} }, 'train_id'],
      [{ train_id: queued.id }, 'result'],
    ]
    for (const [body, field] of cases) {
      const r = await post('/api/v1/train/result', body, { authorization: serviceA })
      expect(r.status, JSON.stringify(r.body)).toBe(400)
      expect(r.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field)
    }
    const shap = [
      [{ training_id: queued.id, result: { Nope: 0.5 } }, 'result.Nope'],
      [{ training_id: queued.id, result: { Tenure: 1.5 } }, 'result.Tenure'],
      [{ training_id: queued.id, result: {} }, 'result'],
    ] as const
    for (const [body, field] of shap) {
      const r = await post('/api/v1/train/shap-result', body, { authorization: serviceA })
      expect(r.status, JSON.stringify(r.body)).toBe(400)
      expect(r.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field)
    }
  })

  it('are idempotent: the same result twice changes nothing; a different one is a 409', async () => {
    const token = signTrainerToken({ train_id: queued.id, tenant_id: a.id, job_id: queued.job_id })
    const body = { train_id: queued.id, preprocess_id: 'preprocess-xyz', result: { metrics: { accuracy: 0.93 }, checkpoint: '/ckpt', error: null, path: '/out', model_base64: model, model_format: 'xgboost-json' }, token }
    const first = await post('/api/v1/train/result', body)
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(first.body).toMatchObject({ status: 'success', duplicate: false })
    const again = await post('/api/v1/train/result', body)
    expect(again.body).toMatchObject({ status: 'success', duplicate: true })
    const different = await post('/api/v1/train/result', { ...body, result: { ...body.result, error: 'late failure', model_base64: null } })
    expect(different.status).toBe(409)
    const shap = { training_id: queued.id, result: { Tenure: 0.45, MonthlyCharges: 0.3, Plan: 0.15, SupportCalls: 0.1 }, token }
    expect((await post('/api/v1/train/shap-result', shap)).body).toMatchObject({ duplicate: false })
    expect((await post('/api/v1/train/shap-result', shap)).body).toMatchObject({ duplicate: true })
    const fi = await json(app.fetch(`/api/v1/train/view-feature-importance?train_id=${queued.id}`, { headers: a.viewer.auth }))
    expect(fi.body.feature_importance).toEqual({ Tenure: 0.45, MonthlyCharges: 0.3, Plan: 0.15, SupportCalls: 0.1 })
    // A training trained in-process takes no external result.
    const { rows: w } = await app.db.query<{ id: number }>(`insert into public.jobs (id, tenant_id, name) values (gen_random_uuid(), $1, 'ml.train') returning id`, [a.id])
    const { rows: wasm } = await app.db.query<{ id: number }>(
      `insert into public.training_jobs (tenant_id, predictor_name, domain, problem_type, dataset_id, dataset_name, columns, job_id) values ($1, 'w', 'd', 'Classification', $2, 'x', '[]', $3) returning id`,
      [a.id, datasetId, w[0].id],
    )
    expect((await post('/api/v1/train/result', { ...body, train_id: wasm[0].id }, { authorization: serviceA })).status).toBe(409)
    await app.db.query(`delete from public.training_jobs where id = $1`, [wasm[0].id])
  })
})
