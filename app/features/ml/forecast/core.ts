import { fitAirline, fitArima, fitArimax, forecastArima, forecastArimax, type ArimaFit } from './arima.ts'
import { SEASON_LENGTH, type Frequency } from './calendar.ts'
import { applyRegressors, etsName, fitAutoEts, fitSeasonalNaive, forecastEts, forecastSeasonalNaive, normalQuantile, refilterEts, type EtsFit, type Forecast, type RegressorEffect, type SeasonalNaiveFit } from './models.ts'
import { fitRegression, forecastRegression, type RegressionFit } from './regression.ts'

/*
  A forecasting training, start to finish and pure (no database): for each series, a rolling-origin backtest of every
  candidate (seasonal naive, ETS by AICc, AutoARIMA, the airline SARIMA(0,1,1)(0,1,1)[m]) over the last `origins` windows of `horizon` periods, MASE and
  sMAPE per candidate; the best by mean MASE is refitted on the whole series (per series, or one family for all:
  `selection: 'global'`), and its forecast (mean and standard deviation per step) is kept up to the maximum horizon.
  With numeric regressors (decision 064) two more candidates enter the same backtest: ARIMAX (AutoARIMA with the
  regressors as exogenous variables: regression with ARIMA errors) and a linear regression on the regressors with ETS
  on its residuals. Each origin forecasts with the regressors' actual values in the held-out window, as a caller
  would supply the future ones. Their stored forecast is at the last known regressor values plus β per regressor
  (RegressorEffect); /inference/forecast applies the caller's future values.
*/

export const CANDIDATES = ['seasonal_naive', 'ets', 'arima', 'airline', 'arimax', 'regression'] as const
export type CandidateName = (typeof CANDIDATES)[number]
export const CANDIDATE_LABEL: Record<CandidateName, string> = {
  seasonal_naive: 'SeasonalNaive',
  ets: 'ETS',
  arima: 'AutoARIMA',
  airline: 'Airline SARIMA',
  arimax: 'ARIMAX',
  regression: 'Regression + ETS',
}
/** The candidates that use the regressors (and need their future values to forecast). */
export const REGRESSION_CANDIDATES: readonly CandidateName[] = ['arimax', 'regression']
export const UNIVARIATE_CANDIDATES: CandidateName[] = ['seasonal_naive', 'ets', 'arima', 'airline']

export const DEFAULT_HORIZON: Record<Frequency, number> = { Hour: 24, Day: 14, Week: 13, Month: 12, Quarter: 4, Year: 3 }
/** The most steps /inference/forecast answers for a frequency (two weeks of hours … twenty years). */
export const MAX_STEPS: Record<Frequency, number> = { Hour: 336, Day: 366, Week: 156, Month: 120, Quarter: 40, Year: 20 }
/** A series needs this many periods (after filling) to be trained. */
export const MIN_PERIODS = 8

export type SeriesFit = SeasonalNaiveFit | EtsFit | ArimaFit | RegressionFit

export interface ForecastSpec {
  frequency: Frequency
  season_length: number
  horizon: number
  origins: number
  candidates: CandidateName[]
  selection: 'per_series' | 'global'
  /** the regressor columns, in the order of SeriesData.exog (absent or empty: none) */
  regressors?: string[]
}

export function defaultSpec(frequency: Frequency, over: Partial<ForecastSpec> = {}): ForecastSpec {
  return {
    frequency,
    season_length: over.season_length ?? SEASON_LENGTH[frequency],
    horizon: over.horizon ?? DEFAULT_HORIZON[frequency],
    origins: over.origins ?? 3,
    candidates: over.candidates ?? (over.regressors?.length ? [...CANDIDATES] : [...UNIVARIATE_CANDIDATES]),
    selection: over.selection ?? 'per_series',
    regressors: over.regressors ?? [],
  }
}

export interface SeriesData {
  unique_id: string
  start: number
  values: number[]
  rows: number
  duplicates: number
  filled: number
  /** the regressors' values per period, aligned with `values` (exog[k][t]: regressor k at period start + t) */
  exog?: number[][]
  /** periods of each regressor filled in (missing in the data) */
  exog_filled?: number[]
}

export interface CandidateScore {
  model: CandidateName
  label: string
  mase: number | null
  smape: number | null
  /** origins that produced a forecast */
  origins: number
  error: string | null
}

export interface SeriesModel {
  unique_id: string
  start: number
  values: number[]
  rows: number
  duplicates: number
  filled: number
  chosen: CandidateName
  label: string
  fit: SeriesFit
  /** mean and sd of the forecast from the end of `values`, up to MAX_STEPS */
  forecast: Forecast
  leaderboard: CandidateScore[]
  backtest: { horizon: number; origins: number }
  /** periods of each regressor filled in (as SeriesData) */
  exog_filled?: number[]
  /** the chosen model's regressor effect (null: univariate, forecasts need no regressor values) */
  effect?: RegressorEffect | null
}

export interface ForecastArtefact {
  kind: 'forecast'
  version: 1
  spec: ForecastSpec
  max_steps: number
  series: SeriesModel[]
}

export function label(fit: SeriesFit) {
  if (fit.kind === 'seasonal_naive') return fit.m > 1 ? `SeasonalNaive(m=${fit.m})` : 'Naive'
  if (fit.kind === 'ets') return etsName(fit)
  return fit.label
}

export interface Fitted {
  fit: SeriesFit
  forecast: Forecast
  /** regression candidates: how the forecast moves with the future regressor values */
  effect?: RegressorEffect
}

/**
 * Fits a candidate on y (and the regressors' history `exog`, for the regression candidates) and forecasts `steps`
 * ahead; null when it cannot (too short, no regressors, numerical failure).
 */
export function fitCandidate(name: CandidateName, y: number[], m: number, steps: number, exog: number[][] = []): Fitted | null {
  if (name === 'arimax') return exog.length ? fitArimax(y, exog, m, steps) : null
  if (name === 'regression') return exog.length ? fitRegression(y, exog, m, steps) : null
  if (name === 'seasonal_naive') {
    const fit = fitSeasonalNaive(y, m)
    return { fit, forecast: forecastSeasonalNaive(fit, steps) }
  }
  if (name === 'ets') {
    if (y.length < 4) return null
    const fit = fitAutoEts(y, m)
    return { fit, forecast: forecastEts(fit, steps) }
  }
  if (name === 'airline') return fitAirline(y, m, steps)
  return fitArima(y, m, steps)
}

/** Whether a fit uses the regressors (its forecasts need their future values). */
export const usesRegressors = (fit: SeriesFit) => fit.kind === 'regression' || (fit.kind === 'arima' && (fit.regressors ?? 0) > 0)

/**
 * Forecast of a stored fit from a history (the training's own, or more recent rows: same parameters, new state); for
 * a fit that uses regressors, `exog` is their history aligned with y and the result carries the effect to apply.
 */
export function forecastFrom(fit: SeriesFit, y: number[], steps: number, exog: number[][] = []): { mean: number[]; sd: number[]; effect?: RegressorEffect } | null {
  if (fit.kind === 'seasonal_naive') return forecastSeasonalNaive({ ...fitSeasonalNaive(y, fit.m), sigma: fit.sigma }, steps)
  if (fit.kind === 'ets') return forecastEts(refilterEts(fit, y), steps)
  if (fit.kind === 'regression') {
    const r = forecastRegression(fit, y, exog, steps)
    return { ...r.forecast, effect: r.effect }
  }
  if (usesRegressors(fit)) {
    const r = forecastArimax(fit, y, exog, steps)
    return r && { ...r.forecast, effect: r.effect }
  }
  return forecastArima(fit, y, steps)
}

/** A fitted candidate's forecast for given future regressor values (`future[k]`: steps values of regressor k). */
export function forecastWith(f: Fitted | { forecast: Forecast; effect?: RegressorEffect | null }, future: number[][], steps: number): Forecast {
  return f.effect ? applyRegressors(f.forecast, f.effect, future, steps) : { mean: f.forecast.mean.slice(0, steps), sd: f.forecast.sd.slice(0, steps) }
}

/** Mean absolute error of the seasonal naive forecast in-sample: MASE's scale. */
export function maseScale(train: number[], m: number) {
  const lag = train.length > m ? m : 1
  let s = 0
  for (let t = lag; t < train.length; t++) s += Math.abs(train[t] - train[t - lag])
  return train.length > lag ? s / (train.length - lag) : NaN
}

export function mase(actual: number[], predicted: number[], scale: number) {
  let s = 0
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i] - predicted[i])
  const mae = s / actual.length
  if (!(scale > 0)) return mae === 0 ? 0 : Infinity
  return mae / scale
}

export function smape(actual: number[], predicted: number[]) {
  let s = 0
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]) + Math.abs(predicted[i])
    s += d === 0 ? 0 : (200 * Math.abs(actual[i] - predicted[i])) / d
  }
  return s / actual.length
}

/** The origins and horizon a series of length n allows (each training window keeps MIN_PERIODS values). */
export function backtestPlan(n: number, horizon: number, origins: number) {
  let h = Math.max(1, Math.min(horizon, n - MIN_PERIODS))
  let k = origins
  while (k > 1 && n - k * h < MIN_PERIODS) k--
  if (n - h < MIN_PERIODS) h = Math.max(1, n - MIN_PERIODS)
  return { horizon: h, origins: n - h >= MIN_PERIODS - 1 ? k : 0 }
}

/** Rolling-origin backtest of each candidate on one series. */
export function backtest(y: number[], spec: ForecastSpec, exog: number[][] = []): { scores: CandidateScore[]; horizon: number; origins: number } {
  const plan = backtestPlan(y.length, spec.horizon, spec.origins)
  const scores = spec.candidates.map((name) => {
    const mases: number[] = []
    const smapes: number[] = []
    let error: string | null = null
    for (let k = plan.origins; k >= 1; k--) {
      const cut = y.length - k * plan.horizon
      const train = y.slice(0, cut)
      const test = y.slice(cut, cut + plan.horizon)
      let r: ReturnType<typeof fitCandidate> = null
      try {
        r = fitCandidate(
          name,
          train,
          spec.season_length,
          test.length,
          exog.map((c) => c.slice(0, cut)),
        )
      } catch (e) {
        error = (e as Error).message
      }
      if (!r) {
        error ??=
          name === 'arima'
            ? `fewer than 20 values before an origin, or no plausible fit`
            : REGRESSION_CANDIDATES.includes(name)
              ? exog.length
                ? 'too few values before an origin for the regressors, or no plausible fit'
                : 'needs regressors (Feature columns)'
              : name === 'airline'
              ? spec.season_length > 1
                ? `fewer than ${2 * spec.season_length + 10} values before an origin, or no plausible fit`
                : 'needs a seasonal frequency (season length > 1)'
              : 'could not be fitted'
        continue
      }
      // the regressors' actual values in the held-out window, as a caller supplies the future ones
      const f = forecastWith(
        r,
        exog.map((c) => c.slice(cut, cut + plan.horizon)),
        test.length,
      )
      mases.push(mase(test, f.mean, maseScale(train, spec.season_length)))
      smapes.push(smape(test, f.mean))
    }
    const mean = (a: number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : null)
    return { model: name, label: CANDIDATE_LABEL[name], mase: mean(mases), smape: mean(smapes), origins: mases.length, error: mases.length === plan.origins ? null : error } satisfies CandidateScore
  })
  return { scores, horizon: plan.horizon, origins: plan.origins }
}

const complete = (s: CandidateScore, origins: number) => s.mase !== null && Number.isFinite(s.mase) && s.origins === origins

/** The candidate with the lowest mean MASE over complete backtests (the simpler one on a tie; the baseline when none). */
export function pick(scores: CandidateScore[], origins: number): CandidateName {
  let best: CandidateScore | null = null
  for (const s of scores) if (complete(s, origins) && (!best || s.mase! < best.mase! - 1e-12)) best = s
  return best?.model ?? 'seasonal_naive'
}

export type Progress = (pct: number, message: string) => void

export function trainForecast(series: SeriesData[], spec: ForecastSpec, progress: Progress = () => {}): ForecastArtefact {
  const maxSteps = MAX_STEPS[spec.frequency]
  const tests = series.map((s, i) => {
    progress(10 + (70 * i) / series.length, `backtesting series ${i + 1} of ${series.length} (${s.unique_id}: ${s.values.length} periods)`)
    return backtest(s.values, spec, s.exog ?? [])
  })
  let globalChoice: CandidateName | null = null
  if (spec.selection === 'global') {
    const totals = spec.candidates.map((name) => {
      const per = tests.map((t) => t.scores.find((s) => s.model === name)!)
      const ok = per.every((s, i) => complete(s, tests[i].origins))
      return { name, total: ok ? per.reduce((a, s) => a + s.mase!, 0) : Infinity }
    })
    totals.sort((a, b) => a.total - b.total)
    globalChoice = Number.isFinite(totals[0].total) ? totals[0].name : 'seasonal_naive'
  }
  const models = series.map((s, i) => {
    progress(80 + (18 * i) / series.length, `fitting the chosen model on series ${i + 1} of ${series.length}`)
    const t = tests[i]
    let chosen = globalChoice ?? pick(t.scores, t.origins)
    let r = fitCandidate(chosen, s.values, spec.season_length, maxSteps, s.exog ?? [])
    if (!r) {
      chosen = 'seasonal_naive'
      r = fitCandidate(chosen, s.values, spec.season_length, maxSteps)!
    }
    const { exog: _exog, ...data } = s
    return {
      ...data,
      chosen,
      label: label(r.fit),
      fit: r.fit,
      forecast: { mean: r.forecast.mean.map(round), sd: r.forecast.sd.map(round) },
      leaderboard: t.scores,
      backtest: { horizon: t.horizon, origins: t.origins },
      effect: r.effect ? { ref: r.effect.ref.map(round), beta: r.effect.beta.map(round) } : null,
    } satisfies SeriesModel
  })
  return { kind: 'forecast', version: 1, spec, max_steps: maxSteps, series: models }
}

const round = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e9) / 1e9 : v)

/** Points with the interval at `confidence` (normal quantiles of the model's forecast distribution). */
export function intervals(f: Forecast, steps: number, confidence: number) {
  const z = normalQuantile(0.5 + confidence / 2)
  return Array.from({ length: steps }, (_, h) => ({ value: f.mean[h], lower: f.mean[h] - z * f.sd[h], upper: f.mean[h] + z * f.sd[h], sd: f.sd[h] }))
}

/** The training-wide leaderboard: each candidate's mean MASE and sMAPE over the series, and against the baseline. */
export function leaderboard(a: ForecastArtefact) {
  const rows = a.spec.candidates.map((name) => {
    const per = a.series.map((s) => s.leaderboard.find((l) => l.model === name)!).filter((l) => l && l.mase !== null && Number.isFinite(l.mase))
    const mean = (v: number[]) => (v.length ? v.reduce((x, y) => x + y, 0) / v.length : null)
    return {
      model: CANDIDATE_LABEL[name],
      candidate: name,
      mase: mean(per.map((l) => l.mase!)),
      smape: mean(per.map((l) => l.smape!)),
      series_scored: per.length,
      series_chosen: a.series.filter((s) => s.chosen === name).length,
    }
  })
  const base = rows.find((r) => r.candidate === 'seasonal_naive')?.mase ?? null
  return rows
    .map((r) => ({ ...r, relative_to_seasonal_naive: base && r.mase !== null ? r.mase / base : null }))
    .sort((x, y) => (x.mase ?? Infinity) - (y.mase ?? Infinity))
    .map((r, i) => ({ rank: i + 1, ...r }))
}
