import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import '#app/features/ml/jobs.server.ts'
import { batchHooks } from '#app/features/inference/jobs.server.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { createTemplate, json, setupTestApp, uploadCsv, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { CHURN_SCHEMA, churnRows, FAST, uploadChurn, waitForTraining, type ChurnRow } from '#tests/support/ml.ts'

/*
  Batch prediction end to end (pg-boss, the thread pool, the file store, the datalake): the gold table and the CSV,
  each row equal to the real-time answer for the same values; accuracy recomputed from the file; the 422 naming what a
  dataset lacks; cancel and failure part-way leave no gold table, no staged table and no file; retry; the alias path;
  another tenant sees none of it.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let rows: ChurnRow[]
let datasetId: number
let trainId: number
let preprocessId: number

const N = 900
const FEATURES = ['Plan', 'Tenure', 'MonthlyCharges', 'SupportCalls', 'Paperless', 'SignupDate'] as const
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  rows = churnRows(N, 5)
  datasetId = await uploadChurn(app, a.admin, 'churn_batch', rows)
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  const r = await json(
    app.fetch('/api/v1/train/', {
      method: 'POST',
      headers: a.data_scientist.auth,
      json: { dataset_id: datasetId, predictor_name: 'churn_batch', domain: 'Churn', problem_type: 'Classification', algorithm: 'xgboost', shap_enabled: false, hyperparameters: FAST, columns: [{ column_name: 'CustomerID', attribute_name: 'Id' }, { column_name: 'Churn', attribute_name: 'Target' }] },
    }),
  )
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  const done = await waitForTraining(app, a.viewer, r.body.id, 300_000)
  expect(done.status, JSON.stringify(done)).toBe('completed')
  trainId = r.body.id
  preprocessId = done.preprocess_id
}, 400_000)
afterAll(async () => {
  await stopWorker({ timeoutMs: 2000 })
  await app.close()
})
afterEach(() => {
  delete batchHooks.afterPage
  delete process.env.HD_INFERENCE_PAGE_ROWS
})

const start = (auth: Record<string, string>, body: Record<string, unknown>, path = 'batchPrediction') => json(app.fetch(`/api/v1/inference/${path}`, { method: 'POST', headers: auth, json: body }))

async function waitFor(predictionId: number, timeoutMs = 240_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const r = await json(app.fetch(`/api/v1/inference/result?prediction_id=${predictionId}`, { headers: a.viewer.auth }))
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    if (!['submitted', 'running'].includes(r.body.status)) return r.body
    if (Date.now() > until) throw new Error(`prediction ${predictionId} still ${r.body.status}`)
    await sleep(150)
  }
}

function parseCsv(text: string) {
  const lines = text.trim().split('\r\n')
  const header = lines[0].split(',')
  return { header, rows: lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v]))) }
}

/** What a cancelled or failed batch must not leave: a registered or physical gold table, a staged table, a file. */
async function leftovers(predictionId: number, tenantId: string) {
  const { rows: gold } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.dataset_tables where schema_name = 'gold' and tenant_id = $1`, [tenantId])
  const { rows: physical } = await app.db.query<{ n: number }>(`select count(*)::int as n from pg_catalog.pg_tables where schemaname = 'gold' and tablename like $1`, [`%pred_${predictionId}_%`])
  const { rows: staged } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.datalake_staging where schema_name = 'gold' and table_name like $1`, [`%pred_${predictionId}_%`])
  const { rows: p } = await app.db.query<{ file_id: number | null; gold_table: string | null }>(`select file_id, gold_table from public.predictions where id = $1`, [predictionId])
  const { rows: files } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.dataset_files where file_name = $1`, [`prediction_${predictionId}.csv`])
  const store = getFileStore()
  const { rows: keys } = await app.db.query<{ job_id: string }>(`select job_id from public.predictions where id = $1`, [predictionId])
  const stored = await store.exists(`${tenantId}/predictions/prediction-${predictionId}-${keys[0].job_id.replace(/-/g, '').slice(0, 8)}.csv`)
  return { registered: gold[0].n, physical: physical[0].n, staged: staged[0].n, file_id: p[0].file_id, gold_table: p[0].gold_table, files: files[0].n, stored }
}

describe('a batch prediction', () => {
  it('writes a gold table and a CSV whose every row is the real-time answer for the same values; accuracy from the data', async () => {
    const s = await start(a.operator.auth, { train_id: trainId, dataset_id: datasetId })
    expect(s.status, JSON.stringify(s.body)).toBe(202)
    expect(s.body).toMatchObject({ status: 'submitted', train_id: trainId, dataset_id: datasetId, no_of_records: N, explanations: true })
    const done = await waitFor(s.body.prediction_id)
    expect(done, JSON.stringify(done)).toMatchObject({ status: 'completed', dataset_id: datasetId, no_of_records: N, progress: 100, prediction_type: 'batch' })
    expect(done.result_path).toBe(`/datasets/${datasetId}/files/${done.file_id}/prediction_${s.body.prediction_id}.csv`)
    expect(done.download_url).toBe(`/api/v1/files/download/?file_id=${done.file_id}`)
    expect(done.gold_table).toMatch(/^gold\.predictions_churn_batch_\d+$/)
    // The dataset page lists the CSV among the dataset's files: with its row count, not "0 rows".
    const listed = await json(app.fetch(`/api/v1/files/get_file_by_id?file_id=${done.file_id}`, { headers: a.viewer.auth }))
    expect(listed.body).toMatchObject({ file_name: `prediction_${s.body.prediction_id}.csv`, total_records: N, total_fields: 12 })

    // The CSV through the existing files API, by id and by path.
    const dl = await app.fetch(done.download_url, { headers: a.viewer.auth })
    expect(dl.status).toBe(200)
    const text = await dl.text()
    const byPath = await app.fetch(`/api/v1/files/download/?file_path=${encodeURIComponent(done.result_path)}`, { headers: a.viewer.auth })
    expect(await byPath.text()).toBe(text)
    const csv = parseCsv(text)
    expect(csv.header).toEqual(['CustomerID', 'prediction', 'probability', 'reason_1_feature', 'reason_1_shap', 'reason_1_direction', 'reason_2_feature', 'reason_2_shap', 'reason_2_direction', 'reason_3_feature', 'reason_3_shap', 'reason_3_direction'])
    expect(csv.rows.length).toBe(N)
    const byId = new Map(csv.rows.map((r) => [r.CustomerID, r]))
    expect(byId.size).toBe(N)

    // Accuracy recomputed here from the file and the CSV we uploaded.
    const correct = rows.filter((r) => byId.get(r.CustomerID)!.prediction === String(r.Churn)).length
    expect(done.accuracy).toBeCloseTo(correct / N, 12)
    expect(done.metrics).toMatchObject({ labelled_rows: N, correct })

    // Row by row against real time (a spread of rows).
    for (let i = 0; i < N; i += 37) {
      const r = rows[i]
      const rt = await json(app.fetch('/api/v1/inference/', { method: 'POST', headers: a.operator.auth, json: { train_id: trainId, preprocess_id: preprocessId, target: 'Churn', features: Object.fromEntries(FEATURES.map((f) => [f, r[f]])) } }))
      expect(rt.status, JSON.stringify(rt.body)).toBe(200)
      const row = byId.get(r.CustomerID)!
      expect(row.prediction).toBe(rt.body.prediction)
      expect(Number(row.probability)).toBe(rt.body.probability)
      for (let k = 0; k < 3; k++) {
        const c = rt.body.contributions[k]
        expect(row[`reason_${k + 1}_feature`]).toBe(c.feature)
        expect(Number(row[`reason_${k + 1}_shap`])).toBe(c.shap)
        expect(row[`reason_${k + 1}_direction`]).toBe(c.direction)
      }
    }

    // The gold table: registered to the tenant, in the datalake endpoints, with the same rows as the file.
    const tables = await json(app.fetch('/api/v1/datalake/schemas/tables?schema_name=gold', { headers: a.viewer.auth }))
    expect(tables.status, JSON.stringify(tables.body)).toBe(200)
    const name = done.gold_table.slice('gold.'.length)
    expect(tables.body.data.map((t: { table_name: string }) => t.table_name)).toContain(name)
    const meta = await json(app.fetch(`/api/v1/datalake/table_metadata?schema_name=gold&table_name=${name}`, { headers: a.viewer.auth }))
    expect(meta.status, JSON.stringify(meta.body)).toBe(200)
    const cols = await json(app.fetch(`/api/v1/datalake/tables/columns?schema_name=gold&table_name=${name}`, { headers: a.viewer.auth }))
    expect(cols.body.map((c: { column_name: string }) => c.column_name)).toEqual(['CustomerID', 'prediction', 'probability', 'actual', ...csv.header.slice(3)])
    const preview = await json(app.fetch(`/api/v1/inference/preview?prediction_id=${s.body.prediction_id}&limit=5`, { headers: a.viewer.auth }))
    expect(preview.status).toBe(200)
    expect(preview.body.rows.length).toBe(5)
    expect(preview.body.rows[0].CustomerID).toBe(rows[0].CustomerID)
    expect(preview.body.rows[0].prediction).toBe(byId.get(rows[0].CustomerID)!.prediction)
    expect(preview.body.rows[0].actual).toBe(String(rows[0].Churn))

    // The log lists it with the spec's fields.
    const log = await json(app.fetch(`/api/v1/inference/predictions?train_id=${trainId}&prediction_type=batch`, { headers: a.viewer.auth }))
    expect(log.body.data.find((x: { prediction_id: number }) => x.prediction_id === s.body.prediction_id)).toMatchObject({
      train_id: trainId,
      dataset_id: datasetId,
      predictor_name: 'churn_batch',
      prediction_type: 'batch',
      input_data: `dataset_id:${datasetId}`,
      status: 'completed',
      no_of_records: N,
      accuracy: done.accuracy,
      problem_type: 'Classification',
      domain_name: 'Churn',
    })

    // Another tenant sees none of it.
    expect((await app.fetch(`/api/v1/inference/result?prediction_id=${s.body.prediction_id}`, { headers: b.admin.auth })).status).toBe(404)
    expect((await app.fetch(`/api/v1/inference/preview?prediction_id=${s.body.prediction_id}`, { headers: b.admin.auth })).status).toBe(404)
    expect((await app.fetch(done.download_url, { headers: b.admin.auth })).status).toBe(404)
    const theirs = await json(app.fetch('/api/v1/datalake/schemas/tables?schema_name=gold', { headers: b.admin.auth }))
    expect(theirs.body.data).toEqual([])
    expect((await app.fetch(`/api/v1/datalake/table_metadata?schema_name=gold&table_name=${name}`, { headers: b.admin.auth })).status).toBe(404)
  }, 400_000)

  it('answers at /batch-prediction too; without explanations the reasons are left out; a dataset without the target has no accuracy', async () => {
    const noTarget = rows.slice(0, 120)
    const schema = CHURN_SCHEMA.filter((c) => c.column_name !== 'Churn')
    const templateId = await createTemplate(app, a.admin, 'churn no target', schema)
    const text = 'CustomerID,Plan,Tenure,MonthlyCharges,SupportCalls,Paperless,SignupDate\n' + noTarget.map((r) => [r.CustomerID, r.Plan, r.Tenure, r.MonthlyCharges ?? '', r.SupportCalls, r.Paperless, r.SignupDate].join(',')).join('\n') + '\n'
    const up = await uploadCsv(app, a.admin, `dataset_name=churn_new&usage=prediction&template_id=${templateId}&iceberg_table_name=churn_new`, text, 'new.csv')
    expect(up.status, JSON.stringify(up.body)).toBe(201)
    const s = await start(a.operator.auth, { train_id: trainId, dataset_id: up.body.dataset_id, explanations: false }, 'batch-prediction')
    expect(s.status, JSON.stringify(s.body)).toBe(202)
    const done = await waitFor(s.body.prediction_id)
    expect(done).toMatchObject({ status: 'completed', no_of_records: 120, accuracy: null, metrics: null, explanations: false })
    const csv = parseCsv(await (await app.fetch(done.download_url, { headers: a.viewer.auth })).text())
    expect(csv.header).toEqual(['CustomerID', 'prediction', 'probability'])
    expect(csv.rows.length).toBe(120)
  }, 300_000)

  it('every bad request is a 4xx naming the field; a dataset lacking an input column is a 422 naming it', async () => {
    const schema = CHURN_SCHEMA.filter((c) => c.column_name !== 'Tenure' && c.column_name !== 'Plan')
    const templateId = await createTemplate(app, a.admin, 'churn narrow', schema)
    const text = 'CustomerID,MonthlyCharges,SupportCalls,Paperless,SignupDate,Churn\n' + rows.slice(0, 20).map((r) => [r.CustomerID, r.MonthlyCharges ?? '', r.SupportCalls, r.Paperless, r.SignupDate, r.Churn].join(',')).join('\n') + '\n'
    const up = await uploadCsv(app, a.admin, `dataset_name=churn_narrow&usage=prediction&template_id=${templateId}&iceberg_table_name=churn_narrow`, text, 'narrow.csv')
    expect(up.status, JSON.stringify(up.body)).toBe(201)
    const narrow = await start(a.operator.auth, { train_id: trainId, dataset_id: up.body.dataset_id })
    expect(narrow.status).toBe(422)
    expect(narrow.body.error.details).toMatchObject({ field: 'dataset_id', missing: ['Plan', 'Tenure'] })
    expect(narrow.body.error.message).toMatch(/Plan, Tenure/)
    const cases: [Record<string, unknown>, number, string][] = [
      [{ train_id: trainId }, 400, 'dataset_id'],
      [{ dataset_id: datasetId }, 400, 'train_id'],
      [{ train_id: 'x', dataset_id: datasetId }, 400, 'train_id'],
      [{ train_id: trainId, dataset_id: datasetId, explanations: 'yes' }, 400, 'explanations'],
      [{ train_id: trainId, dataset_id: 99999 }, 404, ''],
      [{ train_id: 99999, dataset_id: datasetId }, 404, ''],
    ]
    for (const [body, status, field] of cases) {
      const r = await start(a.operator.auth, body)
      expect(r.status, JSON.stringify(r.body)).toBe(status)
      if (field) expect(r.body.error.details.fields[0].field).toBe(field)
    }
    expect((await start(a.viewer.auth, { train_id: trainId, dataset_id: datasetId })).status).toBe(403)
    expect((await start(b.admin.auth, { train_id: trainId, dataset_id: datasetId })).status).toBe(404)
    const { rows: n } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.predictions where tenant_id = $1`, [b.id])
    expect(n[0].n).toBe(0)
  })
})

describe('cancel, failure and retry', () => {
  it('a cancelled batch (terminate_ray_job?usage=prediction) leaves no gold table, no staged table and no file', async () => {
    process.env.HD_INFERENCE_PAGE_ROWS = '40'
    batchHooks.afterPage = async () => {
      await sleep(150)
    }
    const { rows: reg } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.dataset_tables where schema_name = 'gold' and tenant_id = $1`, [a.id])
    const s = await start(a.operator.auth, { train_id: trainId, dataset_id: datasetId })
    expect(s.status).toBe(202)
    const id = s.body.prediction_id
    // Part-way: some pages written.
    for (let i = 0; ; i++) {
      const r = await json(app.fetch(`/api/v1/inference/result?prediction_id=${id}`, { headers: a.viewer.auth }))
      if (r.body.status === 'running' && r.body.progress > 5) break
      if (i > 400) throw new Error(`never got going: ${JSON.stringify(r.body)}`)
      await sleep(50)
    }
    // Another tenant's prediction is unknown to them (their admin may cancel jobs, but sees none of ours).
    expect((await app.fetch(`/api/v1/ray/terminate_ray_job?usage=prediction&ray_job_id=${id}`, { method: 'POST', headers: b.admin.auth })).status).toBe(404)
    expect((await app.fetch(`/api/v1/ray/terminate_ray_job?usage=prediction&ray_job_id=${id}`, { method: 'POST', headers: a.viewer.auth })).status).toBe(403)
    const t = await json(app.fetch(`/api/v1/ray/terminate_ray_job?usage=prediction&ray_job_id=${id}`, { method: 'POST', headers: a.operator.auth }))
    expect(t.status, JSON.stringify(t.body)).toBe(200)
    expect(t.body).toMatchObject({ status: 'success', prediction_id: id })
    const done = await waitFor(id)
    expect(done.status).toBe('cancelled')
    // The handler cleans up after its abort: give it a moment.
    let left = await leftovers(id, a.id)
    for (let i = 0; i < 50 && (left.physical || left.staged || left.stored); i++) {
      await sleep(100)
      left = await leftovers(id, a.id)
    }
    expect(left).toEqual({ registered: reg[0].n, physical: 0, staged: 0, file_id: null, gold_table: null, files: 0, stored: false })
    const again = await json(app.fetch(`/api/v1/ray/terminate_ray_job?usage=prediction&ray_job_id=${s.body.job_id}`, { method: 'POST', headers: a.operator.auth }))
    expect(again.status).toBe(200)
  }, 300_000)

  it('a batch that fails part-way leaves nothing; retry runs it again to completion', async () => {
    process.env.HD_INFERENCE_PAGE_ROWS = '100'
    let failing = true
    batchHooks.afterPage = (page) => {
      if (failing && page === 2) throw new Error('disk on fire (test)')
    }
    const { rows: reg } = await app.db.query<{ n: number }>(`select count(*)::int as n from public.dataset_tables where schema_name = 'gold' and tenant_id = $1`, [a.id])
    const s = await start(a.operator.auth, { train_id: trainId, dataset_id: datasetId })
    const done = await waitFor(s.body.prediction_id)
    expect(done.status).toBe('failed')
    expect(done.error).toMatch(/disk on fire/)
    expect(await leftovers(s.body.prediction_id, a.id)).toEqual({ registered: reg[0].n, physical: 0, staged: 0, file_id: null, gold_table: null, files: 0, stored: false })

    expect((await app.fetch('/api/v1/inference/retry', { method: 'POST', headers: b.admin.auth, json: { prediction_id: s.body.prediction_id } })).status).toBe(404)
    failing = false
    const retry = await json(app.fetch('/api/v1/inference/retry', { method: 'POST', headers: a.operator.auth, json: { prediction_id: s.body.prediction_id } }))
    expect(retry.status, JSON.stringify(retry.body)).toBe(202)
    expect(retry.body.job_id).not.toBe(s.body.job_id)
    const second = await waitFor(s.body.prediction_id)
    expect(second).toMatchObject({ status: 'completed', no_of_records: N })
    const twice = await json(app.fetch('/api/v1/inference/retry', { method: 'POST', headers: a.operator.auth, json: { prediction_id: s.body.prediction_id } }))
    expect(twice.status).toBe(409)
  }, 300_000)
})
