import crypto from 'node:crypto'
import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, badRequest } from '#app/http/errors.server.ts'
import { periodLabel, periodSql } from './periods.ts'
import { AliasedFeatures, fitLinear, predict, predictInterval, type LinearFit, type MomentSet } from './regression.ts'
import type { PredictiveInput } from './schemas.ts'
import {
  asServer, dateColumnOf, elapsed, filterConditions, insufficientData, num, numericColumn, Params, q, resolveDataset, sqlMoments, whereOf,
} from './source.server.ts'

/**
 * POST /api/v1/analytics/predictive: OLS (or ridge) of the target on the features, fitted from moments Postgres
 * computes over the silver rows. The latest `holdout_fraction` of the rows by date (every k-th row without dates)
 * is held out to measure r2/rmse/mae; the model returned, persisted and used for the predictions is then fitted
 * on every row. Future periods get intervals from the model's standard errors and the t distribution; features
 * not given for them are projected by their own linear trend over time (the interval treats them as known).
 */

const TREND = 'trend'

interface Shape {
  /** SQL of one observation per row (or per period when aggregated): t (period), y, x0…xk. */
  base: string
  params: Params
  timeIndexed: boolean
  features: string[]
  /** Which features are the trend (the period t). */
  trend: boolean[]
}

function shapeOf(input: PredictiveInput, src: Awaited<ReturnType<typeof resolveDataset>>): Shape {
  const td = input.training_data
  const interval = input.prediction_config.interval
  const target = numericColumn(src, td.target, 'training_data.target')
  const dc = dateColumnOf(src, td.date_column, 'training_data.date_column')
  const features = [...new Set(td.features.length ? td.features : dc ? [TREND] : [])]
  if (!features.length) throw badRequest('training_data.features', 'name at least one feature (the dataset has no date column for a trend)')
  const featureSql = features.map((f, i) => {
    const field = `training_data.features[${i}]`
    if (f === TREND && !src.columns.some((c) => c.column_name === TREND)) {
      if (!dc) throw badRequest(field, "'trend' needs a date column")
      return 't'
    }
    if (f === td.target) throw badRequest(field, `'${f}' is the target`)
    return num(numericColumn(src, f, field))
  })
  const params = new Params()
  const conds = filterConditions(src, td.filters, params, 'training_data.filters')
  const complete = [`${q(target)} is not null`, ...features.map((f, i) => (featureSql[i] === 't' ? null : `${q(f)} is not null`)).filter((c): c is string => !!c)]
  if (dc) complete.push(`${q(dc)} is not null`)
  const ts = dc ? (dc.data_type === 'Date' ? `${q(dc)}::timestamp` : `(${q(dc)} at time zone 'UTC')`) : null
  // Without dates, t is the row's position in its file (only used to pick every k-th row for the holdout).
  const t = ts ? `${periodSql(interval, ts)}::float8` : `_hd_row::float8`
  // Inner: one row per observation with the raw features; outer: trend features read the period t (shifted to
  // start at 0 afterwards, in the moments: a shift changes no covariance).
  const own = featureSql.map((s, i) => (s === 't' ? '' : `, ${td.aggregation === 'none' || !dc ? s : `avg(${s})`} as x${i}`)).join('')
  const outer = featureSql.map((s, i) => `${s === 't' ? 't' : `x${i}`} as x${i}`).join(', ')
  const where = whereOf([...conds, ...complete])
  const inner =
    !dc || td.aggregation === 'none'
      ? `select ${t} as t, _hd_file_id as f, _hd_row as r, ${num(target)} as y${own} from ${src.table} ${where}`
      : `select ${t} as t, 0::bigint as f, (${t})::bigint as r, ${td.aggregation === 'sum' ? 'sum' : 'avg'}(${num(target)}) as y${own} from ${src.table} ${where} group by 1`
  const base = `select t, f, r, y, ${outer} from (${inner}) i`
  return { base, params, timeIndexed: !!dc, features, trend: featureSql.map((s) => s === 't') }
}

const lit = (v: number) => (Number.isFinite(v) ? `(${String(v)})::float8` : 'null::float8')

function fitOrExplain(m: MomentSet, features: string[], kind: 'ols' | 'ridge', alpha: number): LinearFit {
  try {
    return fitLinear(m, features.map((_, i) => `x${i}`), 'y', { alpha: kind === 'ridge' ? alpha : 0 })
  } catch (e) {
    if (e instanceof AliasedFeatures) {
      const names = e.features.map((x) => features[Number(x.slice(1))])
      throw badRequest('training_data.features', `constant or collinear with the others: ${names.join(', ')}`, { features: names })
    }
    throw e
  }
}

export async function predictive(tx: Sql, caller: Caller, input: PredictiveInput) {
  const started = performance.now()
  const td = input.training_data
  const pc = input.prediction_config
  const src = await resolveDataset(tx, td.dataset_id, 'training_data.dataset_id')
  const shape = shapeOf(input, src)
  const k = shape.features.length
  const kind = input.model_type === 'ridge' ? 'ridge' : 'ols'
  if (!shape.timeIndexed && !pc.future_features) {
    throw badRequest('prediction_config.future_features', 'the dataset has no date column: give the feature values to predict for')
  }

  const work = await asServer(tx, caller, async () => {
    const base = `(${shape.base}) s`
    const f = input.model_config.holdout_fraction
    // Holdout: the periods after the (1 − f) quantile of t, ties on one side (a count per period, not a sort of the
    // rows), or every k-th row of each file without dates.
    const { rows: hist } = await tx.query<{ t: number; c: number }>(
      shape.timeIndexed ? `select t, count(*)::float8 as c from ${base} group by t order by t` : `select min(t) as t, count(*)::float8 as c from ${base} having count(*) > 0`,
      shape.params.values,
    )
    const n = hist.reduce((s, h) => s + Number(h.c), 0)
    const tmin = hist.length ? Number(hist[0].t) : null
    const tmax = hist.length ? Number(hist[hist.length - 1].t) : null
    const step = Math.max(2, Math.round(1 / f))
    let inTest = `(r % ${step}) = 0`
    let nTest = -1
    if (shape.timeIndexed && hist.length) {
      // percentile_disc(1 − f): the first period whose cumulative count reaches ⌈(1 − f)·n⌉
      let cum = 0
      const need = Math.ceil((1 - f) * n)
      const cut = hist.find((h) => (cum += Number(h.c)) >= need)!
      nTest = n - cum
      inTest = `t > ${lit(Number(cut.t))}`
    }
    // One period only (or nearly): no time split to make, so every k-th row.
    if (nTest < 2 || n - nTest < k + 2) {
      inTest = `(r % ${step}) = 0`
      nTest = n ? (await tx.query<{ c: number }>(`select count(*)::float8 as c from ${base} where ${inTest}`, shape.params.values)).rows[0].c : 0
    }
    if (nTest < 2 || n - nTest < k + 2) {
      throw insufficientData(`${n} complete rows: fitting ${k} feature(s) and measuring on a holdout needs at least ${k + 2 + Math.max(2, Math.round(n * f))}`, { rows: n, field: 'training_data' })
    }
    // A trend feature is t itself: the same expression, computed once.
    const exprs = [...shape.features.map((_, i) => ({ name: `x${i}`, sql: shape.trend[i] ? 't' : `x${i}` })), { name: 'y', sql: 'y' }]
    if (shape.timeIndexed) exprs.push({ name: 't', sql: 't' })
    // The trend starts at 0: shift its mean (and range) by the first period.
    const shifted = (m: MomentSet): MomentSet => {
      const at = (i: number) => shape.trend[i] || (shape.timeIndexed && i === exprs.length - 1)
      const by = (v: number[] | undefined) => v?.map((x, i) => (at(i) ? x - (tmin ?? 0) : x))
      return { ...m, means: by(m.means)!, min: by(m.min), max: by(m.max) }
    }
    const both = await sqlMoments(tx, base, exprs, [], shape.params, { part: `not (${inTest})` })
    const all = shifted(both)
    const train = shifted(both.part!)
    const trainFit = fitOrExplain(train, shape.features, kind, input.model_config.alpha)
    const xs = shape.features.map((_, i) => (shape.trend[i] ? `(x${i} - ${lit(tmin ?? 0)})` : `x${i}`))
    const pred = [lit(trainFit.intercept), ...trainFit.coefficients.map((b, i) => `${lit(b)} * ${xs[i]}`)].join(' + ')
    const { rows: hold } = await tx.query<{ n: number; sae: number; sse: number; sst: number }>(
      `select count(*)::float8 as n, sum(abs(y - (${pred}))) as sae, sum(power(y - (${pred}), 2)) as sse, var_pop(y) * count(*) as sst
         from ${base} where ${inTest}`,
      shape.params.values,
    )
    // The latest periods' actual means, with the mean features to draw the fit beside them.
    const history = shape.timeIndexed && pc.history
      ? (await tx.query<Record<string, number>>(
          `select t, avg(y) as y${shape.features.map((_, i) => `, avg(x${i})::float8 as x${i}`).join('')} from ${base} group by t order by t desc limit ${pc.history}`,
          shape.params.values,
        )).rows.reverse()
      : []
    return { n, tmin, tmax, hold: hold[0], all, byTime: inTest.startsWith('t >'), history }
  })

  const fit = fitOrExplain(work.all, shape.features, kind, input.model_config.alpha)
  const h = work.hold
  const metrics = {
    r2_score: h.sst > 0 ? 1 - h.sse / h.sst : null,
    rmse: Math.sqrt(h.sse / h.n),
    mae: h.sae / h.n,
    n_train: work.n - h.n,
    n_test: h.n,
    holdout: work.byTime ? `latest ${h.n} of ${work.n} rows by date` : `every ${Math.max(2, Math.round(1 / input.model_config.holdout_fraction))}th row in file order`,
  }

  // Future rows: the caller's features, or each feature's own linear trend over the periods.
  const predictions: Record<string, unknown>[] = []
  const trends = shape.timeIndexed
    ? shape.features.map((f, i) => (f === TREND ? null : fitLinear(work.all, ['t'], `x${i}`)))
    : []
  const rowsOut = shape.timeIndexed ? pc.horizon : pc.future_features!.length
  for (let j = 0; j < rowsOut; j++) {
    const given = pc.future_features?.[j]
    const period = shape.timeIndexed ? work.tmax! + j + 1 : null
    const x = shape.features.map((f, i) => {
      if (f === TREND) return period! - work.tmin!
      const v = given?.[f]
      if (v !== undefined) return v
      if (!shape.timeIndexed) throw badRequest(`prediction_config.future_features[${j}].${f}`, 'is required (no date column to project it from)')
      return predict(trends[i]!, [period! - work.tmin!])
    })
    const pi = predictInterval(fit, x, pc.confidence_level)
    predictions.push({
      ...(shape.timeIndexed ? { date: periodLabel(pc.interval, period!), period: period! - work.tmin! } : { index: j }),
      value: pi.value,
      confidence_interval: { lower: pi.lower, upper: pi.upper },
      standard_error: pi.seObs,
      features: Object.fromEntries(shape.features.map((f, i) => [f, x[i]])),
    })
  }

  const history = work.history.map((h) => ({
    date: periodLabel(pc.interval, Number(h.t)),
    actual: Number(h.y),
    fitted: predict(fit, shape.features.map((_, i) => (shape.trend[i] ? Number(h.t) - work.tmin! : Number(h[`x${i}`])))),
  }))
  const coefficients = [
    { feature: '(intercept)', coefficient: fit.intercept, std_error: fit.interceptSe, t_value: fit.interceptT, p_value: fit.interceptP },
    ...shape.features.map((f, i) => ({ feature: f, coefficient: fit.coefficients[i], std_error: fit.stdErrors[i], t_value: fit.tValues[i], p_value: fit.pValues[i] })),
  ]
  const modelId = `model_${crypto.randomBytes(8).toString('hex')}`
  const parameters = {
    intercept: fit.intercept,
    coefficients: Object.fromEntries(shape.features.map((f, i) => [f, fit.coefficients[i]])),
    std_errors: Object.fromEntries(shape.features.map((f, i) => [f, fit.stdErrors[i]])),
    cov_beta: fit.covBeta,
    x_means: fit.xMeans,
    sigma2: fit.sigma2,
    df: fit.df,
    n: fit.n,
    alpha: fit.alpha,
    interval: shape.timeIndexed ? pc.interval : null,
    first_period: work.tmin,
    last_period: work.tmax,
  }
  const training = { r2: fit.r2, adj_r2: fit.adjR2, n: fit.n, df: fit.df, residual_std_error: Math.sqrt(fit.sigma2) }
  await tx.query(
    `insert into public.analytics_models (id, tenant_id, dataset_id, model_type, target, features, parameters, metrics, config)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb)`,
    [modelId, caller.tenantId, src.id, input.model_type, td.target, JSON.stringify(shape.features), JSON.stringify(parameters), JSON.stringify({ ...metrics, training }), JSON.stringify({ prediction_config: pc, model_config: input.model_config, aggregation: td.aggregation })],
  )
  return {
    status: 'success' as const,
    model_id: modelId,
    model_type: input.model_type,
    target: td.target,
    predictions,
    metrics,
    coefficients,
    ...(pc.history ? { history } : {}),
    training,
    confidence_level: pc.confidence_level,
    ...(shape.timeIndexed ? { interval: pc.interval } : {}),
    execution_time_ms: elapsed(started),
  }
}

/** GET /api/v1/analytics/models/{model_id}: a persisted model (RLS: the caller's tenant only). */
export async function getModel(tx: Sql, id: string) {
  const { rows } = await tx.query(
    `select id as model_id, dataset_id, model_type, target, features, parameters, metrics, config, created_at from public.analytics_models where id = $1`,
    [id],
  )
  if (!rows.length) throw new ApiError(404, 'NOT_FOUND', 'Model not found', { model_id: id })
  return { status: 'success' as const, ...rows[0] }
}
