import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import '#app/features/ml/jobs.server.ts'
import { featureColumns, transformRecord, type PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { loadModel, predict } from '#app/features/ml/scoring.ts'
import { stratifiedHoldout } from '#app/features/ml/split.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { createTemplate, json, uploadCsv, type TestApp, type TestTenant, setupTestApp } from '#tests/support/app.ts'
import { CHURN_SCHEMA, churnCsv, churnRows, FAST, waitForTraining, type ChurnRow } from '#tests/support/ml.ts'
import { pythonMissing, runPython, scratchDir, skipReason, writeF32 } from '#tests/support/python.ts'

/*
  Real-time inference, the form and the prediction log end to end on a real database with real trainings (pg-boss,
  the thread pool, WASM XGBoost): answers equal the stored model's own scoring and native XGBoost's on the held-out
  rows, and reproduce the training's confusion matrix; SHAP contributions add up to the margin and equal native
  pred_contribs summed per column; every bad input is a 400/404/409 naming the field; every prediction is logged;
  another tenant sees nothing; a changed model is picked up at once.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let rows: ChurnRow[]
let datasetId: number
let clsId: number
let regId: number
let clsPre: number
let regPre: number

const N = 1200
const FEATURES = ['Plan', 'Tenure', 'MonthlyCharges', 'SupportCalls', 'Paperless', 'SignupDate'] as const
const features = (r: ChurnRow) => Object.fromEntries(FEATURES.map((f) => [f, r[f]]))

async function train(body: Record<string, unknown>) {
  const r = await json(app.fetch('/api/v1/train/', { method: 'POST', headers: a.data_scientist.auth, json: { dataset_id: datasetId, domain: 'Churn', shap_enabled: false, hyperparameters: FAST, ...body } }))
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  const done = await waitForTraining(app, a.viewer, r.body.id, 300_000)
  expect(done.status, JSON.stringify(done)).toBe('completed')
  return { id: r.body.id as number, preprocess_id: done.preprocess_id as number }
}

const predictAs = (auth: Record<string, string>, body: Record<string, unknown>) => json(app.fetch('/api/v1/inference/', { method: 'POST', headers: auth, json: body }))
const cls = (f: Record<string, unknown>, over: Record<string, unknown> = {}) => ({ train_id: clsId, preprocess_id: clsPre, target: 'Churn', features: f, ...over })

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  rows = churnRows(N, 11)
  // A template default on one column: the form shows it instead of the training median.
  const schema = CHURN_SCHEMA.map((c) => (c.column_name === 'SupportCalls' ? { ...c, default_value: '2' } : c))
  const templateId = await createTemplate(app, a.admin, 'churn infer', schema)
  const up = await uploadCsv(app, a.admin, `dataset_name=churn_infer&usage=train&template_id=${templateId}&iceberg_table_name=churn_infer`, churnCsv(rows), 'churn.csv')
  expect(up.status, JSON.stringify(up.body)).toBe(201)
  datasetId = up.body.dataset_id
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  const c = await train({ predictor_name: 'churn_rt', problem_type: 'Classification', algorithm: 'auto', columns: [{ column_name: 'CustomerID', attribute_name: 'Id' }, { column_name: 'Churn', attribute_name: 'Target' }] })
  const r = await train({
    predictor_name: 'tenure_rt',
    problem_type: 'Regression',
    algorithm: 'xgboost',
    columns: [{ column_name: 'CustomerID', attribute_name: 'Id' }, { column_name: 'Churn', attribute_name: 'Ignore' }, { column_name: 'Tenure', attribute_name: 'Target' }],
  })
  ;({ id: clsId, preprocess_id: clsPre } = c)
  ;({ id: regId, preprocess_id: regPre } = r)
}, 400_000)
afterAll(async () => {
  await stopWorker({ timeoutMs: 2000 })
  await app.close()
})

async function specOf(preprocessId: number) {
  const { rows: pre } = await app.db.query<{ spec: PreprocessSpec }>(`select spec from public.preprocesses where id = $1`, [preprocessId])
  return pre[0].spec
}

describe('form-based-prediction', () => {
  it('lists the input columns with types and defaults: the template default, else the training median / mode', async () => {
    const r = await json(app.fetch(`/api/v1/inference/form-based-prediction?id=${clsId}`, { headers: a.viewer.auth }))
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body).toMatchObject({ id: clsId, target: 'Churn', preprocess_id: clsPre })
    const byName = Object.fromEntries(r.body.headers.map((h: { column_name: string }) => [h.column_name, h]))
    expect(r.body.headers.map((h: { column_name: string }) => h.column_name)).toEqual([...FEATURES])
    expect(byName.Plan).toMatchObject({ data_type: 'String', default_source: 'mode' })
    expect(byName.SupportCalls).toMatchObject({ data_type: 'Integer', default_value: '2', default_source: 'template' })
    // Independent: median (lower middle for an even count, as percentile_disc) and mode over the CSV rows.
    const sorted = (v: number[]) => [...v].sort((x, y) => x - y)
    const disc = (v: number[]) => sorted(v)[Math.ceil(v.length * 0.5) - 1]
    const cont = (v: number[]) => {
      const s = sorted(v)
      const h = (s.length - 1) * 0.5
      return s[Math.floor(h)] + (h - Math.floor(h)) * (s[Math.ceil(h)] - s[Math.floor(h)])
    }
    const mode = (v: string[]) => {
      const counts = new Map<string, number>()
      for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1)
      return [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0][0]
    }
    expect(Number(byName.Tenure.default_value)).toBe(disc(rows.map((x) => x.Tenure)))
    expect(byName.Tenure.default_source).toBe('median')
    expect(Number(byName.MonthlyCharges.default_value)).toBeCloseTo(cont(rows.filter((x) => x.MonthlyCharges !== null).map((x) => x.MonthlyCharges!)), 9)
    expect(byName.Plan.default_value).toBe(mode(rows.map((x) => x.Plan)))
    expect(byName.Paperless.default_value).toBe(mode(rows.map((x) => String(x.Paperless))))
    expect(byName.SignupDate.default_value).toBe([...rows.map((x) => x.SignupDate)].sort()[Math.ceil(N * 0.5) - 1])
    expect(byName.Plan.options.sort()).toEqual(['Basic', 'Premium', 'Standard'])
  })

  it('is a 404 for another tenant and for an unknown id, a 400 for a bad id', async () => {
    expect((await app.fetch(`/api/v1/inference/form-based-prediction?id=${clsId}`, { headers: b.admin.auth })).status).toBe(404)
    expect((await app.fetch(`/api/v1/inference/form-based-prediction?id=999999`, { headers: a.admin.auth })).status).toBe(404)
    const bad = await json(app.fetch(`/api/v1/inference/form-based-prediction?id=abc`, { headers: a.admin.auth }))
    expect(bad.status).toBe(400)
    expect(bad.body.error.details.fields[0].field).toBe('id')
  })
})

describe('real-time prediction', () => {
  it('equals the stored model’s scoring and native XGBoost on the held-out rows, and reproduces the training’s confusion matrix', async () => {
    const summary = await json(app.fetch(`/api/v1/train/model-summary?train_id=${clsId}`, { headers: a.viewer.auth }))
    const spec = await specOf(clsPre)
    const holdout = stratifiedHoldout(Int32Array.from(rows, (r) => (r.Churn ? 1 : 0)), 0.2, 42)
    const valid = Array.from(holdout.valid)
    const answers: any[] = []
    for (const i of valid) {
      const r = await predictAs(a.operator.auth, cls(features(rows[i])))
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      answers.push(r.body)
    }
    // The confusion matrix of the training's validation rows, from our answers.
    const [classes] = [summary.body.classes as string[]]
    const cm = classes.map(() => classes.map(() => 0))
    valid.forEach((i, k) => cm[classes.indexOf(String(rows[i].Churn))][classes.indexOf(answers[k].prediction)]++)
    expect(cm).toEqual(summary.body.confusion_matrix)

    const dl = await app.fetch(`/api/v1/train/download-model/${clsId}`, { headers: a.viewer.auth })
    const format = dl.headers.get('x-model-format') as 'xgboost-binary' | 'linear-json'
    const bytes = new Uint8Array(await dl.arrayBuffer())
    const F = spec.features.length
    const x = new Float32Array(valid.length * F)
    valid.forEach((i, k) => x.set(transformRecord(spec, rows[i] as unknown as Record<string, unknown>), k * F))
    const ours = predict(loadModel(format, bytes), x, valid.length)
    answers.forEach((ans, k) => {
      expect(ans.probabilities.true).toBeCloseTo(ours[k], 12)
      expect(ans.prediction).toBe(ours[k] >= 0.5 ? 'true' : 'false')
      expect(ans.probability).toBeCloseTo(Math.max(ours[k], 1 - ours[k]), 12)
    })
    if (format !== 'xgboost-binary' || skipReason(pythonMissing(['xgboost', 'numpy']), 'native XGBoost predict')) return
    const dir = scratchDir()
    try {
      fs.writeFileSync(path.join(dir, 'model.bin'), bytes)
      writeF32(path.join(dir, 'x.f32'), x)
      const native = runPython<{ p: number[] }>(
        `
import json, sys, numpy as np, xgboost as xgb
a = json.load(sys.stdin)
b = xgb.Booster(); b.load_model(a['dir'] + '/model.bin')
x = np.fromfile(a['dir'] + '/x.f32', dtype=np.float32).reshape(-1, a['F'])
print(json.dumps({'p': b.predict(xgb.DMatrix(x, missing=np.nan)).tolist()}))
`,
        { dir, F },
      )
      answers.forEach((ans, k) => expect(Math.abs(ans.probabilities.true - native.p[k])).toBeLessThan(1e-5))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 400_000)

  it('contributions add up to the margin (local accuracy) and equal native pred_contribs summed per column', async () => {
    const spec = await specOf(regPre)
    const sample = rows.slice(0, 25)
    const answers: any[] = []
    for (const r of sample) {
      const res = await predictAs(a.operator.auth, { train_id: regId, preprocess_id: regPre, target: 'Tenure', features: { ...features(r), Tenure: undefined } })
      // Tenure is the target here: not an input. The JSON drops undefined keys.
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      answers.push(res.body)
    }
    for (const ans of answers) {
      const sum = ans.contributions.reduce((s: number, c: { shap: number }) => s + c.shap, ans.explanation.base_value)
      expect(Math.abs(sum - ans.explanation.margin)).toBeLessThan(1e-6)
      expect(ans.explanation.margin).toBeCloseTo(ans.prediction, 9)
      expect(ans.interval.lower).toBeLessThan(ans.prediction)
      expect(ans.interval.upper).toBeGreaterThan(ans.prediction)
      expect(ans.interval.confidence).toBe(0.9)
      // Sorted by |shap|, largest first, each with its direction.
      const mags = ans.contributions.map((c: { shap: number }) => Math.abs(c.shap))
      expect(mags).toEqual([...mags].sort((p: number, q: number) => q - p))
      for (const c of ans.contributions) expect(c.direction).toBe(c.shap > 0 ? 'increases' : 'decreases')
    }
    if (skipReason(pythonMissing(['xgboost', 'numpy']), 'native XGBoost pred_contribs')) return
    const dl = await app.fetch(`/api/v1/train/download-model/${regId}`, { headers: a.viewer.auth })
    const bytes = new Uint8Array(await dl.arrayBuffer())
    const F = spec.features.length
    const x = new Float32Array(sample.length * F)
    sample.forEach((r, k) => x.set(transformRecord(spec, r as unknown as Record<string, unknown>), k * F))
    const dir = scratchDir()
    try {
      fs.writeFileSync(path.join(dir, 'model.bin'), bytes)
      writeF32(path.join(dir, 'x.f32'), x)
      const native = runPython<{ c: number[][] }>(
        `
import json, sys, numpy as np, xgboost as xgb
a = json.load(sys.stdin)
b = xgb.Booster(); b.load_model(a['dir'] + '/model.bin')
x = np.fromfile(a['dir'] + '/x.f32', dtype=np.float32).reshape(-1, a['F'])
print(json.dumps({'c': b.predict(xgb.DMatrix(x, missing=np.nan), pred_contribs=True).tolist()}))
`,
        { dir, F },
      )
      const cols = featureColumns(spec)
      answers.forEach((ans, k) => {
        const perColumn: Record<string, number> = {}
        cols.forEach((c, f) => (perColumn[c] = (perColumn[c] ?? 0) + native.c[k][f]))
        for (const c of ans.contributions) expect(Math.abs(c.shap - perColumn[c.feature])).toBeLessThan(1e-4)
        expect(Math.abs(ans.explanation.base_value - native.c[k][F])).toBeLessThan(1e-4)
      })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)

  it('accepts an unseen category through the unseen bucket and says so; null is a missing value; Id and Target keys are ignored', async () => {
    const r = await predictAs(a.operator.auth, cls({ ...features(rows[0]), Plan: 'Enterprise', MonthlyCharges: null, CustomerID: 'C1', Churn: true }))
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.unseen_categories).toEqual([{ feature: 'Plan', value: 'Enterprise', bucket: 'Plan=__unseen__' }])
    expect(r.body.missing_values).toEqual(['MonthlyCharges'])
    expect(r.body.ignored.sort()).toEqual(['Churn', 'CustomerID'])
    // Strings of the right type are read as an upload reads its cells.
    const s = await predictAs(a.operator.auth, cls({ ...features(rows[1]), Tenure: '12', Paperless: 'yes', MonthlyCharges: '55.5' }))
    expect(s.status, JSON.stringify(s.body)).toBe(200)
    const n = await predictAs(a.operator.auth, cls({ ...features(rows[1]), Tenure: 12, Paperless: true, MonthlyCharges: 55.5 }))
    expect(s.body.probabilities).toEqual(n.body.probabilities)
  })

  it('every bad input is a 4xx naming the field', async () => {
    const base = features(rows[2])
    const cases: [Record<string, unknown>, number, string][] = [
      [cls(Object.fromEntries(Object.entries(base).filter(([k]) => k !== 'Tenure'))), 400, 'features.Tenure'],
      [cls({ ...base, Colour: 'red' }), 400, 'features.Colour'],
      [cls({ ...base, tenure: 3 }), 400, 'features.tenure'],
      [cls({ ...base, Tenure: 'twelve' }), 400, 'features.Tenure'],
      [cls({ ...base, Tenure: 1.5 }), 400, 'features.Tenure'],
      [cls({ ...base, MonthlyCharges: 'abc' }), 400, 'features.MonthlyCharges'],
      [cls({ ...base, MonthlyCharges: [1] }), 400, 'features.MonthlyCharges'],
      [cls({ ...base, Paperless: 'maybe' }), 400, 'features.Paperless'],
      [cls({ ...base, SignupDate: '08-Aug-24' }), 400, 'features.SignupDate'],
      [cls({ ...base, SignupDate: 20240808 }), 400, 'features.SignupDate'],
      [cls({ ...base, Plan: 7 }), 400, 'features.Plan'],
      [cls({ ...base, Plan: 'Enterprise' }, { unseen: 'reject' }), 400, 'features.Plan'],
      [cls(base, { target: 'Tenure' }), 400, 'target'],
      [cls(base, { train_id: 'x' }), 400, 'train_id'],
      [cls(base, { preprocess_id: undefined }), 400, 'preprocess_id'],
      [cls(base, { preprocess_id: 987654 }), 404, 'preprocess_id'],
      [cls(base, { preprocess_id: regPre }), 422, 'preprocess_id'],
      [cls('nope' as unknown as Record<string, unknown>), 400, 'features'],
      [cls(base, { extra: 1 }), 400, 'body'],
    ]
    for (const [body, status, field] of cases) {
      const r = await predictAs(a.operator.auth, body)
      expect(r.status, `${field}: ${JSON.stringify(r.body)}`).toBe(status)
      expect(r.body.status).toBe('error')
      const fields = (r.body.error.details.fields ?? [{ field: r.body.error.details.field }]).map((f: { field: string }) => f.field)
      expect(fields.some((f: string) => f === field || (field === 'body' && f === '')) || r.body.error.message.includes(field), `${field}: ${JSON.stringify(r.body)}`).toBe(true)
    }
    expect((await predictAs(a.operator.auth, cls(base, { train_id: 999999 }))).status).toBe(404)
  })

  it('needs inference.run; another tenant’s model is a 404', async () => {
    const v = await predictAs(a.viewer.auth, cls(features(rows[3])))
    expect(v.status).toBe(403)
    const other = await predictAs(b.admin.auth, cls(features(rows[3])))
    expect(other.status).toBe(404)
    const { rows: n } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.predictions where tenant_id = $1`, [b.id])
    expect(n[0].n).toBe(0)
  })

  it('picks up a changed model at once (the per-process cache is keyed by the current model version)', async () => {
    const first = await predictAs(a.operator.auth, cls(features(rows[4])))
    expect(first.status).toBe(200)
    const { rows: versions } = await app.db.query<{ id: number; algorithm: string; format: string }>(`select id, algorithm, format from public.model_versions where training_id = $1 order by rank`, [clsId])
    expect(versions.length).toBe(2)
    const other = versions.find((v) => v.id !== first.body.model_id)!
    await app.db.query(`update public.training_jobs set model_id = $2 where id = $1`, [clsId, other.id])
    try {
      const second = await predictAs(a.operator.auth, cls(features(rows[4])))
      expect(second.status).toBe(200)
      expect(second.body.model_id).toBe(other.id)
      expect(second.body.model_cached).toBe(false)
      const again = await predictAs(a.operator.auth, cls(features(rows[4])))
      expect(again.body.model_cached).toBe(true)
      expect(second.body.explanation.method).toBe(other.algorithm === 'XGBoost' ? 'TreeSHAP' : 'linear SHAP')
    } finally {
      await app.db.query(`update public.training_jobs set model_id = $2 where id = $1`, [clsId, first.body.model_id])
    }
  })
})

describe('the prediction log', () => {
  it('lists every real-time prediction with the spec fields, its inputs, output, model version and latency', async () => {
    const p = await predictAs(a.operator.auth, cls(features(rows[5])))
    const r = await json(app.fetch(`/api/v1/inference/predictions?train_id=${clsId}&limit=5`, { headers: a.viewer.auth }))
    expect(r.status).toBe(200)
    const item = r.body.data.find((x: { prediction_id: number }) => x.prediction_id === p.body.prediction_id)
    expect(item).toMatchObject({
      prediction_id: p.body.prediction_id,
      train_id: clsId,
      predictor_name: 'churn_rt',
      prediction_type: 'realtime',
      status: 'completed',
      no_of_records: 1,
      problem_type: 'Classification',
      domain_name: 'Churn',
      model_id: p.body.model_id,
      dataset_id: null,
    })
    expect(JSON.parse(item.input_data)).toEqual(features(rows[5]))
    expect(item.output.prediction).toBe(p.body.prediction)
    expect(item.output.probabilities).toEqual(p.body.probabilities)
    expect(item.latency_ms).toBeGreaterThan(0)
    expect(r.body.total).toBeGreaterThan(N * 0.2)
    const { rows: n } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.predictions where training_id = $1`, [clsId])
    expect(r.body.total).toBe(n[0].n)
    const res = await json(app.fetch(`/api/v1/inference/result?prediction_id=${p.body.prediction_id}`, { headers: a.viewer.auth }))
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ status: 'completed', result_path: null, file_id: null, prediction_type: 'realtime', no_of_records: 1 })
    expect(res.body.output.prediction).toBe(p.body.prediction)
  })

  it('filters, pages and downloads as CSV', async () => {
    const csv = await app.fetch(`/api/v1/inference/predictions?train_id=${regId}&format=csv`, { headers: a.viewer.auth })
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/)
    const lines = (await csv.text()).trim().split('\r\n')
    expect(lines[0]).toBe('prediction_id,train_id,date,dataset_id,predictor_name,prediction_type,input_data,status,no_of_records,accuracy,problem_type,domain_name,prediction,latency_ms')
    const { rows: n } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.predictions where training_id = $1`, [regId])
    expect(lines.length - 1).toBe(n[0].n)
    const batch = await json(app.fetch(`/api/v1/inference/predictions?train_id=${clsId}&prediction_type=batch`, { headers: a.viewer.auth }))
    expect(batch.body.data.every((x: { prediction_type: string }) => x.prediction_type === 'batch')).toBe(true)
    const future = await json(app.fetch(`/api/v1/inference/predictions?from=2999-01-01`, { headers: a.viewer.auth }))
    expect(future.body).toMatchObject({ total: 0, data: [] })
    const page2 = await json(app.fetch(`/api/v1/inference/predictions?train_id=${clsId}&skip=2&limit=3`, { headers: a.viewer.auth }))
    const all = await json(app.fetch(`/api/v1/inference/predictions?train_id=${clsId}&limit=5`, { headers: a.viewer.auth }))
    expect(page2.body.data.map((x: { prediction_id: number }) => x.prediction_id)).toEqual(all.body.data.slice(2, 5).map((x: { prediction_id: number }) => x.prediction_id))
    for (const q of ['train_id=x', 'prediction_type=later', 'status=done', 'from=yesterday', 'limit=0', 'format=xml']) {
      const r = await json(app.fetch(`/api/v1/inference/predictions?${q}`, { headers: a.viewer.auth }))
      expect(r.status, q).toBe(400)
      expect(r.body.error.details.fields[0].field).toBe(q.split('=')[0])
    }
  })

  it('shows another tenant nothing', async () => {
    expect((await app.fetch(`/api/v1/inference/predictions?train_id=${clsId}`, { headers: b.admin.auth })).status).toBe(404)
    const all = await json(app.fetch(`/api/v1/inference/predictions`, { headers: b.admin.auth }))
    expect(all.body).toMatchObject({ total: 0, data: [] })
    const { rows: one } = await app.db.query<{ id: number }>(`select id from public.predictions where tenant_id = $1 limit 1`, [a.id])
    expect((await app.fetch(`/api/v1/inference/result?prediction_id=${one[0].id}`, { headers: b.admin.auth })).status).toBe(404)
  })

  it('is read-only to the API roles: a member cannot write the log directly', async () => {
    await expect(
      app.db.transaction(async (tx) => {
        await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [
          JSON.stringify({ sub: a.admin.userId, role: 'authenticated', app_metadata: { tenant_id: a.id, roles: ['admin'] } }),
        ])
        await tx.query(`insert into public.predictions (tenant_id, training_id, kind, input) values ($1, $2, 'realtime', '{}')`, [a.id, clsId])
      }),
    ).rejects.toThrow(/permission denied|row-level security/)
  })
})
