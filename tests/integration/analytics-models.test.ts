import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import { correlationMatrix } from '#app/features/analytics/analytics.server.ts'
import { shapleyValues } from '#app/features/analytics/shapley.ts'
import { authenticateRequest } from '#app/features/auth/auth.server.ts'
import { averageRanks, benjaminiHochberg, correlationP, pearson, tQuantile } from '#app/features/analytics/stats.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { apiKeyHeaders, CUSTOMER_SCHEMA, customerCsv, customerRows, MARKETING_SCHEMA, marketingCsv, marketingRows, uploadDataset } from '#tests/support/analytics-data.ts'
import { olsRows } from '#tests/support/ols.ts'
import { ORACLE_TIMEOUT, pythonMissing, runPython, skipNote } from '#tests/support/python.ts'

/**
 * POST /api/v1/analytics/predictive and /diagnostic against test-side least squares over the same rows, and
 * statsmodels / SciPy where installed.
 */

let app: TestApp
let a: TestTenant
let b: TestTenant
let id: number
let customersId: number
const customers = customerRows(300, 4)
const rows = marketingRows(240, 1)
const dayNo = (d: string) => Date.parse(`${d}T00:00:00Z`) / 86_400_000
const complete = rows.filter((r) => r.marketing_spend !== null)

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  id = await uploadDataset(app, a.admin, 'sales', MARKETING_SCHEMA, marketingCsv(rows))
  customersId = await uploadDataset(app, a.admin, 'customers', CUSTOMER_SCHEMA, customerCsv(customers))
})
afterAll(() => app.close())

const post = (path: string, body: unknown, headers: Record<string, string> = a.data_scientist.auth) =>
  json(app.fetch(`/api/v1/analytics/${path}`, { method: 'POST', headers, json: body }))

const rel = (got: number, want: number, tol = 1e-7) => expect(Math.abs(got - want) / Math.max(Math.abs(want), 1e-12), `${got} vs ${want}`).toBeLessThan(tol)

describe('predictive', () => {
  const t = complete.map((r) => dayNo(r.day))
  const trend = t.map((v) => v - t[0])
  const X = [complete.map((r) => r.marketing_spend!), complete.map((r) => r.price), trend]
  const y = complete.map((r) => r.revenue)

  it('fits OLS on every row, measures on the latest 20 %, predicts each future day with a t interval', async () => {
    const r = await post('predictive', {
      model_type: 'linear_regression',
      training_data: { dataset_id: String(id), features: ['marketing_spend', 'price', 'trend'], target: 'revenue' },
      prediction_config: { horizon: 5, interval: 'day', confidence_level: 0.9, history: 3 },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body).toMatchObject({ status: 'success', model_id: expect.stringMatching(/^model_[0-9a-f]{16}$/) })
    // coefficients of the full fit
    const full = olsRows(X, y)
    const coef = r.body.coefficients
    expect(coef.map((c: { feature: string }) => c.feature)).toEqual(['(intercept)', 'marketing_spend', 'price', 'trend'])
    coef.forEach((c: { coefficient: number; std_error: number }, i: number) => {
      rel(c.coefficient, full.beta[i], 1e-6)
      rel(c.std_error, full.se[i], 1e-6)
    })
    // holdout metrics: a fit on the days up to the 80th percentile (percentile_disc: the ⌈0.8·n⌉-th day), scored on the rest
    const cutDay = [...t].sort((p, q) => p - q)[Math.ceil(0.8 * t.length) - 1]
    const cut = t.filter((v) => v <= cutDay).length
    const nTest = y.length - cut
    const train = olsRows(X.map((c) => c.slice(0, cut)), y.slice(0, cut))
    const pred = y.slice(cut).map((_, i) => train.predict(X.map((c) => c[cut + i])))
    const yt = y.slice(cut)
    const ym = yt.reduce((s, v) => s + v, 0) / yt.length
    const sse = yt.reduce((s, v, i) => s + (v - pred[i]) ** 2, 0)
    rel(r.body.metrics.rmse, Math.sqrt(sse / nTest), 1e-6)
    rel(r.body.metrics.mae, yt.reduce((s, v, i) => s + Math.abs(v - pred[i]), 0) / nTest, 1e-6)
    rel(r.body.metrics.r2_score, 1 - sse / yt.reduce((s, v) => s + (v - ym) ** 2, 0), 1e-6)
    expect(r.body.metrics).toMatchObject({ n_train: cut, n_test: nTest })
    // future days: features on their own trend over the period number, interval from the full fit
    expect(r.body.predictions.map((p: { date: string }) => p.date)).toEqual(['2024-08-28', '2024-08-29', '2024-08-30', '2024-08-31', '2024-09-01'])
    const last = t[t.length - 1]
    const proj = (col: number[]) => {
      const f = olsRows([t], col)
      return (tt: number) => f.predict([tt])
    }
    const spendAt = proj(X[0])
    const priceAt = proj(X[1])
    r.body.predictions.forEach((p: { value: number; confidence_interval: { lower: number; upper: number }; features: Record<string, number> }, h: number) => {
      const tt = last + h + 1
      const x0 = [1, spendAt(tt), priceAt(tt), tt - t[0]]
      rel(p.features.marketing_spend, x0[1], 1e-6)
      expect(p.features.trend).toBe(tt - t[0])
      const yhat = x0.reduce((s, v, i) => s + v * full.beta[i], 0)
      const lev = x0.reduce((s, u, i) => s + u * x0.reduce((q, w, j) => q + full.inv[i][j] * w, 0), 0)
      const half = tQuantile(0.95, full.df) * Math.sqrt(full.s2 * (1 + lev))
      rel(p.value, yhat, 1e-6)
      rel(p.confidence_interval.upper - p.value, half, 1e-5)
      rel(p.value - p.confidence_interval.lower, half, 1e-5)
    })
    // history for the chart: the last days' actual revenue and the model's fit
    expect(r.body.history.map((h: { date: string }) => h.date)).toEqual(complete.slice(-3).map((x) => x.day))
    r.body.history.forEach((h: { actual: number; fitted: number }, i: number) => {
      const row = complete.length - 3 + i
      rel(h.actual, y[row], 1e-12)
      rel(h.fitted, full.predict(X.map((c) => c[row])), 1e-6)
    })
    // persisted: readable by the tenant, invisible to another
    const m = await json(app.fetch(`/api/v1/analytics/models/${r.body.model_id}`, { headers: a.viewer.auth }))
    expect(m.status).toBe(200)
    expect(m.body).toMatchObject({ model_id: r.body.model_id, target: 'revenue', features: ['marketing_spend', 'price', 'trend'], dataset_id: id })
    expect(m.body.parameters.coefficients.marketing_spend).toBeCloseTo(coef[1].coefficient, 10)
    const other = await json(app.fetch(`/api/v1/analytics/models/${r.body.model_id}`, { headers: b.admin.auth }))
    expect(other.status).toBe(404)

    const why = pythonMissing(['statsmodels'])
    if (why) return skipNote('predictive vs statsmodels', why)
    const py = runPython(
      `import json,sys
import numpy as np, statsmodels.api as sm
d=json.load(sys.stdin)
X=sm.add_constant(np.column_stack(d['X'])); r=sm.OLS(np.array(d['y']),X).fit()
f=r.get_prediction(np.array(d['x0'])).summary_frame(alpha=0.1)
print(json.dumps({'params':list(r.params),'bse':list(r.bse),'p':list(r.pvalues),'mean':list(f['mean']),'lo':list(f['obs_ci_lower']),'hi':list(f['obs_ci_upper'])}))`,
      { X, y, x0: r.body.predictions.map((p: { features: Record<string, number> }) => [1, p.features.marketing_spend, p.features.price, p.features.trend]) },
    )
    coef.forEach((c: { coefficient: number; std_error: number; p_value: number }, i: number) => {
      rel(c.coefficient, py.params[i], 1e-6)
      rel(c.std_error, py.bse[i], 1e-6)
      rel(c.p_value, py.p[i], 1e-4)
    })
    r.body.predictions.forEach((p: { value: number; confidence_interval: { lower: number; upper: number } }, i: number) => {
      rel(p.value, py.mean[i], 1e-7)
      rel(p.confidence_interval.lower, py.lo[i], 1e-7)
      rel(p.confidence_interval.upper, py.hi[i], 1e-7)
    })
  }, ORACLE_TIMEOUT)

  it('fits ridge as scikit-learn does, aggregates weeks, and takes future features from the caller', async () => {
    const r = await post('predictive', {
      model_type: 'ridge',
      training_data: { dataset_id: id, features: ['marketing_spend', 'price'], target: 'revenue' },
      prediction_config: { horizon: 2, future_features: [{ marketing_spend: 5000, price: 100 }, { marketing_spend: 9000 }] },
      model_config: { alpha: 1000 },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.predictions[0].features).toEqual({ marketing_spend: 5000, price: 100 })
    expect(r.body.predictions[1].features.marketing_spend).toBe(9000)
    const week = await post('predictive', {
      training_data: { dataset_id: id, features: ['trend'], target: 'revenue', aggregation: 'sum' },
      prediction_config: { horizon: 3, interval: 'week' },
    })
    expect(week.status, JSON.stringify(week.body)).toBe(200)
    // ISO weeks: Monday starts; the data's last day (2024-08-27) is a Tuesday, so the next week starts 2024-09-02
    expect(week.body.predictions.map((p: { date: string }) => p.date)).toEqual(['2024-09-02', '2024-09-09', '2024-09-16'])
    const weeks = new Map<number, number>()
    for (const x of rows) {
      const w = Math.floor((dayNo(x.day) + 3) / 7)
      weeks.set(w, (weeks.get(w) ?? 0) + x.revenue)
    }
    const wk = [...weeks.keys()].sort((p, q) => p - q)
    const wf = olsRows([wk.map((w) => w - wk[0])], wk.map((w) => weeks.get(w)!))
    rel(week.body.coefficients[1].coefficient, wf.beta[1], 1e-6)
    expect(week.body.training.n).toBe(wk.length)

    const why = pythonMissing(['sklearn'])
    if (why) return skipNote('ridge vs scikit-learn', why)
    const py = runPython(
      `import json,sys
from sklearn.linear_model import Ridge
d=json.load(sys.stdin)
m=Ridge(alpha=1000.0).fit(list(zip(*d['X'])),d['y'])
print(json.dumps({'coef':[m.intercept_]+list(m.coef_),'pred':list(m.predict([[5000,100]]))}))`,
      { X: [X[0], X[1]], y },
    )
    r.body.coefficients.forEach((c: { coefficient: number }, i: number) => rel(c.coefficient, py.coef[i], 1e-6))
    rel(r.body.predictions[0].value, py.pred[0], 1e-7)
  }, ORACLE_TIMEOUT)

  it('without dates: holds out every 5th row of the file and predicts the rows the caller gives', async () => {
    const r = await post('predictive', {
      training_data: { dataset_id: customersId, features: ['purchase_frequency', 'recency'], target: 'average_spend' },
      prediction_config: { future_features: [{ purchase_frequency: 10, recency: 5 }], confidence_level: 0.8 },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const { rows: silver } = await app.db.query<{ r: number; f: number; rec: number; s: number }>(
      `select _hd_row::int as r, purchase_frequency as f, recency::float8 as rec, average_spend as s from silver.${(await app.db.query(`select table_name from public.dataset_tables where dataset_id = $1 and schema_name = 'silver'`, [customersId])).rows[0].table_name} order by _hd_row`,
    )
    const train = silver.filter((x) => x.r % 5 !== 0)
    const test = silver.filter((x) => x.r % 5 === 0)
    const fit = olsRows([train.map((x) => x.f), train.map((x) => x.rec)], train.map((x) => x.s))
    const sse = test.reduce((s, x) => s + (x.s - fit.predict([x.f, x.rec])) ** 2, 0)
    expect(r.body.metrics).toMatchObject({ n_test: test.length, n_train: train.length })
    rel(r.body.metrics.rmse, Math.sqrt(sse / test.length), 1e-6)
    const full = olsRows([silver.map((x) => x.f), silver.map((x) => x.rec)], silver.map((x) => x.s))
    rel(r.body.predictions[0].value, full.predict([10, 5]), 1e-7)
    expect(r.body.predictions[0]).toMatchObject({ index: 0, features: { purchase_frequency: 10, recency: 5 } })
    expect(r.body.interval).toBeUndefined()
    const missing = await post('predictive', { training_data: { dataset_id: customersId, features: ['recency'], target: 'average_spend' } })
    expect(missing.status).toBe(400)
    expect(missing.body.error.details.field).toBe('prediction_config.future_features')
    const trend = await post('predictive', { training_data: { dataset_id: customersId, features: ['trend'], target: 'average_spend' }, prediction_config: { future_features: [{}] } })
    expect(trend.body.error.details.field).toBe('training_data.features[0]')
  })

  it('needs analytics.write: a viewer or a read-only key is refused, a write key is served', async () => {
    const body = { training_data: { dataset_id: id, features: ['price'], target: 'revenue' }, prediction_config: { horizon: 1 } }
    expect((await post('predictive', body, a.viewer.auth)).status).toBe(403)
    expect((await post('predictive', body, await apiKeyHeaders(app, a.admin, ['analytics.read']))).status).toBe(403)
    expect((await post('predictive', body, await apiKeyHeaders(app, a.admin, ['analytics.read', 'analytics.write']))).status).toBe(200)
    const foreign = await post('predictive', body, b.admin.auth)
    expect(foreign.status).toBe(404)
    expect(foreign.body.error).toMatchObject({ code: 'INVALID_DATASET', details: { field: 'training_data.dataset_id' } })
  })

  it('answers bad input with a 4xx naming the field', async () => {
    const base = { dataset_id: id, features: ['price'], target: 'revenue' }
    const cases: [unknown, number, string, string?][] = [
      [{ training_data: { ...base, target: 'region' } }, 400, 'training_data.target'],
      [{ training_data: { ...base, features: ['nope'] } }, 400, 'training_data.features[0]'],
      [{ training_data: { ...base, features: ['price', 'revenue'] } }, 400, 'training_data.features[1]'],
      [{ training_data: { ...base, features: ['price', 'price2'] } }, 400, 'training_data.features[1]'],
      [{ training_data: base, prediction_config: { confidence_level: 1.5 } }, 400, 'prediction_config.confidence_level'],
      [{ training_data: base, prediction_config: { interval: 'fortnight' } }, 400, 'prediction_config.interval'],
      [{ training_data: base, model_type: 'svm' }, 400, 'model_type'],
      [{ training_data: { ...base, date_column: 'price' } }, 400, 'training_data.date_column'],
      [{ training_data: { ...base, filters: { date_range: { start: '2030-01-01' } } } }, 400, 'training_data', 'INSUFFICIENT_DATA'],
      [{ training_data: { ...base, features: ['inventory', 'staff', 'price', 'marketing_spend'], filters: { date_range: { end: '2024-01-04' } } } }, 400, 'training_data', 'INSUFFICIENT_DATA'],
    ]
    for (const [body, status, field, code] of cases) {
      const r = await post('predictive', body)
      expect(r.status, JSON.stringify(body)).toBe(status)
      if (code) expect(r.body.error.code).toBe(code)
      const named = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].join(' ')
      expect(named, JSON.stringify(r.body)).toContain(field)
    }
  })
})

describe('diagnostic', () => {
  const dows = (d: string) => new Date(`${d}T00:00:00Z`).getUTCDay() || 7
  const y = complete.map((r) => r.revenue)
  const spend = complete.map((r) => r.marketing_spend!)
  const price = complete.map((r) => r.price)
  const promo = complete.map((r) => (r.promo ? 1 : 0))
  const t = complete.map((r) => dayNo(r.day))
  const regions = [...new Set(complete.map((r) => r.region))].sort()
  const regionDummies = regions.slice(1).map((g) => complete.map((r) => (r.region === g ? 1 : 0)))

  it('correlates each factor with the target (Pearson, Spearman, BH) and splits R² by Shapley', async () => {
    const r = await post('diagnostic', { dataset_id: id, target_metric: 'revenue', potential_factors: ['marketing_spend', 'price', 'promo', 'region', 'trend'] }, a.viewer.auth)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const byName = Object.fromEntries(r.body.correlations.map((c: { factor: string }) => [c.factor, c]))
    const numeric = { marketing_spend: spend, price, promo, trend: t }
    const ps: number[] = []
    for (const [name, x] of Object.entries(numeric)) {
      const c = byName[name]
      const rr = pearson(x, y)
      rel(c.correlation, rr, 1e-9)
      rel(c.p_value, correlationP(rr, y.length), 1e-6)
      rel(c.spearman.correlation, pearson(averageRanks(x), averageRanks(y)), 1e-9)
      expect(c.n).toBe(y.length)
    }
    // region: correlation ratio η and the one-way ANOVA F test
    const reg = olsRows(regionDummies, y)
    rel(byName.region.correlation, Math.sqrt(reg.r2), 1e-9)
    expect(byName.region.method).toBe('correlation_ratio')
    for (const f of ['marketing_spend', 'price', 'promo', 'region', 'trend']) ps.push(byName[f].p_value)
    benjaminiHochberg(ps).forEach((p, i) => rel(byName[['marketing_spend', 'price', 'promo', 'region', 'trend'][i]].adjusted_p_value, p, 1e-9))
    expect(byName.marketing_spend.significance).toBe('high')

    // Shapley over the 5 factors (region as one), from R² of every subset fitted on the rows, averaged over orders
    const groups = [[spend], [price], [promo], regionDummies, [t]]
    const r2 = (mask: number) => (mask ? olsRows(groups.filter((_, j) => mask & (1 << j)).flat(), y).r2 : 0)
    const cache = new Map<number, number>()
    const worth = (m: number) => cache.get(m) ?? cache.set(m, r2(m)).get(m)!
    const perms = (xs: number[]): number[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x) => perms(xs.filter((v) => v !== x)).map((p) => [x, ...p])))
    const ref = [0, 0, 0, 0, 0]
    const all = perms([0, 1, 2, 3, 4])
    for (const o of all) {
      let mask = 0
      for (const j of o) {
        ref[j] += (worth(mask | (1 << j)) - worth(mask)) / all.length
        mask |= 1 << j
      }
    }
    expect(shapleyValues(5, worth).map((v) => Math.round(v * 1e9))).toEqual(ref.map((v) => Math.round(v * 1e9)))
    const total = worth(31)
    rel(r.body.model.r2, total, 1e-8)
    const causes = Object.fromEntries(r.body.root_causes.map((c: { factor: string }) => [c.factor, c]))
    ;['marketing_spend', 'price', 'promo', 'region', 'trend'].forEach((f, j) => {
      rel(causes[f].r2_share, ref[j], 1e-6)
      rel(causes[f].contribution, ref[j] / total, 1e-6)
    })
    expect(r.body.root_causes[0].factor).toBe('marketing_spend')
    // impact of the trend: its coefficient in the joint model times the days analysed
    const joint = olsRows(groups.flat(), y)
    rel(causes.trend.impact_value, joint.beta[joint.beta.length - 1] * (t[t.length - 1] - t[0]), 1e-6)
    expect(causes.trend.impact).toMatch(/^[+−][\d,.]+$/)

    const why = pythonMissing(['scipy', 'statsmodels'])
    if (why) return skipNote('diagnostic vs SciPy', why)
    const py = runPython(
      `import json,sys
from scipy import stats
d=json.load(sys.stdin)
out={}
for k in ['marketing_spend','price','promo']:
  p=stats.pearsonr(d[k],d['y']); s=stats.spearmanr(d[k],d['y'])
  out[k]=[p[0],p[1],s[0],s[1]]
out['region']=stats.f_oneway(*[[y for y,g in zip(d['y'],d['region']) if g==r] for r in sorted(set(d['region']))]).pvalue
print(json.dumps(out))`,
      { y, marketing_spend: spend, price, promo, region: complete.map((r) => r.region) },
    )
    for (const k of ['marketing_spend', 'price', 'promo']) {
      rel(byName[k].correlation, py[k][0], 1e-9)
      rel(byName[k].p_value, py[k][1], 1e-5)
      rel(byName[k].spearman.correlation, py[k][2], 1e-9)
      rel(byName[k].spearman.p_value, py[k][3], 1e-5)
    }
    rel(byName.region.p_value, py.region, 1e-6)
  }, ORACLE_TIMEOUT)

  it('gives the page a correlation matrix with BH-adjusted p-values', async () => {
    const caller = (await authenticateRequest(new Request('http://t/', { headers: a.viewer.auth }), app.db))!
    const m = await asCaller(app.db, caller.claims, (tx) => correlationMatrix(tx, caller, { dataset_id: id, columns: ['marketing_spend', 'price', 'revenue'] }))
    expect(m.pairs.map((p) => `${p.x}/${p.y}`)).toEqual(['marketing_spend/price', 'marketing_spend/revenue', 'price/revenue'])
    rel(m.pairs[1].r!, pearson(spend, y), 1e-9)
    rel(m.pairs[2].r!, pearson(price, y), 1e-9)
    benjaminiHochberg(m.pairs.map((p) => correlationP(p.r!, y.length))).forEach((q, i) => rel(m.pairs[i].adjusted_p_value!, q, 1e-9))
    await expect(asCaller(app.db, caller.claims, (tx) => correlationMatrix(tx, caller, { dataset_id: id, columns: ['price'] }))).rejects.toMatchObject({ status: 400 })
  })

  it('derives seasonality from the dates (day-of-week and month effects)', async () => {
    const r = await post('diagnostic', { dataset_id: id, target_metric: 'revenue', potential_factors: ['day_of_week', 'marketing_spend'] }, a.viewer.auth)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const dowDummies = [2, 3, 4, 5, 6, 7].map((d) => complete.map((x) => (dows(x.day) === d ? 1 : 0)))
    const c = r.body.correlations.find((x: { factor: string }) => x.factor === 'day_of_week')
    rel(c.correlation, Math.sqrt(olsRows(dowDummies, y).r2), 1e-9)
    expect(c.levels).toBe(7)
    const season = await post('diagnostic', { dataset_id: id, target_metric: 'revenue', potential_factors: ['seasonality'] }, a.viewer.auth)
    expect(season.status).toBe(200)
    expect(season.body.correlations[0].levels).toBeGreaterThan(7)
    // the generated weekend bonus is 1500: the day-of-week effect spans about that, given spend
    const cause = r.body.root_causes.find((x: { factor: string }) => x.factor === 'day_of_week')
    expect(cause.impact_value).toBeGreaterThan(800)
    expect(cause.impact_value).toBeLessThan(2500)
  })

  it('answers bad input with a 4xx naming the field, and never another tenant’s data', async () => {
    const cases: [unknown, string][] = [
      [{ dataset_id: id, target_metric: 'region', potential_factors: ['price'] }, 'target_metric'],
      [{ dataset_id: id, target_metric: 'revenue', potential_factors: ['nope'] }, 'potential_factors[0]'],
      [{ dataset_id: id, target_metric: 'revenue', potential_factors: ['revenue'] }, 'potential_factors[0]'],
      [{ dataset_id: id, target_metric: 'revenue', potential_factors: [] }, 'potential_factors'],
      [{ dataset_id: id, target_metric: 'revenue', potential_factors: Array.from({ length: 13 }, () => 'price') }, 'potential_factors'],
      [{ dataset_id: id, target_metric: 'revenue', potential_factors: ['price'], analysis_type: 'causal' }, 'analysis_type'],
    ]
    for (const [body, field] of cases) {
      const r = await post('diagnostic', body, a.viewer.auth)
      expect(r.status, JSON.stringify(body)).toBe(400)
      const named = [r.body.error.details.field, ...(r.body.error.details.fields ?? []).map((f: { field: string }) => f.field)].join(' ')
      expect(named, JSON.stringify(r.body)).toContain(field)
    }
    const foreign = await post('diagnostic', { dataset_id: id, target_metric: 'revenue', potential_factors: ['price'] }, b.admin.auth)
    expect(foreign.body.error.code).toBe('INVALID_DATASET')
  })
})
