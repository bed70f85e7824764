import { createElement } from 'react'
import { renderToString } from 'react-dom/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ForecastFields } from '#app/features/ml/forecast-chart.tsx'
import '#app/features/ml/jobs.server.ts'
import { seededNormal } from '#app/features/ml/forecast/models.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, uploadDataset, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { waitForTraining } from '#tests/support/ml.ts'

/*
  Forecast models with a numeric regressor (decision 064), end to end: a monthly series driven by price
  (sales = 50 + 3·price + season + noise, price random) trains with price as a Feature; the regression candidates
  enter the backtest and win it; POST /inference/forecast takes the future prices and tracks the truth computed
  here; every bad regressors field is a 400 naming it; a univariate winner needs none; a model without regressors
  refuses them; another tenant sees nothing; the Forecasts page offers the regressor inputs.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let datasetId: number
let autoId: number
let naiveId: number
let plainId: number

const SCHEMA = [
  { column_name: 'month', data_type: 'Date' },
  { column_name: 'sales', data_type: 'Float' },
  { column_name: 'price', data_type: 'Float' },
  { column_name: 'blank', data_type: 'Float' },
]
const N = 72
const H = 12
const month = (i: number) => new Date(Date.UTC(2019, i, 1)).toISOString().slice(0, 10)
const z = seededNormal(2024)
const PRICE = Array.from({ length: N + 6 + H }, () => Math.round((10 + 3 * z()) * 100) / 100)
const TRUTH = PRICE.map((p, t) => 50 + 3 * p + 8 * Math.sin((2 * Math.PI * (t % 12)) / 12))
const SALES = TRUTH.map((v) => Math.round((v + z()) * 100) / 100)
// one month's price is missing: filled (and counted) by the platform
const PRICE_GAP = 30

function csv(n: number) {
  const lines = ['month,sales,price,blank']
  for (let i = 0; i < n; i++) lines.push(`${month(i)},${SALES[i]},${i === PRICE_GAP ? '' : PRICE[i]},`)
  return lines.join('\n') + '\n'
}

const upload = (user: TestUser, name: string, text: string) => uploadDataset(app, user, name, SCHEMA, text)

const COLUMNS = [
  { column_name: 'month', attribute_name: 'Timestamp' },
  { column_name: 'sales', attribute_name: 'Target' },
  { column_name: 'price', attribute_name: 'Feature' },
]
const request = (over: Record<string, unknown> = {}) => ({
  dataset_id: datasetId,
  predictor_name: `fcx-${Math.random().toString(36).slice(2, 8)}`,
  domain: 'Forecast',
  problem_type: 'Forecast',
  columns: COLUMNS,
  frequency: 'Month',
  forecast: { origins: 2, horizon: 6 },
  ...over,
})
const post = (user: TestUser, path: string, body: unknown) => json(app.fetch(path, { method: 'POST', headers: user.auth, json: body }))
const future = (from: number, steps: number) => PRICE.slice(from, from + steps)

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  datasetId = await upload(a.admin, 'priced_sales', csv(N))
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  const started = await Promise.all([
    post(a.data_scientist, '/api/v1/train/', request({ predictor_name: 'priced_auto' })),
    post(a.data_scientist, '/api/v1/train/', request({ predictor_name: 'priced_naive', algorithm: 'SeasonalNaive' })),
    post(a.data_scientist, '/api/v1/train/', request({ predictor_name: 'unpriced', algorithm: 'SeasonalNaive', columns: COLUMNS.slice(0, 2) })),
  ])
  for (const r of started) expect(r.status, JSON.stringify(r.body)).toBe(201)
  ;[autoId, naiveId, plainId] = started.map((r) => r.body.id as number)
  for (const id of [autoId, naiveId, plainId]) {
    const done = await waitForTraining(app, a.viewer, id, 240_000)
    expect(done.status, JSON.stringify(done)).toBe('completed')
  }
}, 300_000)
afterAll(async () => {
  await stopWorker({ timeoutMs: 2000 })
  await app.close()
})

describe('a Forecast training with a regressor', () => {
  it('backtests the regression candidates beside the univariate ones; one of them wins, well below seasonal naive', async () => {
    const s = await json(app.fetch(`/api/v1/train/model-summary?train_id=${autoId}`, { headers: a.viewer.auth }))
    expect(s.status, JSON.stringify(s.body)).toBe(200)
    const board = Object.fromEntries(s.body.leaderboard.map((l: { candidate: string; mase: number }) => [l.candidate, l.mase]))
    expect(Object.keys(board).sort()).toEqual(['airline', 'arima', 'arimax', 'ets', 'regression', 'seasonal_naive'])
    console.log(`[regressors] backtest MASE: ${s.body.leaderboard.map((l: { model: string; mase: number }) => `${l.model} ${l.mase?.toFixed(3)}`).join(', ')}`)
    const series = s.body.series[0]
    expect(['ARIMAX', 'Regression + ETS']).toContain(series.model)
    expect(series.uses_regressors).toBe(true)
    const best = Math.min(board.arimax, board.regression)
    expect(best).toBeLessThan(0.5 * board.seasonal_naive)
    for (const u of ['ets', 'arima', 'airline']) expect(best).toBeLessThan(board[u])
    expect(series.regressor_coefficients.price).toBeGreaterThan(2.7)
    expect(series.regressor_coefficients.price).toBeLessThan(3.3)
    expect(series.regressor_last_values.price).toBe(PRICE[N - 1])
    // the missing price was filled, and the summary says how
    expect(s.body.forecast.regressors).toEqual(['price'])
    expect(s.body.forecast.regressors_detail).toMatchObject({ columns: ['price'], series_using: 1, missing_values: { filled: { price: 1 } } })
    expect(s.body.forecast.regressors_detail.missing_values.method).toMatch(/linear interpolation/)
    expect(s.body.forecast.regressors_detail.forecast_needs).toMatch(/"price"/)
    expect(JSON.stringify(s.body)).not.toMatch(/not used by these models/)
  })

  it('a regressor column without any value is a 422 naming it', async () => {
    const r = await post(a.data_scientist, '/api/v1/train/', request({ columns: [...COLUMNS, { column_name: 'blank', attribute_name: 'Feature' }] }))
    expect(r.status, JSON.stringify(r.body)).toBe(422)
    expect(r.body.error.details.field).toBe('columns[3].attribute_name')
    expect(r.body.error.message).toMatch(/blank/)
  })
})

describe('POST /inference/forecast with regressors', () => {
  it('forecasts at the supplied future prices and tracks the truth; the interval holds it', async () => {
    const body = { train_id: autoId, steps: H, frequency: 'Month', regressors: { price: future(N, H) } }
    const r = await post(a.viewer, '/api/v1/inference/forecast', body)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body).toMatchObject({ regressors: ['price'], regressors_used: true })
    expect(r.body.forecast.map((p: { date: string }) => p.date)).toEqual(Array.from({ length: H }, (_, h) => month(N + h)))
    const mae = r.body.forecast.reduce((s: number, p: { value: number }, h: number) => s + Math.abs(p.value - TRUTH[N + h]), 0) / H
    const inside = r.body.forecast.filter((p: { lower: number; upper: number }, h: number) => SALES[N + h] >= p.lower && SALES[N + h] <= p.upper).length
    console.log(`[regressors] forecast MAE vs the noise-free truth ${mae.toFixed(3)}; ${inside} of ${H} actual values inside the 95 % interval`)
    expect(mae).toBeLessThan(1.5)
    expect(inside).toBeGreaterThanOrEqual(10)
    // One more unit of price at every step moves every value by the coefficient.
    const s = await json(app.fetch(`/api/v1/train/model-summary?train_id=${autoId}`, { headers: a.viewer.auth }))
    const beta = s.body.series[0].regressor_coefficients.price
    const up = await post(a.viewer, '/api/v1/inference/forecast', { ...body, regressors: { price: future(N, H).map((p) => p + 1) } })
    up.body.forecast.forEach((p: { value: number; upper: number; lower: number }, h: number) => {
      expect(p.value - r.body.forecast[h].value).toBeCloseTo(beta, 4)
      expect(p.upper - p.lower).toBeCloseTo(r.body.forecast[h].upper - r.body.forecast[h].lower, 4)
    })
  })

  it("from a newer dataset's history (dataset_id): the regressors' history read from it, the future supplied", async () => {
    const newer = await upload(a.admin, 'priced_sales_newer', csv(N + 6))
    const r = await post(a.viewer, '/api/v1/inference/forecast', { train_id: autoId, steps: 6, frequency: 'Month', dataset_id: newer, regressors: { price: future(N + 6, 6) } })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.forecast[0].date).toBe(month(N + 6))
    expect(r.body.source).toMatchObject({ history: 'dataset', dataset_id: newer, periods: N + 6 })
    const mae = r.body.forecast.reduce((s: number, p: { value: number }, h: number) => s + Math.abs(p.value - TRUTH[N + 6 + h]), 0) / 6
    expect(mae).toBeLessThan(1.5)
  })

  it('every bad regressors field is a 400 naming it', async () => {
    const base = { train_id: autoId, steps: 4, frequency: 'Month' }
    const price = future(N, 4)
    const cases: [Record<string, unknown>, string][] = [
      [base, 'regressors'],
      [{ ...base, regressors: {} }, 'regressors.price'],
      [{ ...base, regressors: { price: price.slice(0, 3) } }, 'regressors.price'],
      [{ ...base, regressors: { price: [...price, 1] } }, 'regressors.price'],
      [{ ...base, regressors: { price: [1, 2, 3, 'x'] } }, 'regressors.price.3'],
      [{ ...base, regressors: { price: [1, null, 3, 4] } }, 'regressors.price.1'],
      [{ ...base, regressors: { price, nope: price } }, 'regressors.nope'],
      [{ ...base, regressors: { price: 5 } }, 'regressors.price'],
      [{ ...base, regressors: [1, 2, 3, 4] }, 'regressors'],
      // a model trained without regressors refuses them
      [{ ...base, train_id: plainId, regressors: { price } }, 'regressors'],
    ]
    for (const [body, field] of cases) {
      const r = await post(a.viewer, '/api/v1/inference/forecast', body)
      expect(r.status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`).toBe(400)
      expect(r.body.status).toBe('error')
      const fields = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].filter(Boolean)
      expect(fields, JSON.stringify(r.body)).toContain(field)
    }
  })

  it('a univariate winner needs no regressor values (and says they were not used)', async () => {
    const r = await post(a.viewer, '/api/v1/inference/forecast', { train_id: naiveId, steps: 3, frequency: 'Month' })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body).toMatchObject({ model: 'SeasonalNaive', regressors: ['price'], regressors_used: false })
    r.body.forecast.forEach((p: { value: number }, h: number) => expect(p.value).toBeCloseTo(SALES[N - 12 + h], 5))
    const given = await post(a.viewer, '/api/v1/inference/forecast', { train_id: naiveId, steps: 3, frequency: 'Month', regressors: { price: future(N, 3) } })
    expect(given.status).toBe(200)
    expect(given.body.forecast).toEqual(r.body.forecast)
    expect(given.body.regressors_note).toMatch(/univariate/)
  })

  it('another tenant sees none of it', async () => {
    const r = await post(b.admin, '/api/v1/inference/forecast', { train_id: autoId, steps: 4, frequency: 'Month', regressors: { price: future(N, 4) } })
    expect(r.status).toBe(404)
  })
})

describe('the Forecasts page', () => {
  it('offers the regressor inputs (default the last known value) and draws the forecast at the values given', async () => {
    const { loader } = await import('#app/routes/_app.forecasts.tsx')
    const page = async (qs: string) => {
      const request = new Request(`http://hotdash.test/forecasts?train_id=${autoId}${qs}`, { headers: { cookie: `hd_at=${a.viewer.tokens.access_token}` } })
      // uiLoader answers data(result, { headers })
      const out = (await loader({ request, params: {}, context: {} } as never)) as unknown as { data: unknown }
      return out.data as { chart: { regressors: { name: string; value: number; last: number }[]; forecast: { value: number }[] } | null; error: string | null }
    }
    const d = await page('')
    expect(d.error).toBeNull()
    expect(d.chart!.regressors).toEqual([{ name: 'price', value: PRICE[N - 1], last: PRICE[N - 1] }])
    const html = renderToString(createElement(ForecastFields, { chart: d.chart as never }))
    expect(html).toContain('data-testid="forecast-regressors"')
    expect(html).toMatch(new RegExp(`name="reg.price"[^>]*value="${PRICE[N - 1]}"`))
    // a price 5 above the last: every value up by 5 β
    const d2 = await page('&reg.price=' + (PRICE[N - 1] + 5))
    expect(d2.chart!.regressors[0].value).toBe(PRICE[N - 1] + 5)
    const s = await json(app.fetch(`/api/v1/train/model-summary?train_id=${autoId}`, { headers: a.viewer.auth }))
    d2.chart!.forecast.forEach((p, h) => expect(p.value - d.chart!.forecast[h].value).toBeCloseTo(5 * s.body.series[0].regressor_coefficients.price, 3))
  })
})
