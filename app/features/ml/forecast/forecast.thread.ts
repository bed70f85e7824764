import { forecastFrom, trainForecast, type ForecastArtefact, type ForecastSpec, type SeriesData, type SeriesFit } from './core.ts'

/* The pool thread's side of forecasting (app/jobs/thread-pool.server.ts): training, and forecasts from new history. */

export function train(input: { series: SeriesData[]; spec: ForecastSpec }, ctx?: { progress(value: { pct: number; message: string }): void }): ForecastArtefact {
  let last = 0
  return trainForecast(input.series, input.spec, (pct, message) => {
    const now = Date.now()
    if (now - last < 250) return
    last = now
    ctx?.progress({ pct, message })
  })
}

export function forecastFromHistory(input: { fit: SeriesFit; values: number[]; steps: number; exog?: number[][] }) {
  return forecastFrom(input.fit, input.values, input.steps, input.exog ?? [])
}
