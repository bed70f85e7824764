import path from 'node:path'
import { createRequire } from 'node:module'
import type { Forecast, RegressorEffect } from './models.ts'

/*
  ARIMA / SARIMA through the `arima` package (ctsa compiled to WebAssembly; AutoARIMA searches the orders).
  What we measured about it (decision 045):
  - predict() returns the forecast and its *variances* (checked on an AR(1): 9.02, 11.38, 11.99 for σ² = 9, φ = 0.5).
  - A model with p = q = 0 (e.g. ARIMA(0,1,0), which AutoARIMA picks for a random walk) returns memory garbage
    (denormal numbers, values of the input). Every result is checked; an implausible one falls back to fixed orders.
  - The WASM prints "non-stationary AR part" to stdout whatever `verbose` says: the module is loaded here with its
    print hooks silenced.
  - The fitted model cannot be exported: a forecast from new history refits with the same options.
  - SARIMAX (decision 064): `train(y, exog)` / `predict(steps, exogNew)` with `transpose: true` take rows (one array of
    the k regressors per period). The model is a regression with ARIMA errors (as R's Arima and statsmodels' SARIMAX):
    the forecast is linear in the future regressors with the same coefficient at every step (checked: predictions at
    x and x + 1 differ by β to 1e-13 at all steps; β and the airline-with-x forecast agree with statsmodels to 1e-3).
    So one fit gives the forecast at reference values (the last known ones) plus β per regressor, and any future
    values are applied without refitting. The package forward-fills NaN in its inputs silently: regressors reach it
    already filled (calendar.ts alignRegressor).
*/

interface ArimaOptions {
  auto?: boolean
  p?: number
  d?: number
  q?: number
  P?: number
  D?: number
  Q?: number
  s?: number
  verbose?: boolean
  transpose?: boolean
}
interface ArimaInstance {
  train(ts: number[], exog?: number[][]): ArimaInstance
  predict(steps: number, exog?: number[][]): [number[], number[]]
  destroy(): void
}
type ArimaClass = new (o: ArimaOptions) => ArimaInstance

let loaded: ArimaClass | null = null
function arimaClass(): ArimaClass {
  if (loaded) return loaded
  const require = createRequire(import.meta.url)
  const dir = path.dirname(require.resolve('arima'))
  // The package's own entry, but with the module's stdout/stderr hooks silenced.
  const factory = require(path.join(dir, 'wasm/native-sync.js')) as (o: object) => object
  const bin = require(path.join(dir, 'wrapper/native.bin.js')) as Uint8Array
  const load = require(path.join(dir, 'load.js')) as (m: object) => ArimaClass
  loaded = load(factory({ wasmBinary: bin, print: () => {}, printErr: () => {} }))
  return loaded
}

export interface ArimaFit {
  kind: 'arima'
  /** the options the package was given (AutoARIMA, or the fixed order it fell back to) */
  options: ArimaOptions
  label: string
  /** how many of the last values it was fitted on */
  window: number
  fallback: string | null
  /** how many regressors it was fitted with (ARIMAX; 0 or absent: univariate) */
  regressors?: number
}

/** At most this many recent values go to the search (AutoARIMA's cost grows quickly with the length). */
export function arimaWindow(m: number) {
  return Math.max(200, 8 * m)
}

function plausible(y: number[], f: [number[], number[]], steps: number) {
  const [mean, v] = f
  if (mean.length !== steps || v.length !== steps) return false
  const mu = y.reduce((s, x) => s + x, 0) / y.length
  const sd = Math.sqrt(y.reduce((s, x) => s + (x - mu) ** 2, 0) / y.length) || Math.abs(mu) || 1
  const lo = Math.min(...y) - 20 * sd * Math.sqrt(steps)
  const hi = Math.max(...y) + 20 * sd * Math.sqrt(steps)
  for (let i = 0; i < steps; i++) {
    if (!Number.isFinite(mean[i]) || !Number.isFinite(v[i]) || v[i] < 0) return false
    if (mean[i] < lo || mean[i] > hi) return false
    if (mean[i] !== 0 && Math.abs(mean[i]) < 1e-300) return false
    if (i > 0 && v[i] < v[i - 1] * 0.5) return false
  }
  return true
}

function run(options: ArimaOptions, y: number[], steps: number): Forecast | null {
  const ARIMA = arimaClass()
  let model: ArimaInstance | null = null
  try {
    model = new ARIMA({ ...options, verbose: false }).train(y)
    const out = model.predict(Math.max(steps, 2))
    const f: [number[], number[]] = [out[0].slice(0, steps), out[1].slice(0, steps)]
    if (!plausible(y, f, steps)) return null
    return { mean: f[0], sd: f[1].map((v) => Math.sqrt(v)) }
  } catch {
    return null
  } finally {
    model?.destroy()
  }
}

function candidates(m: number, n: number): { options: ArimaOptions; label: string }[] {
  const seasonal = m > 1 && n >= 2 * m + 10
  const s = seasonal ? m : 0
  const list: { options: ArimaOptions; label: string }[] = [
    { options: { auto: true, p: 3, d: 2, q: 3, P: seasonal ? 1 : 0, D: seasonal ? 1 : 0, Q: seasonal ? 1 : 0, s }, label: seasonal ? `AutoARIMA (seasonal, s=${m})` : 'AutoARIMA' },
  ]
  if (seasonal) list.push({ options: { p: 1, d: 0, q: 1, P: 0, D: 1, Q: 1, s }, label: `SARIMA(1,0,1)(0,1,1)[${m}]` })
  list.push({ options: { p: 1, d: 1, q: 1 }, label: 'ARIMA(1,1,1)' }, { options: { p: 1, d: 1, q: 0 }, label: 'ARIMA(1,1,0)' })
  return list
}

/** Fits AutoARIMA on the series (its recent window); falls back to fixed orders when a result is implausible. */
export function fitArima(y: number[], m: number, steps: number): { fit: ArimaFit; forecast: Forecast } | null {
  const window = Math.min(y.length, arimaWindow(m))
  const recent = y.slice(-window)
  if (recent.length < 20) return null
  let first: string | null = null
  for (const c of candidates(m, recent.length)) {
    const f = run(c.options, recent, steps)
    if (f) return { fit: { kind: 'arima', options: c.options, label: c.label, window, fallback: first ? `${first} gave an implausible result; used ${c.label}` : null }, forecast: f }
    first ??= c.label
  }
  return null
}

/**
 * The airline model, SARIMA(0,1,1)(0,1,1)[m] with fixed orders (Box & Jenkins): a seasonal candidate beside AutoARIMA's
 * search, which on short seasonal series often settles on a non-seasonal order. Null without a season (m ≤ 1), with
 * fewer than 2m + 10 values, or when the fit is implausible.
 */
export function fitAirline(y: number[], m: number, steps: number): { fit: ArimaFit; forecast: Forecast } | null {
  if (m <= 1) return null
  const window = Math.min(y.length, arimaWindow(m))
  const recent = y.slice(-window)
  if (recent.length < 2 * m + 10) return null
  const options: ArimaOptions = { p: 0, d: 1, q: 1, P: 0, D: 1, Q: 1, s: m }
  const forecast = run(options, recent, steps)
  return forecast ? { fit: { kind: 'arima', options, label: `SARIMA(0,1,1)(0,1,1)[${m}]`, window, fallback: null }, forecast } : null
}

/** A forecast of a fitted ARIMA's options on (possibly new) history. */
export function forecastArima(fit: ArimaFit, y: number[], steps: number): Forecast | null {
  return run(fit.options, y.slice(-fit.window), steps)
}

// ---------------------------------------------------------------- ARIMAX (regression with ARIMA errors)

/** One SARIMAX fit: the forecast at the reference regressor values (the last known) and β per regressor. */
function runX(options: ArimaOptions, y: number[], exog: number[][], steps: number): { forecast: Forecast; effect: RegressorEffect } | null {
  const ARIMA = arimaClass()
  let model: ArimaInstance | null = null
  const k = exog.length
  const rows = y.map((_, t) => exog.map((c) => c[t]))
  const ref = exog.map((c) => c[c.length - 1])
  const len = Math.max(steps, 2)
  try {
    model = new ARIMA({ ...options, verbose: false, transpose: true }).train(y, rows)
    const at = (x: number[]) => model!.predict(len, Array.from({ length: len }, () => x))
    const base = at(ref)
    const f: [number[], number[]] = [base[0].slice(0, steps), base[1].slice(0, steps)]
    if (!plausible(y, f, steps)) return null
    const beta: number[] = []
    for (let j = 0; j < k; j++) {
      const bumped = at(ref.map((v, i) => (i === j ? v + 1 : v)))[0]
      const b = bumped[0] - base[0][0]
      if (!Number.isFinite(b)) return null
      beta.push(b)
    }
    return { forecast: { mean: f[0], sd: f[1].map((v) => Math.sqrt(v)) }, effect: { ref, beta } }
  } catch {
    return null
  } finally {
    model?.destroy()
  }
}

/** AutoARIMA with the regressors as exogenous variables (fixed orders as the fallbacks, as fitArima). */
export function fitArimax(y: number[], exog: number[][], m: number, steps: number): { fit: ArimaFit; forecast: Forecast; effect: RegressorEffect } | null {
  if (!exog.length) return null
  const window = Math.min(y.length, arimaWindow(m))
  const recent = y.slice(-window)
  const x = exog.map((c) => c.slice(-window))
  if (recent.length < 20 + exog.length) return null
  let first: string | null = null
  const with_ = ` + ${exog.length} regressor${exog.length > 1 ? 's' : ''}`
  const list = candidates(m, recent.length)
  if (m > 1 && recent.length >= 2 * m + 10) list.splice(1, 0, { options: { p: 0, d: 1, q: 1, P: 0, D: 1, Q: 1, s: m }, label: `SARIMA(0,1,1)(0,1,1)[${m}]` })
  for (const c of list) {
    const r = runX(c.options, recent, x, steps)
    if (r) return { fit: { kind: 'arima', options: c.options, label: `${c.label}${with_}`, window, fallback: first ? `${first}${with_} gave an implausible result; used ${c.label}${with_}` : null, regressors: exog.length }, ...r }
    first ??= c.label
  }
  return null
}

/** A fitted ARIMAX's options on (possibly new) history and regressors. */
export function forecastArimax(fit: ArimaFit, y: number[], exog: number[][], steps: number) {
  return runX(fit.options, y.slice(-fit.window), exog.map((c) => c.slice(-fit.window)), steps)
}
