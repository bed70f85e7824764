import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import '#app/features/datasets/jobs.server.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/** Statistics and datalake numbers against an independent computation in TypeScript over the same generated rows. */

let app: TestApp
let a: TestTenant
let b: TestTenant
let datasetId: number

// A deterministic generator (LCG) so the data is the same every run.
function rng(seed: number) {
  let s = seed
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
}
interface Row { id: number; amount: number | null; category: string; flag: boolean; day: string | null; bad: boolean }
const N = 600
const rows: Row[] = []
{
  const r = rng(42)
  const cats = ['alpha', 'beta', 'gamma', 'delta']
  for (let i = 1; i <= N; i++) {
    const amount = r() < 0.1 ? null : Math.round((r() * 1000 - 200) * 100) / 100
    const d = new Date(Date.UTC(2024, 0, 1) + Math.floor(r() * 365) * 86400000).toISOString().slice(0, 10)
    rows.push({ id: i, amount, category: cats[Math.floor(r() * r() * 4)], flag: r() < 0.3, day: r() < 0.05 ? null : d, bad: i % 50 === 0 })
  }
}
const csv =
  'id,amount,category,flag,day\n' +
  rows.map((x) => [x.id, x.bad ? 'oops' : (x.amount ?? ''), x.category, x.flag, x.day ?? ''].join(',')).join('\n') + '\n'
const valid = rows.filter((x) => !x.bad)

function quantile(sorted: number[], p: number) {
  const pos = p * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}
const amounts = valid.map((x) => x.amount).filter((v): v is number => v !== null).sort((p, q) => p - q)
const mean = amounts.reduce((s, v) => s + v, 0) / amounts.length
const std = Math.sqrt(amounts.reduce((s, v) => s + (v - mean) ** 2, 0) / (amounts.length - 1))

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  const t = await json(app.fetch('/api/v1/template/', {
    method: 'POST', headers: a.admin.auth,
    json: { template_name: 'Sales', template_schema: [
      { column_name: 'id', data_type: 'Integer' }, { column_name: 'amount', data_type: 'Float' }, { column_name: 'category', data_type: 'String' },
      { column_name: 'flag', data_type: 'Boolean' }, { column_name: 'day', data_type: 'Date' }] },
  }))
  const form = new FormData()
  form.append('files', new Blob([csv]), 'sales.csv')
  const up = await json(app.fetch(`/api/v1/dataset/upload?dataset_name=sales&usage=t&template_id=${t.body.id}&iceberg_table_name=sales_q3`, { method: 'POST', headers: a.admin.auth, body: form }))
  expect(up.status).toBe(201)
  expect(up.body.files[0].error_report.invalid_rows).toBe(N / 50)
  datasetId = up.body.dataset_id
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
})
afterAll(async () => {
  await stopWorker({ timeoutMs: 2000 })
  await app.close()
})

describe('statistics job', () => {
  it('computes per-column statistics matching an independent computation', async () => {
    const before = await json(app.fetch(`/api/v1/dataset/statistics?dataset_id=${datasetId}`, { headers: a.viewer.auth }))
    expect(before.body.status).toBe('not_requested')
    const sub = await json(app.fetch(`/api/v1/dataset/generate_statistics?dataset_id=${datasetId}`, { method: 'POST', headers: a.admin.auth }))
    expect(sub.status).toBe(202)
    expect(sub.body).toMatchObject({ status: 'success', message: 'Statistics generation job submitted successfully.', job_id: expect.any(String) })
    let st: any
    for (let i = 0; i < 100; i++) {
      st = (await json(app.fetch(`/api/v1/dataset/statistics?dataset_id=${datasetId}`, { headers: a.viewer.auth }))).body
      if (['completed', 'failed'].includes(st.status)) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(st.status, JSON.stringify(st)).toBe('completed')
    expect(st.progress).toBe(100)
    // One state: the statistics answer carries the job's own status, progress, step and finish time.
    const job = (await json(app.fetch(`/api/v1/jobs/${sub.body.job_id}`, { headers: a.viewer.auth }))).body
    expect(st).toMatchObject({ job_id: sub.body.job_id, status: job.status, progress: job.progress, message: job.message, error: null, completed_at: job.finished_at })
    const { rows: stateCols } = await app.db.query(
      `select column_name from information_schema.columns where table_schema = 'public' and table_name = 'dataset_statistics' and column_name in ('status', 'progress', 'message', 'error', 'completed_at')`,
    )
    expect(stateCols).toEqual([])
    const log = (await json(app.fetch(`/api/v1/jobs/${sub.body.job_id}/logs`, { headers: a.viewer.auth }))).body.logs.map((l: any) => l.message)
    expect(log[0]).toBe('Started')
    expect(log).toContain(`column 1 of ${st.result.columns.length}: ${st.result.columns[0].column}`)
    expect(log.slice(-2)).toEqual(['done', 'Completed'])
    const res = st.result
    expect(res.row_count).toBe(valid.length)
    const col = (name: string) => res.columns.find((c: any) => c.column === name)
    const amt = col('amount')
    expect(amt.count).toBe(amounts.length)
    expect(amt.nulls).toBe(valid.length - amounts.length)
    expect(amt.distinct).toBe(new Set(amounts).size)
    expect(amt.min).toBe(amounts[0])
    expect(amt.max).toBe(amounts.at(-1))
    expect(amt.mean).toBeCloseTo(mean, 9)
    expect(amt.std).toBeCloseTo(std, 9)
    expect(amt.quartiles.q1).toBeCloseTo(quantile(amounts, 0.25), 9)
    expect(amt.quartiles.median).toBeCloseTo(quantile(amounts, 0.5), 9)
    expect(amt.quartiles.q3).toBeCloseTo(quantile(amounts, 0.75), 9)
    const width = (amounts.at(-1)! - amounts[0]) / 20
    const bins = new Array(20).fill(0)
    for (const v of amounts) bins[Math.min(19, Math.floor((v - amounts[0]) / width))]++
    expect(amt.histogram.map((h: any) => h.count)).toEqual(bins)
    const cat = col('category')
    const counts = new Map<string, number>()
    for (const x of valid) counts.set(x.category, (counts.get(x.category) ?? 0) + 1)
    const top = [...counts].sort((p, q) => q[1] - p[1] || (p[0] < q[0] ? -1 : 1)).map(([value, count]) => ({ value, count }))
    expect(cat.top_values).toEqual(top)
    expect(cat.distinct).toBe(counts.size)
    const flag = col('flag')
    expect(flag.top_values.find((t: any) => t.value === 'true').count).toBe(valid.filter((x) => x.flag).length)
    const day = col('day')
    const days = valid.map((x) => x.day).filter((d): d is string => d !== null).sort()
    expect(day).toMatchObject({ count: days.length, nulls: valid.length - days.length, min: days[0], max: days.at(-1), distinct: new Set(days).size })
    expect(day.range_days).toBe((Date.parse(days.at(-1)!) - Date.parse(days[0])) / 86400000)
  })
  it('is not visible to another tenant', async () => {
    expect((await app.fetch(`/api/v1/dataset/statistics?dataset_id=${datasetId}`, { headers: b.admin.auth })).status).toBe(404)
  })
})

describe('datalake', () => {
  it('lists schemas and only the tenant’s tables', async () => {
    const s = await json(app.fetch('/api/v1/datalake/schemas', { headers: a.viewer.auth }))
    expect(s.body.data.map((x: any) => [x.schema_name, x.table_count])).toEqual([['bronze', 1], ['silver', 1], ['gold', 0]])
    const t = await json(app.fetch('/api/v1/datalake/schemas/tables?schema_name=silver', { headers: a.viewer.auth }))
    expect(t.body.data).toHaveLength(1)
    expect(t.body.data[0]).toMatchObject({ table_name: 'sales_q3', dataset_id: datasetId, row_estimate: valid.length })
    expect((await json(app.fetch('/api/v1/datalake/schemas/tables?schema_name=silver', { headers: b.admin.auth }))).body.data).toEqual([])
  })
  it('gives columns with types and metadata', async () => {
    const c = await json(app.fetch('/api/v1/datalake/tables/columns?schema_name=silver&table_name=sales_q3', { headers: a.viewer.auth }))
    expect(c.body).toEqual([
      { column_name: 'id', data_type: 'bigint' }, { column_name: 'amount', data_type: 'double' }, { column_name: 'category', data_type: 'varchar' },
      { column_name: 'flag', data_type: 'boolean' }, { column_name: 'day', data_type: 'date' },
    ])
    const bronze = await json(app.fetch('/api/v1/datalake/tables/columns?schema_name=bronze&table_name=sales_q3', { headers: a.viewer.auth }))
    expect(bronze.body.every((x: any) => x.data_type === 'varchar')).toBe(true)
    const m = await json(app.fetch('/api/v1/datalake/table_metadata?schema_name=silver&table_name=sales_q3', { headers: a.viewer.auth }))
    expect(m.body).toMatchObject({ schema: 'silver', table: 'sales_q3', owner: a.admin.username, format: 'postgres', row_count: valid.length })
    const m2 = await json(app.fetch('/api/v1/datalake/table_metadata?schema_name=silver&table_name=sales_q3', { headers: a.viewer.auth }))
    expect(m2.body.last_access_time).not.toBeNull()
  })
  it('computes numeric_stats and distinct-count in Postgres, matching TypeScript', async () => {
    const n = await json(app.fetch('/api/v1/datalake/numeric_stats?schema_name=silver&table_name=sales_q3&column_name=amount', { headers: a.viewer.auth }))
    expect(n.body.column).toBe('amount')
    expect(n.body.count).toBe(amounts.length)
    expect(n.body.mean).toBeCloseTo(mean, 9)
    expect(n.body.std_dev).toBeCloseTo(std, 9)
    expect(n.body.min).toBe(amounts[0])
    expect(n.body.max).toBe(amounts.at(-1))
    expect(n.body.median).toBeCloseTo(quantile(amounts, 0.5), 9)
    const d = await json(app.fetch('/api/v1/datalake/distinct-count?schema=silver&table=sales_q3&column=category', { headers: a.viewer.auth }))
    expect(d.body.distinct_count).toBe(new Set(valid.map((x) => x.category)).size)
    const bronzeN = await json(app.fetch('/api/v1/datalake/distinct-count?schema=bronze&table=sales_q3&column=id', { headers: a.viewer.auth }))
    expect(bronzeN.body.distinct_count).toBe(N)
    const text = await json(app.fetch('/api/v1/datalake/numeric_stats?schema_name=silver&table_name=sales_q3&column_name=category', { headers: a.viewer.auth }))
    expect(text.status).toBe(400)
  })
  it('treats names as data: injection attempts and other tenants’ tables are 400/404', async () => {
    const t8 = a.id.replace(/-/g, '').slice(0, 8)
    const h = { headers: a.viewer.auth }
    const bad: [string, number][] = [
      ['/api/v1/datalake/schemas/tables?schema_name=public', 400],
      ['/api/v1/datalake/schemas/tables?schema_name=' + encodeURIComponent("silver'; drop table silver.x; --"), 400],
      ['/api/v1/datalake/tables/columns?schema_name=silver&table_name=' + encodeURIComponent('sales_q3"; drop table silver."t_x'), 404],
      ['/api/v1/datalake/tables/columns?schema_name=pg_catalog&table_name=pg_authid', 400],
      ['/api/v1/datalake/tables/columns?schema_name=silver&table_name=' + encodeURIComponent('../public.profiles'), 404],
      ['/api/v1/datalake/numeric_stats?schema_name=silver&table_name=sales_q3&column_name=' + encodeURIComponent('amount) from silver.x; --'), 404],
      ['/api/v1/datalake/numeric_stats?schema_name=silver&table_name=sales_q3&column_name=_hd_row', 404],
      ['/api/v1/datalake/distinct-count?schema=silver&table=sales_q3&column=' + encodeURIComponent('category"), (select 1'), 404],
      ['/api/v1/datalake/table_metadata?schema_name=silver&table_name=' + encodeURIComponent("sales_q3' or '1'='1"), 404],
    ]
    for (const [p, status] of bad) expect((await app.fetch(p, h)).status, p).toBe(status)
    // tenant B asks for A's table by its display name and by its physical name
    for (const name of ['sales_q3', `t_${t8}_sales_q3`]) {
      expect((await app.fetch(`/api/v1/datalake/tables/columns?schema_name=silver&table_name=${name}`, { headers: b.admin.auth })).status).toBe(404)
      expect((await app.fetch(`/api/v1/datalake/numeric_stats?schema_name=silver&table_name=${name}&column_name=amount`, { headers: b.admin.auth })).status).toBe(404)
    }
    // the table is intact
    expect((await json(app.fetch('/api/v1/datalake/table_metadata?schema_name=silver&table_name=sales_q3', h))).body.row_count).toBe(valid.length)
  })
  it('API roles cannot read the datalake schemas directly', async () => {
    const err = await app.db
      .transaction(async (tx) => {
        await tx.query(`select set_config('role', 'authenticated', true)`)
        return tx.query(`select count(*) from silver.t_${a.id.replace(/-/g, '').slice(0, 8)}_sales_q3`)
      })
      .catch((e) => e)
    expect(err.code).toBe('42501')
  })
})

describe('reading a dataset back (for training and inference)', () => {
  it('streams the typed valid rows in file order, in batches, with a column subset', async () => {
    const { forEachSilverBatch } = await import('#app/features/datasets/datasets.server.ts')
    const sizes: number[] = []
    const got: unknown[][] = []
    const r = await forEachSilverBatch(app.db, a.id, datasetId, (b) => {
      sizes.push(b.rows.length)
      got.push(...b.rows)
      expect(b.columns.map((c) => c.column_name)).toEqual(['amount', 'id', 'day'])
    }, { columns: ['amount', 'id', 'day'], batchSize: 250 })
    expect(r.rows).toBe(valid.length)
    expect(sizes).toEqual([250, 250, valid.length - 500])
    expect(got.map((x) => x[1])).toEqual(valid.map((x) => x.id))
    expect(got.map((x) => x[0])).toEqual(valid.map((x) => x.amount))
    expect(got.map((x) => x[2])).toEqual(valid.map((x) => x.day))
    await expect(forEachSilverBatch(app.db, b.id, datasetId, () => {})).rejects.toMatchObject({ status: 404 })
    await expect(forEachSilverBatch(app.db, a.id, datasetId, () => {}, { columns: ['nope'] })).rejects.toMatchObject({ status: 400 })
  })
})

describe('NUL bytes in names', () => {
  // Bug: a NUL in a table or column name reached Postgres (text cannot hold it) → 500 instead of a 400.
  it('are a 400 on every datalake lookup', async () => {
    for (const p of [
      '/api/v1/datalake/table_metadata?schema_name=silver&table_name=a%00b',
      '/api/v1/datalake/tables/columns?schema_name=silver&table_name=%00',
      '/api/v1/datalake/numeric_stats?schema_name=silver&table_name=a&column_name=b%00',
      '/api/v1/datalake/distinct-count?schema=silver&table=%00&column=x',
    ]) {
      const r = await json(app.fetch(p, { headers: a.viewer.auth }))
      expect(r.status, p).toBe(400)
    }
  })
})
