import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import '#app/features/ml/jobs.server.ts'
import { normalQuantile } from '#app/features/ml/forecast/models.ts'
import { simulate } from '#app/features/ml/forecast/simulate.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, uploadDataset, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { waitForTraining } from '#tests/support/ml.ts'

/*
  Forecast models end to end on a real database and worker: POST /train/ with problem_type Forecast (three monthly
  series, one with missing months), the model summary's leaderboard (the seasonal naive MASE recomputed here from the
  CSV), POST /inference/forecast in the spec's shape (seasonal naive's forecast and interval recomputed here), from a
  newer dataset's history, every bad request naming its field, and another tenant seeing nothing.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let datasetId: number
let trainId: number
let naiveId: number

const SCHEMA = [
  { column_name: 'store', data_type: 'String' },
  { column_name: 'month', data_type: 'Date' },
  { column_name: 'sales', data_type: 'Float' },
  { column_name: 'promo', data_type: 'Float' },
]
const MONTHS = 60
const month = (i: number) => new Date(Date.UTC(2020, i, 1)).toISOString().slice(0, 10)
const SERIES: Record<string, number[]> = {
  A: simulate({ n: MONTHS + 6, m: 12, level: 200, trend: 1.5, amplitude: 30, noise: 4, seed: 1 }).map((v) => Math.round(v * 100) / 100),
  B: simulate({ n: MONTHS + 6, m: 12, level: 80, amplitude: 0.25, multiplicative: true, noise: 2, seed: 2 }).map((v) => Math.round(v * 100) / 100),
  C: simulate({ n: MONTHS + 6, m: 12, level: 50, noise: 3, ar: 0.5, seed: 3 }).map((v) => Math.round(v * 100) / 100),
}
// B misses two months (filled by the platform, and said so)
const GAPS = new Set(['B:20', 'B:21'])

function csv(n: number) {
  const lines = ['store,month,sales,promo']
  for (const [id, ys] of Object.entries(SERIES)) for (let i = 0; i < n; i++) if (!GAPS.has(`${id}:${i}`)) lines.push(`${id},${month(i)},${ys[i]},${i % 3 === 0 ? 1 : 0}`)
  return lines.join('\n') + '\n'
}

const upload = (user: TestUser, name: string, text: string) => uploadDataset(app, user, name, SCHEMA, text)

const COLUMNS = [
  { column_name: 'month', attribute_name: 'Timestamp' },
  { column_name: 'sales', attribute_name: 'Target' },
  { column_name: 'store', attribute_name: 'unique_id' },
]
const request = (over: Record<string, unknown> = {}) => ({
  dataset_id: datasetId,
  predictor_name: `fc-${Math.random().toString(36).slice(2, 8)}`,
  domain: 'Forecast',
  problem_type: 'Forecast',
  columns: COLUMNS,
  frequency: 'Month',
  forecast: { origins: 1, horizon: 6 },
  ...over,
})
const post = (user: TestUser, path: string, body: unknown) => json(app.fetch(path, { method: 'POST', headers: user.auth, json: body }))

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  datasetId = await upload(a.admin, 'store_sales', csv(MONTHS))
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  const r1 = await post(a.data_scientist, '/api/v1/train/', request({ predictor_name: 'sales_auto' }))
  expect(r1.status, JSON.stringify(r1.body)).toBe(201)
  const r2 = await post(a.data_scientist, '/api/v1/train/', request({ predictor_name: 'sales_naive', algorithm: 'SeasonalNaive', frequency: undefined }))
  expect(r2.status, JSON.stringify(r2.body)).toBe(201)
  trainId = r1.body.id
  naiveId = r2.body.id
  expect(r2.body.forecast.frequency).toBe('Month') // inferred from the dates
  for (const id of [trainId, naiveId]) {
    const done = await waitForTraining(app, a.viewer, id, 180_000)
    expect(done.status, JSON.stringify(done)).toBe('completed')
  }
}, 240_000)
afterAll(async () => {
  await stopWorker({ timeoutMs: 2000 })
  await app.close()
})

/** Seasonal naive's backtest MASE on one series, computed here from the CSV values (B's gap filled linearly). */
function naiveMase(y: number[], horizon: number, origins: number) {
  const out: number[] = []
  for (let k = origins; k >= 1; k--) {
    const cut = y.length - k * horizon
    const train = y.slice(0, cut)
    let scale = 0
    for (let t = 12; t < train.length; t++) scale += Math.abs(train[t] - train[t - 12])
    scale /= train.length - 12
    let err = 0
    for (let h = 0; h < horizon; h++) err += Math.abs(y[cut + h] - train[train.length - 12 + (h % 12)])
    out.push(err / horizon / scale)
  }
  return out.reduce((s, v) => s + v, 0) / out.length
}
const withGapFilled = (id: string) => {
  const y = SERIES[id].slice(0, MONTHS)
  if (id === 'B') {
    const a0 = y[19]
    const b0 = y[22]
    y[20] = a0 + (b0 - a0) / 3
    y[21] = a0 + (2 * (b0 - a0)) / 3
  }
  return y
}

describe('a Forecast training', () => {
  it('lists as a Forecast model and summarises a leaderboard of candidates by MASE and sMAPE', async () => {
    const list = await json(app.fetch('/api/v1/train/list', { headers: a.viewer.auth }))
    const t = list.body.data.find((x: { id: number }) => x.id === trainId)
    expect(t).toMatchObject({ problem_type: 'Forecast', domain: 'Forecast', training_status: 'Completed', preprocess_id: expect.any(Number) })
    const s = await json(app.fetch(`/api/v1/train/model-summary?train_id=${trainId}`, { headers: a.viewer.auth }))
    expect(s.status, JSON.stringify(s.body)).toBe(200)
    expect(s.body).toMatchObject({ problem_type: 'Forecast', algorithm: 'Forecast', format: 'forecast-json', preprocess_id: t.preprocess_id })
    expect(s.body.leaderboard.map((l: { model: string }) => l.model).sort()).toEqual(['Airline SARIMA', 'AutoARIMA', 'ETS', 'SeasonalNaive'])
    for (const l of s.body.leaderboard) {
      expect(l.mase).toBeGreaterThan(0)
      expect(l.smape).toBeGreaterThan(0)
    }
    expect(s.body.series.map((x: { unique_id: string }) => x.unique_id)).toEqual(['A', 'B', 'C'])
    expect(s.body.forecast.missing_periods.filled).toBe(2)
    expect(s.body.forecast.missing_periods.message).toMatch(/2 missing period/)
    expect(s.body.forecast).toMatchObject({ frequency: 'Month', season_length: 12, max_steps: 120, backtest: { horizon: 6, origins: 1 } })
    const b0 = s.body.series.find((x: { unique_id: string }) => x.unique_id === 'B')
    expect(b0).toMatchObject({ filled: 2, periods: MONTHS, first: '2020-01-01', last: month(MONTHS - 1) })
    // The baseline's MASE per series, recomputed here from the CSV.
    for (const id of ['A', 'B', 'C']) {
      const row = s.body.series.find((x: { unique_id: string }) => x.unique_id === id).leaderboard.find((l: { model: string }) => l.model === 'seasonal_naive')
      expect(row.mase).toBeCloseTo(naiveMase(withGapFilled(id), 6, 1), 9)
    }
    // The chosen model per series is the one with the lowest backtest MASE.
    for (const x of s.body.series) {
      const best = [...x.leaderboard].filter((l: { mase: number | null }) => l.mase !== null).sort((p: { mase: number }, q: { mase: number }) => p.mase - q.mase)[0]
      expect(x.model).toBe({ seasonal_naive: 'SeasonalNaive', ets: 'ETS', arima: 'AutoARIMA', airline: 'Airline SARIMA' }[best.model as string])
    }
    // The seasonal series A: something beats the baseline.
    const a0 = s.body.series.find((x: { unique_id: string }) => x.unique_id === 'A')
    expect(Math.min(...a0.leaderboard.map((l: { mase: number }) => l.mase))).toBeLessThan(a0.leaderboard.find((l: { model: string }) => l.model === 'seasonal_naive').mase)
  })
})

describe('POST /inference/forecast', () => {
  it("answers in the spec's shape: dates after the history, value inside an interval that widens with the horizon", async () => {
    const r = await post(a.viewer, '/api/v1/inference/forecast', { train_id: trainId, preprocess_id: undefined, steps: 8, frequency: 'Month', unique_id: 'A' })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.forecast).toHaveLength(8)
    expect(r.body.forecast.map((p: { date: string }) => p.date)).toEqual(Array.from({ length: 8 }, (_, h) => month(MONTHS + h)))
    for (const p of r.body.forecast) {
      expect(Object.keys(p).sort()).toEqual(['confidence', 'date', 'lower', 'upper', 'value'])
      expect(p.confidence).toBe(0.95)
      expect(p.lower).toBeLessThan(p.value)
      expect(p.upper).toBeGreaterThan(p.value)
    }
    const w = r.body.forecast.map((p: { lower: number; upper: number }) => p.upper - p.lower)
    expect(w[7]).toBeGreaterThan(w[0])
    // The same model at 80 %: the same centre, the width scaled by the normal quantiles (one sd per step).
    const r80 = await post(a.viewer, '/api/v1/inference/forecast', { train_id: trainId, steps: 8, frequency: 'month', unique_id: 'A', confidence: 0.8 })
    r80.body.forecast.forEach((p: { value: number; lower: number; upper: number }, h: number) => {
      expect(p.value).toBeCloseTo(r.body.forecast[h].value, 6)
      expect((p.upper - p.lower) / w[h]).toBeCloseTo(normalQuantile(0.9) / normalQuantile(0.975), 4)
    })
    // The truth (the six months the dataset left out) mostly inside the 95 % band.
    const truth = SERIES.A.slice(MONTHS, MONTHS + 6)
    const inside = truth.filter((v, h) => v >= r.body.forecast[h].lower && v <= r.body.forecast[h].upper).length
    expect(inside).toBeGreaterThanOrEqual(5)
  })

  it('seasonal naive: the last season repeated, σ of the seasonal differences × √(seasons ahead), recomputed here', async () => {
    const r = await post(a.viewer, '/api/v1/inference/forecast', { train_id: naiveId, steps: 14, frequency: 'Month', unique_id: 'C', history: 24 })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const y = SERIES.C.slice(0, MONTHS)
    const diffs = y.slice(12).map((v, i) => v - y[i])
    const sigma = Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length)
    const z = normalQuantile(0.975)
    r.body.forecast.forEach((p: { value: number; lower: number; upper: number }, h: number) => {
      const v = y[MONTHS - 12 + (h % 12)]
      const sd = sigma * Math.sqrt(Math.floor(h / 12) + 1)
      expect(p.value).toBeCloseTo(v, 5)
      expect(p.upper).toBeCloseTo(v + z * sd, 4)
      expect(p.lower).toBeCloseTo(v - z * sd, 4)
    })
    expect(r.body.history).toHaveLength(24)
    expect(r.body.history[23]).toEqual({ date: month(MONTHS - 1), value: y[MONTHS - 1] })
    expect(r.body.model).toBe('SeasonalNaive')
  })

  it('forecasts from a newer dataset\'s history (dataset_id) with the same fitted model', async () => {
    const newer = await upload(a.admin, 'store_sales_newer', csv(MONTHS + 6))
    const r = await post(a.viewer, '/api/v1/inference/forecast', { train_id: naiveId, steps: 3, frequency: 'Month', unique_id: 'C', dataset_id: newer })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.forecast.map((p: { date: string }) => p.date)).toEqual([month(MONTHS + 6), month(MONTHS + 7), month(MONTHS + 8)])
    const y = SERIES.C.slice(0, MONTHS + 6)
    r.body.forecast.forEach((p: { value: number }, h: number) => expect(p.value).toBeCloseTo(y[MONTHS + 6 - 12 + h], 5))
    expect(r.body.source).toMatchObject({ history: 'dataset', dataset_id: newer, periods: MONTHS + 6 })
    // And with the auto model (ETS / ARIMA refitted on a thread): a forecast after the new end.
    const r2 = await post(a.viewer, '/api/v1/inference/forecast', { train_id: trainId, steps: 3, frequency: 'Month', unique_id: 'A', dataset_id: newer })
    expect(r2.status, JSON.stringify(r2.body)).toBe(200)
    expect(r2.body.forecast[0].date).toBe(month(MONTHS + 6))
  })

  it('every bad request is a 4xx naming the field', async () => {
    const base = { train_id: trainId, steps: 4, frequency: 'Month', unique_id: 'A' }
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, steps: 0 }, 400, 'steps'],
      [{ ...base, steps: -3 }, 400, 'steps'],
      [{ ...base, steps: 1.5 }, 400, 'steps'],
      [{ ...base, steps: 'many' }, 400, 'steps'],
      [{ ...base, steps: 121 }, 400, 'steps'],
      [{ ...base, frequency: 'Day' }, 400, 'frequency'],
      [{ ...base, frequency: 'Fortnight' }, 400, 'frequency'],
      [{ ...base, unique_id: 'Z' }, 400, 'unique_id'],
      [{ train_id: trainId, steps: 4, frequency: 'Month' }, 400, 'unique_id'],
      [{ ...base, preprocess_id: 999999 }, 400, 'preprocess_id'],
      [{ ...base, confidence: 1.5 }, 400, 'confidence'],
      [{ ...base, train_id: 'x' }, 400, 'train_id'],
      [{ ...base, extra: 1 }, 400, 'body'],
      [{ steps: 4, frequency: 'Month' }, 400, 'train_id'],
    ]
    for (const [body, status, field] of cases) {
      const r = await post(a.viewer, '/api/v1/inference/forecast', body)
      expect(r.status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`).toBe(status)
      expect(r.body.status).toBe('error')
      const fields = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].filter(Boolean)
      expect(fields.join(' ') + ' ' + r.body.error.message, JSON.stringify(r.body)).toContain(field)
    }
    const unknown = await post(a.viewer, '/api/v1/inference/forecast', { ...base, train_id: 999999 })
    expect(unknown.status).toBe(404)
    const noData = await post(a.viewer, '/api/v1/inference/forecast', { ...base, dataset_id: 999999 })
    expect(noData.status).toBe(404)
    const maxMsg = await post(a.viewer, '/api/v1/inference/forecast', { ...base, steps: 500 })
    expect(maxMsg.body.error.message).toMatch(/at most 120 steps for Month/)
  })

  it('another tenant sees none of it', async () => {
    const r = await post(b.admin, '/api/v1/inference/forecast', { train_id: trainId, steps: 4, frequency: 'Month', unique_id: 'A' })
    expect(r.status).toBe(404)
    const s = await json(app.fetch(`/api/v1/train/model-summary?train_id=${trainId}`, { headers: b.admin.auth }))
    expect(s.status).toBe(404)
    // b's own forecast training on a's dataset: the dataset is not b's
    const t = await post(b.admin, '/api/v1/train/', request({ predictor_name: 'stolen' }))
    expect(t.status).toBe(404)
    // a's model with b's dataset as history: not found
    const bData = await upload(b.admin, 'b_sales', csv(30))
    const h = await post(a.viewer, '/api/v1/inference/forecast', { train_id: trainId, steps: 2, frequency: 'Month', unique_id: 'A', dataset_id: bData })
    expect(h.status).toBe(404)
  })
})

describe('POST /train/ with problem_type Forecast: bad requests', () => {
  it('each names its field', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [request({ columns: [{ column_name: 'month', attribute_name: 'Timestamp' }, { column_name: 'store', attribute_name: 'Target' }] }), 422, 'columns[1].attribute_name'],
      [request({ columns: [{ column_name: 'sales', attribute_name: 'Timestamp' }, { column_name: 'promo', attribute_name: 'Target' }] }), 422, 'columns[0].attribute_name'],
      [request({ columns: [{ column_name: 'month', attribute_name: 'Timestamp' }] }), 400, 'columns'],
      [request({ columns: [...COLUMNS, { column_name: 'nope', attribute_name: 'Feature' }] }), 400, 'columns[3].column_name'],
      [request({ frequency: 'Fortnight' }), 400, 'frequency'],
      [request({ algorithm: 'XGBoost' }), 400, 'algorithm'],
      [request({ forecast: { horizon: 500 } }), 400, 'forecast.horizon'],
      [request({ forecast: { selection: 'best' } }), 400, 'forecast.selection'],
      [request({ problem_type: 'Classification', columns: [{ column_name: 'store', attribute_name: 'Target' }, { column_name: 'month', attribute_name: 'Timestamp' }] }), 400, 'columns[1].attribute_name'],
      [request({ problem_type: 'Regression', algorithm: 'ETS', columns: [{ column_name: 'sales', attribute_name: 'Target' }] }), 400, 'algorithm'],
    ]
    for (const [body, status, field] of cases) {
      const r = await post(a.data_scientist, '/api/v1/train/', body)
      expect(r.status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`).toBe(status)
      const fields = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].filter(Boolean)
      expect(fields, JSON.stringify(r.body)).toContain(field)
    }
    // Nothing was written by any of them.
    const list = await json(app.fetch('/api/v1/train/list', { headers: a.viewer.auth }))
    expect(list.body.total).toBe(2)
  })

  it('get_details suggests the forecast roles', async () => {
    const r = await post(a.viewer, '/api/v1/train/get_details', { dataset_id: datasetId, predictor_name: 'x', domain: 'Forecast', problem_type: 'Forecast' })
    expect(r.status).toBe(200)
    const roles = Object.fromEntries(r.body.suggested.columns.map((c: { column_name: string; attribute_name: string }) => [c.column_name, c.attribute_name]))
    expect(roles).toMatchObject({ month: 'Timestamp', store: 'UniqueId', sales: 'Target' })
    expect(r.body.attributes).toContain('Timestamp')
  })
})
