import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import '#app/features/ml/jobs.server.ts'
import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { transformRecord } from '#app/features/ml/preprocess.ts'
import { loadModel, predict, shapValues } from '#app/features/ml/scoring.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { providerMysql, providerPostgres, type ProviderDb } from '#tests/support/marketplace.ts'
import { churnRows, trainChurn, uploadChurn, type ChurnRow } from '#tests/support/ml.ts'
import { ORACLE_TIMEOUT, pythonMissing, runPython, scratchDir, skipReason, writeF32 } from '#tests/support/python.ts'

/*
  The marketplace end to end on a real database, a real worker, the machine's Postgres and MariaDB as provider
  sources: data sources (connect, test, SSRF, sealed credentials), assets (create from a trained model and from a
  query, list/filters/meta, get, the version bump rules through PATCH, archive and permanent delete), execution (the
  model's answer checked against the downloaded model and native XGBoost, SQL answers against the source's own rows,
  input errors naming the field), the meter (free tier → 402 → billing agreement → billed; usage and revenue from the
  rows), and what tenant B may and may not see of tenant A. Every response and every log line is searched for the
  sources' passwords.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let c: TestTenant
let rows: ChurnRow[]
let trainId: number
let pg: ProviderDb
let my: ProviderDb
const seen: string[] = []
const logged: string[] = []
const savedAllow = process.env.HD_ALLOW_PRIVATE_TARGETS
const savedLogErrors = process.env.LOG_ERRORS
const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) }

async function call(user: TestUser, p: string, init: RequestInit & { json?: unknown } = {}) {
  const r = await json(app.fetch(p, { ...init, headers: { ...user.auth, ...(init.headers as Record<string, string>) } }))
  seen.push(JSON.stringify(r.body ?? ''))
  return r
}
const V1 = '/api/v1/analytics'

beforeAll(async () => {
  process.env.HD_ALLOW_PRIVATE_TARGETS = '127.0.0.1/32'
  process.env.LOG_ERRORS = 'true'
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    logged.push(String(chunk))
    return writes.out(chunk as string, ...(rest as []))
  }) as typeof process.stdout.write
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    logged.push(String(chunk))
    return writes.err(chunk as string, ...(rest as []))
  }) as typeof process.stderr.write
  app = await setupTestApp()
  ;[a, b, c] = await Promise.all([app.createTenant(), app.createTenant(), app.createTenant()])
  ;[pg, my] = await Promise.all([providerPostgres(), providerMysql()])
  rows = churnRows(1200)
  const datasetId = await uploadChurn(app, a.admin, 'mk_churn', rows)
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  trainId = await trainChurn(app, a.data_scientist, a.viewer, datasetId, 'mk_churn_model')
}, 240_000)

afterAll(async () => {
  process.stdout.write = writes.out
  process.stderr.write = writes.err
  if (savedAllow === undefined) delete process.env.HD_ALLOW_PRIVATE_TARGETS
  else process.env.HD_ALLOW_PRIVATE_TARGETS = savedAllow
  if (savedLogErrors === undefined) delete process.env.LOG_ERRORS
  else process.env.LOG_ERRORS = savedLogErrors
  await stopWorker({ timeoutMs: 2000 })
  await app?.close()
  await Promise.all([pg?.drop(), my?.drop()])
})

const pgConfig = () => ({ host: '127.0.0.1', port: 5432, database: pg.database, username: pg.user, password: pg.password })
const myConfig = () => ({ host: '127.0.0.1', port: 3306, database: my.database, username: my.user, password: my.password })

let pgSource: string
let mySource: string
let lakeSource: string

describe('data sources', () => {
  it('connects postgres: tested, tables discovered, credentials sealed and never returned', async () => {
    const r = await call(a.admin, `${V1}/data-sources`, {
      method: 'POST',
      json: { name: 'Provider Postgres', type: 'postgres', connection_config: pgConfig(), validation_query: 'select count(*) from public.orders' },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body.data).toMatchObject({ name: 'Provider Postgres', type: 'postgres', status: 'connected', connection_test: { status: 'passed' }, security: { encrypted: true, access_level: 'read_only', ip_restrictions: 'enabled' } })
    expect(r.body.data.connection_test.latency_ms).toBeGreaterThan(0)
    expect(r.body.data.connection_test.tables_discovered).toBeGreaterThanOrEqual(1)
    pgSource = r.body.data.source_id
    // at rest: ciphertext only; API roles cannot read the column at all
    const { rows: raw } = await app.db.query(`select secret, config::text as config from public.data_sources where id = $1`, [pgSource])
    expect(raw[0].secret).toMatch(/^v1:/)
    expect(raw[0].secret + raw[0].config).not.toContain(pg.password)
    await expect(
      asCaller(app.db, { sub: a.admin.userId, role: 'authenticated', app_metadata: { tenant_id: a.id } }, (tx) => tx.query(`select secret from public.data_sources`)),
    ).rejects.toThrow(/permission denied/)
  })

  it('tests postgres: latency, tables, read access, read-only enforced by the server, no write grants, the validation query', async () => {
    const r = await call(a.admin, `${V1}/data-sources/${pgSource}/test`, { method: 'POST' })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const t = r.body.data.test_results
    expect(t.connectivity).toMatchObject({ status: 'passed' })
    expect(t.connectivity.latency_ms).toBeGreaterThan(0)
    expect(t.permissions).toEqual({ read_access: true, table_discovery: true, schema_access: true, read_only_enforced: true, write_privileges: false })
    expect(t.data_validation).toMatchObject({ sample_query_success: true, row_count_available: true })
    expect(r.body.data.recommendations).toEqual(['Connection is healthy and ready for use'])
  })

  it('connects and tests MariaDB through mysql2', async () => {
    const r = await call(a.admin, `${V1}/data-sources`, { method: 'POST', json: { name: 'Provider MariaDB', type: 'mysql', connection_config: myConfig() } })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body.data).toMatchObject({ status: 'connected', connection_test: { status: 'passed', tables_discovered: 1 } })
    mySource = r.body.data.source_id
    const t = await call(a.admin, `${V1}/data-sources/${mySource}/test`, { method: 'POST' })
    expect(t.body.data.test_results.permissions).toEqual({ read_access: true, table_discovery: true, schema_access: true, read_only_enforced: true, write_privileges: false })
  })

  it('connects the datalake (our silver tables of this tenant); bigquery / snowflake say their connector is not installed', async () => {
    const lake = await call(a.admin, `${V1}/data-sources`, { method: 'POST', json: { name: 'Our lake', type: 'datalake' } })
    expect(lake.status).toBe(201)
    lakeSource = lake.body.data.source_id
    const t = await call(a.admin, `${V1}/data-sources/${lakeSource}/test`, { method: 'POST' })
    expect(t.body.data.test_results.connectivity.status).toBe('passed')
    const list = await call(a.admin, `${V1}/data-sources?type=datalake`)
    expect(list.body.data[0].tables).toContain('silver.mk_churn')
    const bq = await call(a.admin, `${V1}/data-sources`, { method: 'POST', json: { name: 'BQ', type: 'bigquery', connection_config: { project_id: 'my-project-123', dataset: 'analytics', credentials: '{"private_key":"bq-secret-key"}' } } })
    expect(bq.status).toBe(201)
    expect(bq.body.data.status).toBe('not_installed')
    const bt = await call(a.admin, `${V1}/data-sources/${bq.body.data.source_id}/test`, { method: 'POST' })
    expect(bt.body.data.test_results.connectivity).toMatchObject({ status: 'not_installed', error: expect.stringContaining('@google-cloud/bigquery') })
    expect(JSON.stringify(bt.body)).not.toContain('bq-secret-key')
  })

  it('refuses metadata, link-local and (not allowed) private targets, naming the field; nothing is written', async () => {
    const before = (await app.db.query(`select count(*)::int as n from public.data_sources`)).rows[0].n
    for (const host of ['169.254.169.254', '::ffff:169.254.169.254', 'fe80::1', '10.0.0.5', '127.0.0.2', '0.0.0.0']) {
      const r = await call(a.admin, `${V1}/data-sources`, { method: 'POST', json: { name: `x ${host}`, type: 'postgres', connection_config: { ...pgConfig(), host } } })
      expect(r.status, host).toBe(400)
      expect(r.body.error.details.field).toBe('connection_config.host')
    }
    expect((await app.db.query(`select count(*)::int as n from public.data_sources`)).rows[0].n).toBe(before)
  })

  it('validates the body: unknown type, missing host, write access', async () => {
    const bad = [
      [{ name: 'x', type: 'oracle' }, 'type'],
      [{ name: 'x', type: 'postgres', connection_config: { database: 'd' } }, 'connection_config.host'],
      [{ name: 'x', type: 'postgres', connection_config: pgConfig(), access_level: 'read_write' }, 'access_level'],
      [{ name: 'x', type: 'postgres', connection_config: { ...pgConfig(), sslmode: 'x' } }, 'connection_config'],
    ] as const
    for (const [body, field] of bad) {
      const r = await call(a.admin, `${V1}/data-sources`, { method: 'POST', json: body })
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(JSON.stringify(r.body.error)).toContain(field)
    }
  })

  it('lists with filters and meta; never the credentials; another tenant sees none of them', async () => {
    const r = await call(a.viewer, `${V1}/data-sources`)
    expect(r.status).toBe(200)
    expect(r.body.meta).toMatchObject({ total: 4, connected: 3, disconnected: 1 })
    const p = r.body.data.find((s: { source_id: string }) => s.source_id === pgSource)
    expect(p).toMatchObject({ type: 'postgres', status: 'connected', connection_details: { host: '127.0.0.1', port: 5432, database: pg.database, username: pg.user, permissions: 'read_only' } })
    expect(JSON.stringify(r.body)).not.toContain(pg.password)
    expect((await call(a.viewer, `${V1}/data-sources?status=not_installed`)).body.data).toHaveLength(1)
    const other = await call(b.admin, `${V1}/data-sources`)
    expect(other.body.data).toEqual([])
    expect((await call(b.admin, `${V1}/data-sources/${pgSource}/test`, { method: 'POST' })).status).toBe(404)
    expect((await call(a.viewer, `${V1}/data-sources/${pgSource}/test`, { method: 'POST' })).status).toBe(403)
  })
})

let modelAsset: string
let sqlAsset: string
let myAsset: string
const churnInput = (r: ChurnRow) => ({
  CustomerID: r.CustomerID,
  account: { Plan: r.Plan, Tenure: r.Tenure, SignupDate: r.SignupDate, Paperless: r.Paperless },
  billing: { MonthlyCharges: r.MonthlyCharges, SupportCalls: r.SupportCalls },
})

describe('assets', () => {
  it('creates a model asset from the training: input and output schemas derived from its preprocess', async () => {
    const r = await call(a.data_scientist, `${V1}/assets`, {
      method: 'POST',
      json: {
        name: 'Customer Churn Predictor',
        description: 'XGBoost churn probability with SHAP key factors',
        category: 'machine_learning',
        subcategory: 'classification',
        data_sources: [{ source_id: lakeSource, tables: ['silver.mk_churn'] }],
        configuration: { train_id: trainId, performance_threshold: 0.7, features: ['Tenure', 'Plan'], risk_thresholds: { medium: 0.3, high: 0.6 } },
        pricing: { model: 'per_request', price: 2.5, currency: 'USD', free_tier: { requests: 3, period: 'monthly' } },
      },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body.data).toMatchObject({ status: 'draft', version: '1.0.0', kind: 'model', endpoint: { methods: ['POST'], authentication: 'required' } })
    expect(r.body.data.data_sources).toEqual([{ source_id: lakeSource, connection_status: 'connected', last_validated: expect.any(String) }])
    expect(r.body.data.api_specification.input_schema).toEqual({ CustomerID: 'string', Plan: 'string', Tenure: 'integer', MonthlyCharges: 'float', SupportCalls: 'integer', Paperless: 'boolean', SignupDate: 'date' })
    expect(r.body.data.api_specification.output_schema).toMatchObject({ churn_probability: 'float', risk_level: 'string', confidence_interval: 'object', key_factors: 'array' })
    modelAsset = r.body.data.asset_id
  })

  it('creates SQL assets over Postgres and MariaDB: typed parameters → input schema, the columns → output schema', async () => {
    const body = (source: string) => ({
      name: 'Revenue by region',
      category: 'reporting',
      data_sources: [{ source_id: source, tables: ['orders'] }],
      configuration: {
        query: 'select region, count(*) as orders, sum(total) as revenue from orders where region = :region and day >= :since group by region',
        parameters: [
          { name: 'region', type: 'string', enum: ['north', 'south', 'east'] },
          { name: 'since', type: 'date', default: '2025-01-01' },
        ],
        max_rows: 100,
      },
    })
    const r = await call(a.admin, `${V1}/assets`, { method: 'POST', json: body(pgSource) })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body.data.api_specification).toEqual({
      input_schema: { region: 'string', since: 'date' },
      output_schema: { rows: 'array', 'rows[].region': 'string', 'rows[].orders': 'integer', 'rows[].revenue': 'float' },
    })
    sqlAsset = r.body.data.asset_id
    const m = await call(a.admin, `${V1}/assets`, { method: 'POST', json: { ...body(mySource), name: 'Revenue by region (MariaDB)' } })
    expect(m.status, JSON.stringify(m.body)).toBe(201)
    expect(m.body.data.api_specification.output_schema).toEqual({ rows: 'array', 'rows[].region': 'string', 'rows[].orders': 'integer', 'rows[].revenue': 'float' })
    myAsset = m.body.data.asset_id
  })

  it('refuses bad definitions, naming the field, and writes nothing', async () => {
    const before = (await app.db.query(`select count(*)::int as n from public.assets`)).rows[0].n
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', category: 'ml', configuration: { train_id: trainId, query: 'select 1' } }, 'configuration'],
      [{ name: 'x', category: 'ml', configuration: {} }, 'configuration'],
      [{ name: 'x', category: 'ml', configuration: { train_id: 999999 } }, 'configuration.train_id'],
      [{ name: 'x', category: 'ml', configuration: { query: 'select 1' }, data_sources: [{ source_id: 'src_000000000000' }] }, 'data_sources.0.source_id'],
      [{ name: 'x', category: 'ml', configuration: { query: 'delete from orders' }, data_sources: [{ source_id: pgSource }] }, 'configuration.query'],
      [{ name: 'x', category: 'ml', configuration: { query: 'select * from orders where region = :who' }, data_sources: [{ source_id: pgSource }] }, 'configuration.parameters'],
      [{ name: 'x', category: 'ml', configuration: { query: 'select * from no_such_table' }, data_sources: [{ source_id: pgSource }] }, 'configuration.query'],
      [{ name: 'x', category: 'ml', configuration: { query: 'select 1' }, data_sources: [{ source_id: lakeSource }] }, 'data_sources.0.source_id'],
      [{ name: 'x', category: 'Machine Learning', configuration: { train_id: trainId } }, 'category'],
      [{ name: 'x', category: 'ml', configuration: { train_id: trainId }, input_schema: { a: 'string' } }, 'input_schema'],
      [{ name: 'x', category: 'ml', configuration: { train_id: trainId }, pricing: { price: -1 } }, 'pricing.price'],
    ]
    for (const [body, field] of cases) {
      const r = await call(a.admin, `${V1}/assets`, { method: 'POST', json: body })
      expect(r.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      expect(JSON.stringify(r.body.error), JSON.stringify(body)).toContain(field)
    }
    // a training of another tenant is not found
    const foreign = await call(b.admin, `${V1}/assets`, { method: 'POST', json: { name: 'x', category: 'ml', configuration: { train_id: trainId } } })
    expect(foreign.status).toBe(400)
    expect((await app.db.query(`select count(*)::int as n from public.assets`)).rows[0].n).toBe(before)
  })

  it('lists with filters, sort, limit/offset and meta counts', async () => {
    const all = await call(a.viewer, `${V1}/assets?sort=name`)
    expect(all.status).toBe(200)
    expect(all.body.meta).toMatchObject({ total: 3, draft: 3, published: 0, archived: 0 })
    expect(all.body.data.map((x: { name: string }) => x.name)).toEqual(['Customer Churn Predictor', 'Revenue by region', 'Revenue by region (MariaDB)'])
    expect(all.body.data[0]).toMatchObject({ asset_id: modelAsset, status: 'draft', category: 'machine_learning', version: '1.0.0', data_sources: [lakeSource], revenue_metrics: { monthly_revenue: 0, total_customers: 0 } })
    expect(all.body.data[0].performance_metrics.accuracy).toBeGreaterThan(0.6)
    expect((await call(a.viewer, `${V1}/assets?category=reporting`)).body.data).toHaveLength(2)
    expect((await call(a.viewer, `${V1}/assets?data_source=${mySource}`)).body.data.map((x: { asset_id: string }) => x.asset_id)).toEqual([myAsset])
    const page = await call(a.viewer, `${V1}/assets?sort=-name&limit=1&offset=1`)
    expect(page.body.data.map((x: { name: string }) => x.name)).toEqual(['Revenue by region'])
    expect(page.body.meta.total).toBe(3)
    expect((await call(a.viewer, `${V1}/assets?status=published`)).body.data).toEqual([])
    for (const q of ['status=live', 'limit=0', 'sort=price', 'offset=-1']) expect((await call(a.viewer, `${V1}/assets?${q}`)).status, q).toBe(400)
    expect((await call(b.admin, `${V1}/assets`)).body.data).toEqual([])
  })

  it('a draft is invisible to other tenants; publishing is no new version', async () => {
    expect((await call(b.admin, `${V1}/assets/${modelAsset}`)).status).toBe(404)
    const p = await call(a.admin, `${V1}/assets/${modelAsset}`, { method: 'PATCH', json: { status: 'published' } })
    expect(p.status, JSON.stringify(p.body)).toBe(200)
    expect(p.body.data).toMatchObject({ version: '1.0.0', status: 'published', changes: ['Published to the marketplace'], requires_retaining: false })
    for (const id of [sqlAsset, myAsset]) expect((await call(a.admin, `${V1}/assets/${id}`, { method: 'PATCH', json: { status: 'published' } })).status).toBe(200)
    const bad = await call(a.admin, `${V1}/assets/${modelAsset}`, { method: 'PATCH', json: { status: 'draft' } })
    expect(bad.status).toBe(409)
  })

  it("another tenant reads a published asset's public view: no configuration, no data sources, its own usage", async () => {
    const r = await call(b.viewer, `${V1}/assets/${modelAsset}`)
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ asset_id: modelAsset, status: 'published', version: '1.0.0', pricing: { price: 2.5, free_tier: { requests: 3 } } })
    expect(r.body.data.configuration).toBeUndefined()
    expect(r.body.data.data_sources).toBeUndefined()
    expect(r.body.data.api_specification.input_schema.Tenure).toBe('integer')
    const cat = await call(b.viewer, `${V1}/assets?scope=marketplace&q=churn`)
    expect(cat.body.data.map((x: { asset_id: string }) => x.asset_id)).toEqual([modelAsset])
    expect(JSON.stringify(cat.body)).not.toContain(String(lakeSource))
    expect((await call(b.admin, `${V1}/assets/${modelAsset}`, { method: 'PATCH', json: { name: 'mine' } })).status).toBe(403)
    expect((await call(b.admin, `${V1}/assets/${modelAsset}`, { method: 'DELETE' })).status).toBe(403)
    expect((await call(b.admin, `${V1}/assets/${modelAsset}/versions`)).status).toBe(404)
  })
})

describe('execution', () => {
  let spec: PreprocessSpec
  let model: ReturnType<typeof loadModel>
  let modelBytes: Uint8Array

  beforeAll(async () => {
    const { rows: s } = await app.db.query(`select p.spec from public.training_jobs t join public.preprocesses p on p.id = t.preprocess_id where t.id = $1`, [trainId])
    spec = s[0].spec
    const dl = await app.fetch(`/api/v1/train/download-model/${trainId}`, { headers: a.viewer.auth })
    modelBytes = new Uint8Array(await dl.arrayBuffer())
    model = loadModel(dl.headers.get('x-model-format') as 'xgboost-binary', modelBytes)
  })

  it("answers as the spec shows; the probability and SHAP factors are the downloaded model's", async () => {
    const row = rows[7]
    const r = await call(b.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: { input_data: churnInput(row), parameters: { top_factors: 50 } } })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const d = r.body.data
    expect(d).toMatchObject({ asset_id: modelAsset, CustomerID: row.CustomerID, execution_id: expect.stringMatching(/^exec_/) })
    expect(d.metadata).toMatchObject({ model_version: '1.0.0', data_points_used: 1200 })
    expect(d.metadata.execution_time_ms).toBeGreaterThan(0)
    const x = transformRecord(spec, row as unknown as Record<string, unknown>)
    const p = predict(model, x, 1)[0]
    expect(d.results.churn_probability).toBeCloseTo(p, 12)
    expect(d.results.risk_level).toBe(p >= 0.6 ? 'high' : p >= 0.3 ? 'medium' : 'low')
    expect(d.results.confidence_interval.lower).toBeLessThan(p)
    expect(d.results.confidence_interval.upper).toBeGreaterThan(p)
    // SHAP local accuracy: the factors' contributions and the bias add up to the margin
    const shap = shapValues(model, x, 1)
    const bias = shap.values[shap.width - 1]
    const sum = d.results.key_factors.reduce((s: number, f: { contribution: number }) => s + f.contribution, 0)
    expect(sum + bias).toBeCloseTo(Math.log(p / (1 - p)), 4)
    for (const f of d.results.key_factors) expect(f.direction).toBe(f.contribution > 0 ? 'risk' : 'protective')
    expect(d.results.key_factors.reduce((s: number, f: { importance: number }) => s + f.importance, 0)).toBeCloseTo(1, 9)
  })

  const noXgb = pythonMissing(['xgboost', 'numpy'])
  it.skipIf(skipReason(noXgb, 'native xgboost oracle'))('native XGBoost: same probability and the same per-column contributions (pred_contribs)', async () => {
    const pick = [rows[1], rows[2], rows[3]]
    const got = await Promise.all(pick.map((row) => call(a.admin, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: { input_data: churnInput(row), parameters: { top_factors: 50 } } })))
    const F = spec.features.length
    const x = new Float32Array(pick.length * F)
    pick.forEach((row, i) => x.set(transformRecord(spec, row as unknown as Record<string, unknown>), i * F))
    const dir = scratchDir()
    try {
      fs.writeFileSync(path.join(dir, 'model.bin'), modelBytes)
      writeF32(path.join(dir, 'x.f32'), x)
      const native = runPython<{ p: number[]; c: number[][] }>(
        `
import json, sys, numpy as np, xgboost as xgb
a = json.load(sys.stdin)
b = xgb.Booster(); b.load_model(a['dir'] + '/model.bin')
x = np.fromfile(a['dir'] + '/x.f32', dtype=np.float32).reshape(-1, a['F'])
d = xgb.DMatrix(x, missing=np.nan)
print(json.dumps({'p': b.predict(d).tolist(), 'c': b.predict(d, pred_contribs=True).tolist()}))`,
        { dir, F },
      )
      got.forEach((g, i) => {
        expect(g.body.data.results.churn_probability).toBeCloseTo(native.p[i], 5)
        for (const f of g.body.data.results.key_factors) {
          const col = spec.columns.find((cc) => cc.column === f.factor)!
          expect(f.contribution).toBeCloseTo(col.features.reduce((s, k) => s + native.c[i][k], 0), 4)
        }
      })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, ORACLE_TIMEOUT)

  it('refuses bad input naming the field (recorded as rejected, not billed, not counted against the free tier)', async () => {
    const good = churnInput(rows[9])
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, billing: { SupportCalls: 1 } }, 'input_data.MonthlyCharges'],
      [{ ...good, billing: { MonthlyCharges: 'a lot', SupportCalls: 1 } }, 'input_data.billing.MonthlyCharges'],
      [{ ...good, account: { ...good.account, Tenure: 3.5 } }, 'input_data.account.Tenure'],
      [{ ...good, account: { ...good.account, SignupDate: 'yesterday' } }, 'input_data.account.SignupDate'],
      [{ ...good, favourite_colour: 'blue' }, 'input_data.favourite_colour'],
      [{ ...good, Plan: 'Basic' }, 'input_data.Plan'],
    ]
    for (const [input, field] of cases) {
      const r = await call(b.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: { input_data: input } })
      expect(r.status, field).toBe(400)
      expect(r.body.error.details.field).toBe(field)
    }
    const r = await call(b.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: { input_data: good, parameters: { nope: 1 } } })
    expect(r.status).toBe(400)
    const { rows: m } = await app.db.query(`select status, count(*)::int as n from public.asset_executions where consumer_tenant_id = $1 group by status order by status`, [b.id])
    expect(m).toEqual([{ status: 'rejected', n: 6 }, { status: 'success', n: 1 }])
    expect((await call(b.viewer, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: { input_data: good } })).status).toBe(403)
    expect((await call(b.operator, `${V1}/assets/asset_000000000000/execute`, { method: 'POST', json: { input_data: good } })).status).toBe(404)
  })

  it('meters the free tier: 402 past it without a billing agreement, billed after accepting the pricing', async () => {
    const input = { input_data: churnInput(rows[11]) }
    for (let i = 0; i < 2; i++) expect((await call(b.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: input })).status).toBe(200)
    const refused = await call(b.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: input })
    expect(refused.status).toBe(402)
    expect(refused.body).toMatchObject({
      status: 'error',
      error: { code: 'PAYMENT_REQUIRED', details: { asset_id: modelAsset, free_tier: { requests: 3, period: 'monthly', used: 3 }, price: 2.5, currency: 'USD' } },
      request_id: expect.any(String),
    })
    const usage = await call(b.viewer, `${V1}/assets/${modelAsset}/subscription`)
    expect(usage.body.data).toMatchObject({ subscribed: true, billing_agreement: false, usage: { used_this_period: 3, free_tier_requests: 3, free_tier_remaining: 0, refused_for_quota: 1, billed_requests: 0 } })
    const sub = await call(b.admin, `${V1}/assets/${modelAsset}/subscription`, { method: 'POST', json: { accept_pricing: true } })
    expect(sub.status).toBe(200)
    expect(sub.body.data).toMatchObject({ billing_agreement: true, webhook_secret: expect.stringMatching(/^whsec_/) })
    for (let i = 0; i < 2; i++) expect((await call(b.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: input })).status).toBe(200)
    const after = await call(b.viewer, `${V1}/assets/${modelAsset}/subscription`)
    expect(after.body.data.usage).toMatchObject({ used_this_period: 5, billed_requests: 2, billed_amount: 5 })
    // the provider executing its own asset is never metered against the pricing
    expect((await call(a.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: input })).status).toBe(200)
  })

  it("the provider's usage and revenue are computed from the meter; a consumer sees only its own", async () => {
    // tenant C uses the asset too
    expect((await call(c.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: { input_data: churnInput(rows[20]) } })).status).toBe(200)
    const { rows: m } = await app.db.query(
      `select count(*) filter (where status <> 'rejected')::int as requests, count(distinct consumer_tenant_id) filter (where consumer_tenant_id <> provider_tenant_id and status <> 'rejected')::int as customers,
              sum(price) filter (where billable)::float8 as revenue, avg(latency_ms) filter (where status = 'success') as avg
         from public.asset_executions where asset_id = $1`,
      [modelAsset],
    )
    const r = await call(a.admin, `${V1}/assets/${modelAsset}`)
    expect(r.body.data.usage_statistics).toMatchObject({ total_requests: m[0].requests, requests_last_30d: m[0].requests, unique_customers: 2 })
    expect(m[0].customers).toBe(2)
    expect(r.body.data.marketplace_info).toMatchObject({ monthly_revenue: 5, total_revenue: 5, active_subscribers: 2 })
    expect(r.body.data.performance_metrics.avg_response_time).toBeCloseTo(Number(m[0].avg), 1)
    expect(r.body.data.performance_metrics.uptime_percentage).toBe(100)
    const list = await call(a.admin, `${V1}/assets?status=published&sort=name`)
    expect(list.body.data[0].revenue_metrics).toEqual({ monthly_revenue: 5, total_customers: 2 })
    // B: its own usage only, through the API and through the table as PostgREST would read it
    const bView = await call(b.admin, `${V1}/assets/${modelAsset}`)
    expect(bView.body.data.usage_statistics.total_requests).toBe(5)
    expect(bView.body.data.marketplace_info.monthly_revenue).toBeUndefined()
    const { rows: visible } = await asCaller(app.db, { sub: b.admin.userId, role: 'authenticated', app_metadata: { tenant_id: b.id } }, (tx) =>
      tx.query(`select distinct consumer_tenant_id from public.asset_executions`),
    )
    expect(visible).toEqual([{ consumer_tenant_id: b.id }])
    // nor A's training data or model
    expect((await call(b.admin, `/api/v1/train/model-summary?train_id=${trainId}`)).status).toBe(404)
    expect((await call(b.admin, `/api/v1/train/download-model/${trainId}`)).status).toBe(404)
    const { rows: sources } = await asCaller(app.db, { sub: b.admin.userId, role: 'authenticated', app_metadata: { tenant_id: b.id } }, (tx) => tx.query(`select id from public.data_sources`))
    expect(sources).toEqual([])
  })

  it("SQL assets answer from the source's rows on both engines, parameters typed and checked", async () => {
    for (const [asset, db] of [
      [sqlAsset, pg],
      [myAsset, my],
    ] as const) {
      const r = await call(b.operator, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: { region: 'south', since: '2025-01-10' } } })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      const mine = db.orders.filter((o) => o.region === 'south' && o.day >= '2025-01-10')
      expect(r.body.data.results.rows).toEqual([{ region: 'south', orders: mine.length, revenue: expect.closeTo(mine.reduce((s, o) => s + o.total, 0), 6) }])
      expect(r.body.data.metadata).toMatchObject({ model_version: '1.0.0', data_points_used: 1 })
      const d = await call(b.operator, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: { region: 'north' } } })
      expect(d.body.data.results.rows[0].orders).toBe(db.orders.filter((o) => o.region === 'north').length)
      for (const [input, field] of [
        [{ region: 'west' }, 'input_data.region'],
        [{ region: 'north', since: '2025-13-01' }, 'input_data.since'],
        [{ region: 'north', limit: 5 }, 'input_data.limit'],
        [{}, 'input_data.region'],
      ] as const) {
        const bad = await call(b.operator, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: input } })
        expect(bad.status, field).toBe(400)
        expect(bad.body.error.details.field).toBe(field)
      }
    }
  })

  it('a query past its statement timeout is a 504, metered as an error', async () => {
    const r = await call(a.admin, `${V1}/assets`, {
      method: 'POST',
      json: { name: 'slow', category: 'reporting', data_sources: [{ source_id: pgSource }], configuration: { query: 'select pg_sleep(:s) as slept', parameters: [{ name: 's', type: 'number', default: 0 }], timeout_ms: 300 } },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    const slow = await call(a.admin, `${V1}/assets/${r.body.data.asset_id}/execute`, { method: 'POST', json: { input_data: { s: 2 } } })
    expect(slow.status).toBe(504)
    const { rows: m } = await app.db.query(`select status, error_code from public.asset_executions where asset_id = $1`, [r.body.data.asset_id])
    expect(m).toEqual([{ status: 'error', error_code: 'REQUEST_TIMEOUT' }])
  })
})

describe('versions', () => {
  it('PATCH bumps by what changed: patch for pricing, minor for configuration (retraining), major for the input schema', async () => {
    const price = await call(a.admin, `${V1}/assets/${modelAsset}`, { method: 'PATCH', json: { pricing: { price: 3.5 }, version_notes: 'cheaper' } })
    expect(price.status, JSON.stringify(price.body)).toBe(200)
    expect(price.body.data).toMatchObject({ version: '1.0.1', changes: ['Adjusted pricing to $3.50'], requires_retaining: false, version_status: 'active', version_notes: 'cheaper' })
    const cfg = await call(a.admin, `${V1}/assets/${modelAsset}`, {
      method: 'PATCH',
      json: { name: 'Advanced Customer Churn Predictor', configuration: { performance_threshold: 0.9, additional_features: ['social_media_engagement', 'mobile_app_usage'] }, pricing: { free_tier: { requests: 75 } } },
    })
    expect(cfg.body.data).toMatchObject({ version: '1.1.0', requires_retaining: true, requires_retraining: true, estimated_retraining_time: expect.stringMatching(/^\d+_minutes$/) })
    expect(cfg.body.data.changes).toEqual(expect.arrayContaining(['Updated performance threshold to 0.90', 'Added 2 new features', 'Renamed to "Advanced Customer Churn Predictor"', 'Free tier set to 75 requests per month']))
    // a published asset's changed configuration waits for a deploy
    expect(cfg.body.data.version_status).toBe('candidate')
    const q = await call(a.admin, `${V1}/assets/${sqlAsset}`, {
      method: 'PATCH',
      json: {
        configuration: {
          query: 'select region, count(*) as orders from orders where region = :region and day >= :since and total >= :min_total group by region',
          parameters: [{ name: 'region', type: 'string' }, { name: 'since', type: 'date', default: '2025-01-01' }, { name: 'min_total', type: 'number', default: 0 }],
        },
      },
    })
    expect(q.status, JSON.stringify(q.body)).toBe(200)
    expect(q.body.data).toMatchObject({ version: '2.0.0', requires_retaining: false, version_status: 'candidate' })
    expect(q.body.data.changes[0]).toBe('Changed the input schema: added min_total')
    const none = await call(a.admin, `${V1}/assets/${sqlAsset}`, { method: 'PATCH', json: {} })
    expect(none.body.data).toMatchObject({ version: '2.0.0', changes: [] })
    // a candidate does not take traffic: executions still run 1.0.0's query
    const e = await call(b.operator, `${V1}/assets/${sqlAsset}/execute`, { method: 'POST', json: { input_data: { region: 'east' } } })
    expect(e.body.data.metadata.model_version).toBe('1.0.0')
    expect(e.body.data.results.rows[0].revenue).toBeDefined()
  })

  it('lists the versions with status, changes and metrics from their executions', async () => {
    const r = await call(a.viewer, `${V1}/assets/${modelAsset}/versions`)
    expect(r.status).toBe(200)
    expect(r.body.data.map((v: { version: string; status: string }) => [v.version, v.status])).toEqual([
      ['1.1.0', 'candidate'],
      ['1.0.1', 'active'],
      ['1.0.0', 'deprecated'],
    ])
    expect(r.body.meta).toEqual({ current_version: '1.0.1', latest_version: '1.1.0', total_versions: 3, deployment: null })
    const v100 = r.body.data[2]
    const { rows: m } = await app.db.query(`select count(*)::int as n from public.asset_executions e join public.asset_versions v on v.id = e.version_id where e.asset_id = $1 and v.version = '1.0.0' and e.status <> 'rejected'`, [modelAsset])
    expect(v100.performance_metrics.requests).toBe(m[0].n)
    expect(v100.performance_metrics.accuracy).toBeGreaterThan(0.6)
    expect(r.body.data[1]).toMatchObject({ changes: ['Adjusted pricing to $3.50'], version_notes: 'cheaper' })
  })
})

describe('delete', () => {
  it('archives by default; permanent delete is refused while consumers subscribe, then removes the asset', async () => {
    expect((await call(a.admin, `${V1}/assets/${myAsset}`, { method: 'DELETE' })).status).toBe(204)
    expect((await call(a.admin, `${V1}/assets/${myAsset}`)).body.data.status).toBe('archived')
    // archived: other tenants can no longer execute it
    expect((await call(b.operator, `${V1}/assets/${myAsset}/execute`, { method: 'POST', json: { input_data: { region: 'north' } } })).status).toBe(404)
    const refused = await call(a.admin, `${V1}/assets/${myAsset}?permanent=true`, { method: 'DELETE' })
    expect(refused.status).toBe(409)
    expect(refused.body.error.details.active_subscribers).toBe(1)
    expect((await call(b.admin, `${V1}/assets/${myAsset}/subscription`, { method: 'DELETE' })).status).toBe(204)
    expect((await call(a.admin, `${V1}/assets/${myAsset}?permanent=true`, { method: 'DELETE' })).status).toBe(204)
    expect((await call(a.admin, `${V1}/assets/${myAsset}`)).status).toBe(404)
    expect((await call(a.admin, `${V1}/assets/${myAsset}?permanent=maybe`, { method: 'DELETE' })).status).toBe(400)
  })
})

describe('credentials', () => {
  it('never appear in any response or log line', () => {
    expect(seen.length).toBeGreaterThan(50)
    for (const secret of [pg.password, my.password, 'bq-secret-key']) {
      expect(seen.filter((s) => s.includes(secret))).toEqual([])
      expect(logged.filter((s) => s.includes(secret))).toEqual([])
    }
  })
})
