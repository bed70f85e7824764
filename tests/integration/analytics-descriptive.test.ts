import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kurtosis, mean, momentsOf, quantileSorted, skewness, variance } from '#app/features/analytics/stats.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { apiKeyHeaders, MARKETING_SCHEMA, marketingCsv, marketingRows, uploadDataset, type MarketingRow } from '#tests/support/analytics-data.ts'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'

/** POST /api/v1/analytics/descriptive against a test-side computation over the same rows, and pandas. */

let app: TestApp
let a: TestTenant
let b: TestTenant
let id: number
let bId: number
const rows = marketingRows(240, 1)

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  id = await uploadDataset(app, a.admin, 'sales', MARKETING_SCHEMA, marketingCsv(rows))
  bId = await uploadDataset(app, b.admin, 'sales', MARKETING_SCHEMA, marketingCsv(marketingRows(50, 9)))
})
afterAll(() => app.close())

const post = (body: unknown, headers: Record<string, string> = a.viewer.auth) => json(app.fetch('/api/v1/analytics/descriptive', { method: 'POST', headers, json: body }))

function expected(values: number[]) {
  const s = [...values].sort((x, y) => x - y)
  const m = momentsOf(values)
  return {
    count: values.length,
    mean: mean(values),
    median: quantileSorted(s, 0.5),
    std: Math.sqrt(variance(values)),
    var: variance(values),
    min: s[0],
    max: s[s.length - 1],
    sum: values.reduce((t, v) => t + v, 0),
    skewness: skewness(m),
    kurtosis: kurtosis(m),
    q1: quantileSorted(s, 0.25),
    q3: quantileSorted(s, 0.75),
    p10: quantileSorted(s, 0.1),
    p90: quantileSorted(s, 0.9),
  }
}

const close = (got: number, want: number, digits = 8) => expect(got).toBeCloseTo(want, Math.max(0, digits - Math.ceil(Math.log10(Math.abs(want) + 1))))

describe('descriptive', () => {
  const inRange = (r: MarketingRow) => r.day >= '2024-02-01' && r.day <= '2024-06-30'
  const spend = rows.filter(inRange).map((r) => r.marketing_spend).filter((v): v is number => v !== null)

  it('computes every metric over a date range, by group, in the spec shape', async () => {
    const r = await post({
      dataset_id: String(id),
      metrics: ['count', 'sum', 'mean', 'median', 'std', 'var', 'min', 'max', 'quartiles', 'skewness', 'kurtosis', 'missing_count', 'distinct_count'],
      percentiles: [10, 90],
      column: 'marketing_spend',
      group_by: ['region', 'promo'],
      filters: { date_range: { start: '2024-02-01', end: '2024-06-30' } },
    })
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('success')
    expect(r.body.execution_time_ms).toBeGreaterThan(0)
    const e = expected(spend)
    const s = r.body.results.summary
    for (const k of ['count', 'sum', 'mean', 'median', 'std', 'var', 'min', 'max', 'skewness', 'kurtosis'] as const) close(s[k], e[k] as number)
    expect(s.missing).toBe(rows.filter(inRange).length - spend.length)
    expect(s.distinct).toBe(new Set(spend).size)
    close(r.body.results.quartiles.q1, e.q1)
    close(r.body.results.quartiles.q2, e.median)
    close(r.body.results.quartiles.q3, e.q3)
    close(r.body.results.percentiles.p10, e.p10)
    close(r.body.results.percentiles.p90, e.p90)
    expect(r.body.row_count).toBe(rows.filter(inRange).length)
    // by_region: one entry per region, largest first, each with the same figures over its rows
    const regions = [...new Set(rows.filter(inRange).map((x) => x.region))]
    expect(r.body.results.by_region).toHaveLength(regions.length)
    for (const g of r.body.results.by_region) {
      const vals = rows.filter((x) => inRange(x) && x.region === g.region).map((x) => x.marketing_spend).filter((v): v is number => v !== null)
      const ge = expected(vals)
      expect(g.count).toBe(vals.length)
      close(g.mean, ge.mean)
      close(g.std, ge.std)
      close(g.quartiles.q3, ge.q3)
    }
    const counts = r.body.results.by_region.map((g: { rows: number }) => g.rows)
    expect(counts).toEqual([...counts].sort((x: number, y: number) => y - x))
    expect(r.body.results.by_promo.map((g: { promo: boolean }) => g.promo).sort()).toEqual([false, true])
  })

  it('describes every numeric column by default and matches pandas', async () => {
    const r = await post({ dataset_id: id, metrics: ['mean', 'median', 'std', 'quartiles', 'skewness', 'kurtosis'], group_by: 'region' })
    expect(r.status).toBe(200)
    expect(Object.keys(r.body.results.columns)).toEqual(['marketing_spend', 'price', 'inventory', 'staff', 'revenue'])
    expect(r.body.column).toBe('marketing_spend')
    const why = pythonMissing(['pandas'])
    if (why) return skipNote('descriptive vs pandas', why)
    const py = runPython(
      `import json,sys
import pandas as pd
df=pd.DataFrame(json.load(sys.stdin))
out={}
for c in ['marketing_spend','price','inventory','staff','revenue']:
  s=df[c].dropna()
  out[c]={'mean':s.mean(),'median':s.median(),'std':s.std(),'skew':s.skew(),'kurt':s.kurt(),'q1':s.quantile(.25),'q3':s.quantile(.75)}
g=df.groupby('region')['marketing_spend']
out['by_region']={k:{'mean':v.mean(),'std':v.std(),'skew':v.skew(),'median':v.median()} for k,v in g}
print(json.dumps(out))`,
      rows,
    )
    for (const c of ['marketing_spend', 'price', 'inventory', 'staff', 'revenue']) {
      const got = r.body.results.columns[c]
      close(got.summary.mean, py[c].mean)
      close(got.summary.median, py[c].median)
      close(got.summary.std, py[c].std)
      close(got.summary.skewness, py[c].skew, 6)
      close(got.summary.kurtosis, py[c].kurt, 6)
      close(got.quartiles.q1, py[c].q1)
      close(got.quartiles.q3, py[c].q3)
    }
    for (const g of r.body.results.by_region) {
      close(g.mean, py.by_region[g.region].mean)
      close(g.skewness, py.by_region[g.region].skew, 6)
      close(g.median, py.by_region[g.region].median)
    }
  }, ORACLE_TIMEOUT)

  it('applies equality and range filters', async () => {
    const filters = { equals: { region: ['north', 'east'], promo: false }, range: { price: { min: 90, max: 110 } } }
    const r = await post({ dataset_id: id, metrics: ['count', 'mean', 'min', 'max'], columns: ['revenue'], filters })
    expect(r.status).toBe(200)
    const sel = rows.filter((x) => ['north', 'east'].includes(x.region) && !x.promo && x.price >= 90 && x.price <= 110)
    expect(r.body.results.summary.count).toBe(sel.length)
    close(r.body.results.summary.mean, mean(sel.map((x) => x.revenue)))
    // min/max of a date column are dates; count, missing and distinct work on any column
    const d = await post({ dataset_id: id, metrics: ['count', 'min', 'max', 'distinct'], columns: ['day'], filters })
    expect(d.status).toBe(200)
    expect(d.body.results.summary.min).toBe(sel.map((x) => x.day).sort()[0])
    expect(d.body.results.summary.distinct).toBe(sel.length)
    const t = await post({ dataset_id: id, metrics: ['count', 'distinct', 'missing'], columns: ['region'], filters })
    expect(t.body.results.summary).toEqual({ count: sel.length, distinct: 2, missing: 0 })
  })

  it('answers an API key with analytics.read (and X-WIA-Client-ID) as it answers a user', async () => {
    const key = await apiKeyHeaders(app, a.admin, ['analytics.read'])
    const r = await post({ dataset_id: id, metrics: ['mean'] }, key)
    expect(r.status).toBe(200)
    const wrongClient = await post({ dataset_id: id, metrics: ['mean'] }, { ...key, 'x-wia-client-id': 'hdc_someoneelse' })
    expect(wrongClient.status).toBe(401)
    const noScope = await apiKeyHeaders(app, a.admin, ['datasets.read'])
    expect((await post({ dataset_id: id }, noScope)).status).toBe(403)
    expect((await post({ dataset_id: id }, {})).status).toBe(401)
  })

  it('never shows another tenant’s dataset: INVALID_DATASET 404 whatever the id', async () => {
    for (const ds of [bId, String(bId), 999999, 'abc123', -1, 1.5]) {
      const r = await post({ dataset_id: ds })
      expect(r.status, String(ds)).toBe(404)
      expect(r.body.error.code).toBe('INVALID_DATASET')
      expect(r.body.error.details.dataset_id).toEqual(ds)
    }
    const own = await post({ dataset_id: bId }, b.viewer.auth)
    expect(own.status).toBe(200)
  })

  it('answers every bad input with a 4xx naming the field', async () => {
    const cases: [unknown, number, string][] = [
      [{ dataset_id: id, columns: ['nope'] }, 400, 'columns[0]'],
      [{ dataset_id: id, column: 'region', metrics: ['mean'] }, 400, 'metrics'],
      [{ dataset_id: id, metrics: ['average', 'bogus'] }, 400, 'metrics.1'],
      [{ dataset_id: id, group_by: ['region', 'nope'] }, 400, 'group_by[1]'],
      [{ dataset_id: id, percentiles: [101] }, 400, 'percentiles.0'],
      [{ dataset_id: id, filters: { equals: { price: 'cheap' } } }, 400, 'filters.equals.price'],
      [{ dataset_id: id, filters: { equals: { nope: 1 } } }, 400, 'filters.equals.nope'],
      [{ dataset_id: id, filters: { range: { region: { min: 1 } } } }, 400, 'filters.range.region'],
      [{ dataset_id: id, filters: { date_range: { start: 'yesterday' } } }, 400, 'filters.date_range.start'],
      [{ dataset_id: id, filters: { date_range: { start: '2024-05-01', end: '2024-04-01' } } }, 400, 'filters.date_range'],
      [{ dataset_id: id, filters: { date_column: 'price', date_range: { start: '2024-01-01' } } }, 400, 'filters.date_column'],
      [{ dataset_id: id, filters: { wat: 1 } }, 400, 'filters'],
      [{ dataset_id: id, metrix: ['mean'] }, 400, 'body'],
      [{ metrics: ['mean'] }, 400, 'dataset_id'],
    ]
    for (const [body, status, field] of cases) {
      const r = await post(body)
      expect(r.status, JSON.stringify(body)).toBe(status)
      const fields = (r.body.error.details.fields ?? [{ field: r.body.error.details.field }]).map((f: { field: string }) => f.field)
      expect(fields.join(' ') + ' ' + r.body.error.message, JSON.stringify(body)).toContain(field === 'body' ? '' : field)
    }
    const empty = await post({ dataset_id: id, filters: { date_range: { start: '2030-01-01' } } })
    expect(empty.status).toBe(400)
    expect(empty.body.error.code).toBe('INSUFFICIENT_DATA')
    expect(empty.body.error.details.field).toBe('filters')
  })
})
