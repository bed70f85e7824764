/*
  Forecasting models in plain TypeScript, each giving a point forecast and its standard deviation per horizon:
  - seasonal naive (the baseline): ŷ(n+h) = y(n+h−m·k), σ² from the seasonal differences, variance × (⌊(h−1)/m⌋+1);
  - ETS / Holt-Winters with additive errors: level, optional additive or damped trend, optional additive or
    multiplicative seasonality (statsmodels' ExponentialSmoothing parameterisation: α, β*, γ, φ), fitted by minimising
    the SSE (= maximum likelihood for additive errors) over the smoothing parameters and the initial level and trend
    with Nelder-Mead; the variant picked by AICc. Variances: the analytic formula (Hyndman et al. 2008, class 1) for
    additive seasonality, simulated paths for multiplicative.
*/

export interface Forecast {
  mean: number[]
  sd: number[]
}

/**
 * How a regression candidate's forecast moves with the future regressor values: the stored forecast is at `ref` (the
 * last known value of each regressor), and step h's mean is mean[h] + Σ_k beta[k]·(x_k[h] − ref[k]). The sd does not
 * depend on them (the future values are taken as known).
 */
export interface RegressorEffect {
  ref: number[]
  beta: number[]
}

/** The mean with future regressor values applied (`future[k]` holds regressor k's values for steps 1 … steps). */
export function applyRegressors(f: Forecast, e: RegressorEffect, future: number[][], steps: number): Forecast {
  const mean = f.mean.slice(0, steps).map((v, h) => v + e.beta.reduce((s, b, k) => s + b * (future[k][h] - e.ref[k]), 0))
  return { mean, sd: f.sd.slice(0, steps) }
}

// ---------------------------------------------------------------- shared numerics

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity
  if (p >= 1) return Infinity
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const lo = 0.02425
  let x: number
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  } else if (p <= 1 - lo) {
    const q = p - 0.5
    const r = q * q
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  return x
}

/** A seeded uniform generator (mulberry32) and standard normals from it (Box-Muller). */
export function seededNormal(seed: number) {
  let s = seed >>> 0
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return () => Math.sqrt(-2 * Math.log(u() || 1e-300)) * Math.cos(2 * Math.PI * u())
}

/** Nelder-Mead minimisation (unconstrained; callers map bounded parameters through a sigmoid). */
export function nelderMead(f: (x: number[]) => number, x0: number[], opts: { maxIter?: number; step?: number; tol?: number } = {}) {
  const n = x0.length
  const maxIter = opts.maxIter ?? 200 * n
  const tol = opts.tol ?? 1e-9
  let simplex = [x0.slice()]
  for (let i = 0; i < n; i++) {
    const x = x0.slice()
    x[i] += opts.step ?? (x[i] !== 0 ? 0.25 * Math.abs(x[i]) + 0.25 : 0.5)
    simplex.push(x)
  }
  let values = simplex.map(f)
  for (let it = 0; it < maxIter; it++) {
    const order = values.map((v, i) => i).sort((a, b) => values[a] - values[b])
    simplex = order.map((i) => simplex[i])
    values = order.map((i) => values[i])
    if (Math.abs(values[n] - values[0]) <= tol * (Math.abs(values[0]) + tol)) break
    const centroid = new Array(n).fill(0)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += simplex[i][j] / n
    const at = (t: number) => centroid.map((c, j) => c + t * (simplex[n][j] - c))
    const xr = at(-1)
    const fr = f(xr)
    if (fr < values[0]) {
      const xe = at(-2)
      const fe = f(xe)
      if (fe < fr) {
        simplex[n] = xe
        values[n] = fe
      } else {
        simplex[n] = xr
        values[n] = fr
      }
    } else if (fr < values[n - 1]) {
      simplex[n] = xr
      values[n] = fr
    } else {
      const outside = fr < values[n]
      const xc = at(outside ? -0.5 : 0.5)
      const fc = f(xc)
      if (fc < (outside ? fr : values[n])) {
        simplex[n] = xc
        values[n] = fc
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i].map((v, j) => simplex[0][j] + 0.5 * (v - simplex[0][j]))
          values[i] = f(simplex[i])
        }
      }
    }
  }
  let best = 0
  for (let i = 1; i <= n; i++) if (values[i] < values[best]) best = i
  return { x: simplex[best], value: values[best] }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
const logit = (p: number) => Math.log(p / (1 - p))

// ---------------------------------------------------------------- seasonal naive

export interface SeasonalNaiveFit {
  kind: 'seasonal_naive'
  m: number
  sigma: number
  /** the last m values (the ones the forecast repeats) */
  last: number[]
}

export function fitSeasonalNaive(y: number[], m: number): SeasonalNaiveFit {
  const period = y.length > m ? m : 1
  let ss = 0
  let k = 0
  for (let t = period; t < y.length; t++) {
    ss += (y[t] - y[t - period]) ** 2
    k++
  }
  return { kind: 'seasonal_naive', m: period, sigma: Math.sqrt(k ? ss / k : 0), last: y.slice(-period) }
}

export function forecastSeasonalNaive(fit: SeasonalNaiveFit, steps: number): Forecast {
  const mean: number[] = []
  const sd: number[] = []
  for (let h = 1; h <= steps; h++) {
    mean.push(fit.last[(h - 1) % fit.m])
    sd.push(fit.sigma * Math.sqrt(Math.floor((h - 1) / fit.m) + 1))
  }
  return { mean, sd }
}

// ---------------------------------------------------------------- ETS / Holt-Winters

export type Trend = 'none' | 'add' | 'damped'
export type Season = 'none' | 'add' | 'mul'

export interface EtsParams {
  alpha: number
  /** smoothing of the trend as statsmodels writes it (β* ; the error-correction β is α·β*) */
  beta: number
  gamma: number
  phi: number
  l0: number
  b0: number
  /** initial seasonal terms for times 0 … m−1 */
  s0: number[]
}

export interface EtsFit extends EtsParams {
  kind: 'ets'
  trend: Trend
  season: Season
  m: number
  sse: number
  sigma2: number
  n: number
  aicc: number
  /** the state after the last observation: level, trend, and the seasonal terms for the next m times */
  level: number
  slope: number
  seasonal: number[]
}

export const etsName = (f: Pick<EtsFit, 'trend' | 'season'>) =>
  `ETS(A,${f.trend === 'none' ? 'N' : f.trend === 'add' ? 'A' : 'Ad'},${f.season === 'none' ? 'N' : f.season === 'add' ? 'A' : 'M'})`

/** Runs the recursions; returns the SSE and the final state (seasonal terms ordered for times n … n+m−1). */
export function etsFilter(y: number[], p: EtsParams, trend: Trend, season: Season, m: number, fitted?: number[]) {
  let l = p.l0
  let b = trend === 'none' ? 0 : p.b0
  const phi = trend === 'damped' ? p.phi : 1
  const s = season === 'none' ? [] : p.s0.slice()
  let sse = 0
  for (let t = 0; t < y.length; t++) {
    const lb = l + phi * b
    const st = season === 'none' ? 0 : s[t % m]
    const yhat = season === 'mul' ? lb * st : lb + st
    const e = y[t] - yhat
    if (fitted) fitted[t] = yhat
    sse += e * e
    if (season === 'mul') {
      const nl = p.alpha * (y[t] / st) + (1 - p.alpha) * lb
      if (trend !== 'none') b = p.beta * (nl - l) + (1 - p.beta) * phi * b
      s[t % m] = p.gamma * (y[t] / lb) + (1 - p.gamma) * st
      l = nl
    } else {
      const nl = p.alpha * (y[t] - st) + (1 - p.alpha) * lb
      if (trend !== 'none') b = p.beta * (nl - l) + (1 - p.beta) * phi * b
      if (season === 'add') s[t % m] = p.gamma * (y[t] - lb) + (1 - p.gamma) * st
      l = nl
    }
  }
  const n = y.length
  const seasonal = season === 'none' ? [] : Array.from({ length: m }, (_, j) => s[(n + j) % m])
  return { sse, level: l, slope: b, seasonal }
}

function initialStates(y: number[], trend: Trend, season: Season, m: number) {
  if (season === 'none') {
    const k = Math.min(y.length, 10)
    const l0 = y[0]
    const b0 = trend === 'none' || k < 2 ? 0 : (y[k - 1] - y[0]) / (k - 1)
    return { l0, b0, s0: [] as number[] }
  }
  // A straight line through the first (up to four) whole seasons, and each season's mean deviation from it.
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length
  const cycles = Math.max(1, Math.min(4, Math.floor(y.length / m)))
  const span = y.slice(0, cycles * m)
  const tm = (span.length - 1) / 2
  const ym = mean(span)
  let sxy = 0
  let sxx = 0
  span.forEach((v, t) => {
    sxy += (t - tm) * (v - ym)
    sxx += (t - tm) ** 2
  })
  const slope = cycles > 1 && trend !== 'none' ? sxy / sxx : 0
  const line = (t: number) => ym + slope * (t - tm)
  const s0 = Array.from({ length: m }, (_, j) => {
    const dev: number[] = []
    for (let k = 0; k < cycles; k++) dev.push(season === 'mul' ? span[k * m + j] / line(k * m + j) : span[k * m + j] - line(k * m + j))
    return mean(dev)
  })
  const g = mean(s0)
  // the level just before time 0
  return { l0: line(-1), b0: slope, s0: s0.map((v) => (season === 'mul' ? v / g : v - g)) }
}

/** Fits one ETS variant by minimising the SSE. */
export function fitEts(y: number[], trend: Trend, season: Season, m: number, opts: { refine?: boolean } = {}): EtsFit {
  const n = y.length
  const init = initialStates(y, trend, season, m)
  const scale = Math.max(1e-9, Math.sqrt(y.reduce((s, v) => s + (v - init.l0) ** 2, 0) / n) || Math.abs(init.l0) || 1)
  const unpack = (x: number[]): EtsParams => {
    let i = 0
    const alpha = 1e-4 + 0.9998 * sigmoid(x[i++])
    const beta = trend === 'none' ? 0 : 1e-4 + 0.9998 * sigmoid(x[i++])
    const gamma = season === 'none' ? 0 : (1e-4 + 0.9998 * sigmoid(x[i++])) * (1 - alpha)
    const phi = trend === 'damped' ? 0.8 + 0.195 * sigmoid(x[i++]) : 1
    const l0 = init.l0 + x[i++] * scale
    const b0 = trend === 'none' ? 0 : init.b0 + x[i++] * (scale / Math.max(1, m))
    if (x.length === i) return { alpha, beta, gamma, phi, l0, b0, s0: init.s0 }
    // refinement stage: the initial seasonal terms too, kept centred (sum 0, or mean 1 for multiplicative)
    const raw = init.s0.map((v, j) => (season === 'mul' ? v * Math.exp(0.1 * x[i + j]) : v + x[i + j] * 0.1 * scale))
    const c = raw.reduce((a, v) => a + v, 0) / m
    return { alpha, beta, gamma, phi, l0, b0, s0: raw.map((v) => (season === 'mul' ? v / c : v - c)) }
  }
  const x0 = [logit(0.3)]
  if (trend !== 'none') x0.push(logit(0.1))
  if (season !== 'none') x0.push(logit(0.1))
  if (trend === 'damped') x0.push(0)
  x0.push(0)
  if (trend !== 'none') x0.push(0)
  const objective = (x: number[]) => {
    const r = etsFilter(y, unpack(x), trend, season, m).sse
    return Number.isFinite(r) ? r : 1e300
  }
  let best = nelderMead(objective, x0, { maxIter: 200 * x0.length, tol: 1e-8 })
  // one restart from the optimum escapes most early stalls of the simplex
  best = nelderMead(objective, best.x, { maxIter: 100 * x0.length, tol: 1e-8 })
  // Short seasons: estimate the initial seasonal terms as well (as statsmodels' 'estimated' does); long ones (24, 52)
  // keep the first seasons' averages, where a simplex in 30–60 dimensions would cost more than it gains.
  if (season !== 'none' && m <= 12 && opts.refine !== false) {
    const x1 = [...best.x, ...new Array(m).fill(0)]
    const refined = nelderMead(objective, x1, { maxIter: 150 * x1.length, tol: 1e-8 })
    if (refined.value < best.value) best = nelderMead(objective, refined.x, { maxIter: 50 * x1.length, tol: 1e-8 })
  }
  const p = unpack(best.x)
  const r = etsFilter(y, p, trend, season, m)
  const k = x0.length + (season === 'none' ? 0 : m - 1)
  const sse = r.sse
  const aicc = n * Math.log(Math.max(sse, 1e-300) / n) + 2 * (k + 1) + (n - k - 2 > 0 ? (2 * (k + 1) * (k + 2)) / (n - k - 2) : 1e9)
  return { kind: 'ets', trend, season, m, ...p, sse, sigma2: sse / Math.max(1, n - k), n, aicc, level: r.level, slope: r.slope, seasonal: r.seasonal }
}

/** The ETS variants worth trying on a series (multiplicative seasonality only for positive data). */
export function etsVariants(y: number[], m: number): { trend: Trend; season: Season }[] {
  const seasonal = m > 1 && y.length >= 2 * m + 2
  const positive = y.every((v) => v > 0)
  const trends: Trend[] = y.length >= 10 ? ['none', 'add', 'damped'] : ['none']
  const seasons: Season[] = seasonal ? (positive ? ['none', 'add', 'mul'] : ['none', 'add']) : ['none']
  return trends.flatMap((trend) => seasons.map((season) => ({ trend, season })))
}

/** Fits every variant (seasonal initial terms from the data), keeps the lowest AICc, and refines that one. */
export function fitAutoEts(y: number[], m: number): EtsFit {
  let best: EtsFit | null = null
  for (const v of etsVariants(y, m)) {
    const f = fitEts(y, v.trend, v.season, m, { refine: false })
    if (!best || f.aicc < best.aicc) best = f
  }
  return best!.season === 'none' ? best! : fitEts(y, best!.trend, best!.season, m)
}

export function forecastEts(fit: EtsFit, steps: number, opts: { paths?: number; seed?: number } = {}): Forecast {
  const phi = fit.trend === 'damped' ? fit.phi : 1
  const b = fit.trend === 'none' ? 0 : fit.slope
  const mean: number[] = []
  let phiSum = 0
  for (let h = 1; h <= steps; h++) {
    phiSum += phi ** h
    const lb = fit.level + phiSum * b
    const s = fit.season === 'none' ? 0 : fit.seasonal[(h - 1) % fit.m]
    mean.push(fit.season === 'mul' ? lb * s : lb + s)
  }
  if (fit.season !== 'mul') {
    // var(h) = σ² (1 + Σ_{j<h} c_j²), c_j = α(1 + β*·φ_j) + γ·[j mod m = 0], φ_j = φ + … + φ^j
    const sd: number[] = []
    let acc = 0
    let phiJ = 0
    for (let h = 1; h <= steps; h++) {
      sd.push(Math.sqrt(fit.sigma2 * (1 + acc)))
      phiJ += phi ** h
      const c = fit.alpha * (1 + (fit.trend === 'none' ? 0 : fit.beta * phiJ)) + (fit.season === 'add' && h % fit.m === 0 ? fit.gamma : 0)
      acc += c * c
    }
    return { mean, sd }
  }
  // Multiplicative seasonality: the spread of simulated paths (additive errors, same recursions).
  const paths = opts.paths ?? 2000
  const z = seededNormal(opts.seed ?? 12345)
  const sigma = Math.sqrt(fit.sigma2)
  const sum = new Float64Array(steps)
  const sum2 = new Float64Array(steps)
  for (let k = 0; k < paths; k++) {
    let l = fit.level
    let bb = b
    const s = fit.seasonal.slice()
    for (let h = 0; h < steps; h++) {
      const lb = l + phi * bb
      const st = s[h % fit.m]
      const yv = lb * st + sigma * z()
      const nl = fit.alpha * (yv / st) + (1 - fit.alpha) * lb
      if (fit.trend !== 'none') bb = fit.beta * (nl - l) + (1 - fit.beta) * phi * bb
      s[h % fit.m] = fit.gamma * (yv / lb) + (1 - fit.gamma) * st
      l = nl
      sum[h] += yv
      sum2[h] += yv * yv
    }
  }
  const sd = Array.from(sum, (s, h) => Math.sqrt(Math.max(0, sum2[h] / paths - (s / paths) ** 2)))
  return { mean, sd }
}

/** Re-runs a fitted ETS (same smoothing parameters) over another history: the state at its end, for forecasting. */
export function refilterEts(fit: EtsFit, y: number[]): EtsFit {
  const init = initialStates(y, fit.trend, fit.season, fit.m)
  const p: EtsParams = { alpha: fit.alpha, beta: fit.beta, gamma: fit.gamma, phi: fit.phi, ...init }
  const r = etsFilter(y, p, fit.trend, fit.season, fit.m)
  return { ...fit, ...p, level: r.level, slope: r.slope, seasonal: r.seasonal }
}
