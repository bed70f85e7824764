import { describe, expect, it, vi } from 'vitest'
import { pythonMissing, runPython, skipReason } from '#tests/support/python.ts'
import { fitArima, forecastArimax, type ArimaFit } from './arima.ts'
import { alignRegressor, periodLabel, periodOf, regularize, toMillis } from './calendar.ts'
import { backtest, defaultSpec, fitCandidate, forecastFrom, forecastWith, intervals, mase, maseScale, smape, trainForecast, UNIVARIATE_CANDIDATES } from './core.ts'
import { etsFilter, fitEts, fitSeasonalNaive, forecastEts, forecastSeasonalNaive, normalQuantile, seededNormal, type EtsFit } from './models.ts'
import { ols } from './regression.ts'
import { simulate } from './simulate.ts'

const STATSMODELS = pythonMissing(['statsmodels', 'numpy'])
// Simulations and the Python oracle take seconds, more on a loaded machine.
vi.setConfig({ testTimeout: 180_000 })

describe('calendar', () => {
  it('maps moments to periods and back for every frequency', () => {
    expect(periodLabel(periodOf(toMillis('2025-10-05'), 'Week'), 'Week')).toBe('2025-09-29') // the Monday of its week
    expect(periodLabel(periodOf(toMillis('2025-10-05'), 'Week') + 1, 'Week')).toBe('2025-10-06')
    expect(periodLabel(periodOf(toMillis('2025-11-17'), 'Month') + 2, 'Month')).toBe('2026-01-01')
    expect(periodLabel(periodOf(toMillis('2025-11-17'), 'Quarter') + 1, 'Quarter')).toBe('2026-01-01')
    expect(periodLabel(periodOf(toMillis('2025-12-31T23:30:00Z'), 'Hour') + 1, 'Hour')).toBe('2026-01-01T00:00:00Z')
    expect(periodLabel(periodOf(toMillis('2024-02-28'), 'Day') + 1, 'Day')).toBe('2024-02-29')
    expect(periodLabel(periodOf(toMillis('2024-06-01'), 'Year') + 1, 'Year')).toBe('2025-01-01')
  })

  it('fills missing periods explicitly (linear) and averages duplicates', () => {
    const pts = [
      { t: toMillis('2025-01-01'), y: 10 },
      { t: toMillis('2025-01-02'), y: 12 },
      { t: toMillis('2025-01-02'), y: 14 },
      { t: toMillis('2025-01-05'), y: 22 },
    ]
    const r = regularize(pts, 'Day')
    expect(r.values).toEqual([10, 13, 16, 19, 22])
    expect(r).toMatchObject({ rows: 4, duplicates: 1, filled: 2, filled_at: [2, 3] })
  })
})

describe('seasonal naive', () => {
  it('repeats the last season; σ from the seasonal differences; variance grows by whole seasons', () => {
    const y = [1, 2, 3, 4, 2, 3, 4, 5, 4, 5, 6, 7]
    const f = fitSeasonalNaive(y, 4)
    const diffs = y.slice(4).map((v, i) => v - y[i])
    expect(f.sigma).toBeCloseTo(Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length), 12)
    const out = forecastSeasonalNaive(f, 9)
    expect(out.mean).toEqual([4, 5, 6, 7, 4, 5, 6, 7, 4])
    expect(out.sd[0]).toBeCloseTo(f.sigma, 12)
    expect(out.sd[4]).toBeCloseTo(f.sigma * Math.SQRT2, 12)
    expect(out.sd[8]).toBeCloseTo(f.sigma * Math.sqrt(3), 12)
  })
})

describe('ETS', () => {
  it('analytic interval widths equal the spread of simulated paths (additive seasonality, damped trend)', () => {
    const y = simulate({ n: 96, m: 12, trend: 0.3, amplitude: 8, noise: 2, seed: 4 })
    const fit = fitEts(y, 'damped', 'add', 12)
    const f = forecastEts(fit, 18)
    // Independent: simulate the fitted model's future with N(0, σ²) errors through its own recursions.
    const z = seededNormal(99)
    const paths = 6000
    const sums = new Float64Array(18)
    const sq = new Float64Array(18)
    for (let k = 0; k < paths; k++) {
      const future: number[] = []
      let st = { ...fit }
      for (let h = 0; h < 18; h++) {
        const mean = forecastEts(st, 1).mean[0]
        const v = mean + Math.sqrt(fit.sigma2) * z()
        future.push(v)
        const r = etsFilter([v], { ...st, l0: st.level, b0: st.slope, s0: st.seasonal }, st.trend, st.season, st.m)
        st = { ...st, level: r.level, slope: r.slope, seasonal: r.seasonal }
        sums[h] += v
        sq[h] += v * v
      }
    }
    for (const h of [0, 5, 11, 12, 17]) {
      const sd = Math.sqrt(sq[h] / paths - (sums[h] / paths) ** 2)
      expect(Math.abs(sd - f.sd[h]) / f.sd[h]).toBeLessThan(0.05)
      expect(Math.abs(sums[h] / paths - f.mean[h])).toBeLessThan(0.08 * f.sd[h])
    }
    expect(f.sd[17]).toBeGreaterThan(f.sd[0])
  })

  it('normal quantiles', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8)
    expect(normalQuantile(0.9)).toBeCloseTo(1.281551566, 8)
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829304, 8)
  })

  describe.skipIf(skipReason(STATSMODELS, 'ETS against statsmodels'))('against statsmodels (/usr/bin/python3)', () => {
    const SCRIPT = `
import json, sys, numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing
d = json.load(sys.stdin)
out = []
for c in d['cases']:
    y = np.array(c['y'])
    trend = None if c['trend'] == 'none' else 'add'
    season = None if c['season'] == 'none' else c['season']
    kw = dict(trend=trend, damped_trend=c['trend'] == 'damped', seasonal=season, seasonal_periods=c['m'] if season else None)
    m = ExponentialSmoothing(y, initialization_method='known', initial_level=c['l0'], initial_trend=c['b0'] if trend else None,
        initial_seasonal=c['s0'] if season else None, **kw)
    fixed = dict(smoothing_level=c['alpha'], optimized=False)
    if trend: fixed['smoothing_trend'] = c['beta']
    if season: fixed['smoothing_seasonal'] = c['gamma']
    if c['trend'] == 'damped': fixed['damping_trend'] = c['phi']
    r = m.fit(**fixed)
    est = ExponentialSmoothing(y, initialization_method='estimated', **kw).fit()
    out.append({'forecast': list(r.forecast(c['h'])), 'sse': float(r.sse), 'est_sse': float(est.sse), 'est_forecast': list(est.forecast(c['h']))})
print(json.dumps(out))
`
    it('the same parameters give the same forecasts and SSE; our SSE-optimal fit is at least as good as theirs', () => {
      const cases = [
        { y: simulate({ n: 120, m: 12, trend: 0.2, amplitude: 10, noise: 2, seed: 1 }), trend: 'add', season: 'add', m: 12 },
        { y: simulate({ n: 96, m: 4, trend: 0.5, amplitude: 0.2, multiplicative: true, noise: 1.5, seed: 2 }), trend: 'damped', season: 'mul', m: 4 },
        { y: simulate({ n: 80, m: 1, noise: 3, ar: 0.6, seed: 3 }), trend: 'none', season: 'none', m: 1 },
        { y: simulate({ n: 100, m: 7, trend: 0.1, amplitude: 5, noise: 1, seed: 5 }), trend: 'damped', season: 'add', m: 7 },
      ] as const
      const fits: EtsFit[] = cases.map((c) => fitEts([...c.y], c.trend, c.season, c.m))
      const got = runPython<{ forecast: number[]; sse: number; est_sse: number; est_forecast: number[] }[]>(SCRIPT, {
        cases: cases.map((c, i) => ({ ...c, y: [...c.y], h: 12, alpha: fits[i].alpha, beta: fits[i].beta, gamma: fits[i].gamma, phi: fits[i].phi, l0: fits[i].l0, b0: fits[i].b0, s0: fits[i].s0 })),
      })
      cases.forEach((c, i) => {
        const ours = forecastEts(fits[i], 12).mean
        // Up to one season ahead: statsmodels 0.13 forecasts h = m (and beyond) from the seasonal term one season older
        // than the last update (the textbook recursion, ours, uses the last; probed on a hand-run recursion).
        got[i].forecast.slice(0, c.m > 1 ? c.m - 1 : 12).forEach((v, h) => expect(Math.abs(v - ours[h])).toBeLessThan(1e-6 * Math.max(1, Math.abs(v))))
        expect(Math.abs(got[i].sse - fits[i].sse) / got[i].sse).toBeLessThan(1e-8)
        // statsmodels' own optimiser (every initial state estimated too): our Nelder-Mead SSE no more than 2 % above it
        // (measured: 421.51 vs 421.43 on A,A,A m=12; 275.7 vs 283.7 on A,Ad,M m=4; 70.36 vs 70.34 on A,Ad,A m=7)
        console.log(`[ets] ${c.trend}/${c.season}/m=${c.m}: SSE ours ${fits[i].sse.toFixed(2)}, statsmodels ${got[i].est_sse.toFixed(2)}`)
        expect(fits[i].sse).toBeLessThan(got[i].est_sse * 1.02)
      })
    })
  })
})

describe('ARIMA (the arima package)', () => {
  it('gives variances that match an AR(1) with known σ², and never the garbage of p = q = 0', () => {
    const z = seededNormal(7)
    let x = 0
    const y = Array.from({ length: 1500 }, () => (x = 0.5 * x + 3 * z()) + 10)
    const r = fitArima(y, 1, 4)!
    expect(r).not.toBeNull()
    // h-step variance of an AR(1): σ² (1 − φ^{2h}) / (1 − φ²)
    const expected = [1, 2, 3, 4].map((h) => Math.sqrt((9 * (1 - 0.25 ** h)) / 0.75))
    r.forecast.sd.forEach((s, i) => expect(Math.abs(s - expected[i]) / expected[i]).toBeLessThan(0.1))
    // A random walk: AutoARIMA picks (0,1,0), whose predict() is garbage in this package; we fall back and stay sane.
    let w = 0
    const rw = Array.from({ length: 300 }, () => (w += 2 * z()))
    const f = fitArima(rw, 1, 6)!
    expect(f).not.toBeNull()
    f.forecast.mean.forEach((v) => expect(Math.abs(v - rw[rw.length - 1])).toBeLessThan(10))
    f.forecast.sd.forEach((s, i) => i && expect(s).toBeGreaterThanOrEqual(f.forecast.sd[i - 1] * 0.99))
  })

  describe.skipIf(skipReason(STATSMODELS, 'ARIMA against statsmodels SARIMAX'))('against statsmodels SARIMAX', () => {
    it('ARIMA(1,1,1): forecasts and interval widths close to SARIMAX on the same series', () => {
      const z = seededNormal(11)
      let x = 0
      let e0 = 0
      let lvl = 50
      const y = Array.from({ length: 240 }, () => {
        const e = 1.5 * z()
        x = 0.6 * x + e + 0.3 * e0
        e0 = e
        return (lvl += x * 0.3 + 0.2)
      })
      const got = runPython<{ mean: number[]; sd: number[] }>(
        `
import json, sys, numpy as np
from statsmodels.tsa.statespace.sarimax import SARIMAX
d = json.load(sys.stdin)
r = SARIMAX(np.array(d['y']), order=(1,1,1), trend='n').fit(disp=False)
f = r.get_forecast(8)
print(json.dumps({'mean': list(f.predicted_mean), 'sd': list(np.sqrt(f.var_pred_mean))}))
`,
        { y },
      )
      const ours = fitCandidate('arima', y, 1, 8)!
      // Not the same estimator (CSS-ML in ctsa vs exact ML): close, not equal.
      got.mean.forEach((v, h) => expect(Math.abs(v - ours.forecast.mean[h])).toBeLessThan(0.25 * got.sd[h]))
      got.sd.forEach((v, h) => expect(Math.abs(v - ours.forecast.sd[h]) / v).toBeLessThan(0.25))
    })

    it('the airline model SARIMA(0,1,1)(0,1,1)[12]: forecasts and interval widths close to SARIMAX on a simulated airline series', () => {
      // Simulated from the airline model itself: (1 − B)(1 − B¹²) y = (1 + θB)(1 + ΘB¹²) e, θ = −0.4, Θ = −0.6, σ = 1.
      const z = seededNormal(23)
      const n = 156
      const e = Array.from({ length: n }, () => z())
      const w = e.map((v, t) => v - 0.4 * (e[t - 1] ?? 0) - 0.6 * (e[t - 12] ?? 0) + 0.24 * (e[t - 13] ?? 0))
      const y: number[] = []
      for (let t = 0; t < n; t++) y.push(w[t] + (y[t - 1] ?? 100) + (t >= 12 ? y[t - 12] - (y[t - 13] ?? 100) : 0) + (t < 12 ? 2 * Math.sin((2 * Math.PI * t) / 12) : 0))
      const got = runPython<{ mean: number[]; sd: number[]; params: number[] }>(
        `
import json, sys, numpy as np
from statsmodels.tsa.statespace.sarimax import SARIMAX
d = json.load(sys.stdin)
r = SARIMAX(np.array(d['y']), order=(0,1,1), seasonal_order=(0,1,1,12), trend='n').fit(disp=False)
f = r.get_forecast(12)
print(json.dumps({'mean': list(f.predicted_mean), 'sd': list(np.sqrt(f.var_pred_mean)), 'params': list(r.params)}))
`,
        { y },
      )
      const ours = fitCandidate('airline', y, 12, 12)!
      expect(ours).not.toBeNull()
      expect(ours.fit.kind === 'arima' && ours.fit.label).toBe('SARIMA(0,1,1)(0,1,1)[12]')
      console.log(`[airline] statsmodels θ, Θ, σ² = ${got.params.map((v) => v.toFixed(3)).join(', ')}; h=1 mean ${got.mean[0].toFixed(3)} vs ours ${ours.forecast.mean[0].toFixed(3)}, sd ${got.sd[0].toFixed(3)} vs ${ours.forecast.sd[0].toFixed(3)}`)
      // Not the same estimator (CSS-ML in ctsa vs exact ML): close, not equal.
      // (measured: θ −0.370 / −0.620 Θ by statsmodels; h = 1 mean and sd equal to three decimals)
      got.mean.forEach((v, h) => expect(Math.abs(v - ours.forecast.mean[h])).toBeLessThan(0.1 * got.sd[h]))
      got.sd.forEach((v, h) => expect(Math.abs(v - ours.forecast.sd[h]) / v).toBeLessThan(0.1))
      // Without a season there is no airline model: the candidate says so instead of fitting.
      expect(fitCandidate('airline', y, 1, 12)).toBeNull()
    })
  })
})

describe('backtest and selection', () => {
  it('MASE and sMAPE by their definitions', () => {
    const train = [1, 3, 2, 4, 3, 5]
    expect(maseScale(train, 2)).toBeCloseTo((1 + 1 + 1 + 1) / 4, 12)
    expect(mase([4, 6], [5, 5], 1)).toBe(1)
    expect(smape([100, 100], [110, 90])).toBeCloseTo((200 * 10) / 210 / 2 + (200 * 10) / 190 / 2, 10)
  })

  it('prefers a seasonal model on a seasonal series and beats the baseline there', () => {
    const y = simulate({ n: 120, m: 12, trend: 0.4, amplitude: 15, noise: 2, seed: 21 })
    const spec = defaultSpec('Month')
    const t = backtest(y, spec)
    expect(t.origins).toBe(3)
    const score = Object.fromEntries(t.scores.map((s) => [s.model, s.mase]))
    expect(Math.min(score.ets!, score.arima!)).toBeLessThan(score.seasonal_naive!)
  })

  it('a training chooses per series, keeps the forecast to the maximum horizon, and widens intervals with the horizon', () => {
    const series = [
      { unique_id: 'A', start: 0, values: simulate({ n: 60, m: 4, trend: 1, amplitude: 10, noise: 1, seed: 1 }), rows: 60, duplicates: 0, filled: 0 },
      { unique_id: 'B', start: 0, values: simulate({ n: 40, m: 4, noise: 2, seed: 2 }), rows: 40, duplicates: 0, filled: 0 },
    ]
    const a = trainForecast(series, defaultSpec('Quarter'))
    expect(a.series).toHaveLength(2)
    for (const s of a.series) {
      expect(s.forecast.mean).toHaveLength(40)
      expect(s.leaderboard.map((l) => l.model)).toEqual(['seasonal_naive', 'ets', 'arima', 'airline'])
      const pts = intervals(s.forecast, 12, 0.9)
      expect(pts[11].upper - pts[11].lower).toBeGreaterThan(pts[0].upper - pts[0].lower)
      pts.forEach((p) => expect(p.lower).toBeLessThan(p.upper))
    }
  })
})

describe('coverage: intervals contain the truth at about the stated rate (simulated series)', () => {
  // Each series is simulated from a known process, trained on its first n, and scored on the next h values.
  function coverage(name: 'ets' | 'seasonal_naive' | 'arima', make: (seed: number) => number[], m: number, runs: number, h: number) {
    const hits = { 0.8: 0, 0.95: 0 }
    let total = 0
    for (let k = 0; k < runs; k++) {
      const y = make(k + 1)
      const train = y.slice(0, y.length - h)
      const test = y.slice(y.length - h)
      const r = fitCandidate(name, train, m, h)!
      for (const c of [0.8, 0.95] as const) {
        intervals(r.forecast, h, c).forEach((p, i) => {
          if (test[i] >= p.lower && test[i] <= p.upper) hits[c]++
        })
      }
      total += h
    }
    const c = { c80: hits[0.8] / total, c95: hits[0.95] / total }
    console.log(`[coverage] ${name}: ${runs} series × ${h} steps: 80 % interval ${(100 * c.c80).toFixed(1)} %, 95 % interval ${(100 * c.c95).toFixed(1)} %`)
    return c
  }

  it('ETS on local-level-with-season series', () => {
    const make = (seed: number) => {
      const z = seededNormal(seed * 7919)
      let l = 50
      const s = [3, -1, -4, 2]
      return Array.from({ length: 64 }, (_, t) => {
        const e = z()
        const y = l + s[t % 4] + e
        l += 0.4 * e
        return y
      })
    }
    const c = coverage('ets', make, 4, 80, 8)
    expect(c.c95).toBeGreaterThan(0.9)
    expect(c.c95).toBeLessThan(0.99)
    expect(c.c80).toBeGreaterThan(0.72)
    expect(c.c80).toBeLessThan(0.88)
  })

  it('seasonal naive on a seasonal random walk', () => {
    const make = (seed: number) => {
      const z = seededNormal(seed * 104729)
      const y: number[] = [10, 20, 15, 5]
      for (let t = 4; t < 80; t++) y.push(y[t - 4] + 2 * z())
      return y
    }
    const c = coverage('seasonal_naive', make, 4, 200, 8)
    expect(c.c95).toBeGreaterThan(0.9)
    expect(c.c95).toBeLessThan(0.99)
    expect(c.c80).toBeGreaterThan(0.72)
    expect(c.c80).toBeLessThan(0.88)
  })

  it('AutoARIMA on AR(1) series', () => {
    const make = (seed: number) => {
      const z = seededNormal(seed * 15485863)
      let x = 0
      return Array.from({ length: 150 }, () => (x = 0.7 * x + z()) + 20)
    }
    // The package's intervals leave out parameter uncertainty (and AutoARIMA's search): a little under the rate.
    const c = coverage('arima', make, 1, 40, 6)
    expect(c.c95).toBeGreaterThan(0.85)
    expect(c.c95).toBeLessThan(0.995)
    expect(c.c80).toBeGreaterThan(0.65)
    expect(c.c80).toBeLessThan(0.9)
  })
})

// ---------------------------------------------------------------- regressors (decision 064)

/** y = 50 + 3·x + season + noise with x random: most of y's movement is the regressor's. */
function withRegressor(seed: number, n: number, m = 12, noise = 1) {
  const z = seededNormal(seed)
  const x = Array.from({ length: n }, () => 10 + 3 * z())
  const season = (t: number) => 8 * Math.sin((2 * Math.PI * (t % m)) / m)
  const truth = x.map((v, t) => 50 + 3 * v + season(t))
  const y = truth.map((v) => v + noise * z())
  return { x, y, truth }
}

describe('regressors', () => {
  it('a regressor with gaps is put on the target periods: linear inside its span, the nearest value outside, counted', () => {
    const pts = [
      { t: toMillis('2025-01-02'), y: 2 },
      { t: toMillis('2025-01-04'), y: 6 },
      { t: toMillis('2025-01-05'), y: NaN },
    ]
    const a = alignRegressor(pts, 'Day', periodOf(toMillis('2025-01-01'), 'Day'), 6)!
    expect(a.values).toEqual([2, 2, 4, 6, 6, 6])
    expect(a.filled).toBe(4)
    expect(alignRegressor([{ t: toMillis('2025-01-02'), y: NaN }], 'Day', 0, 3)).toBeNull()
  })

  it('the regression candidates win the backtest when y depends on x; the forecast with the future x tracks the truth', () => {
    const H = 12
    const { x, y, truth } = withRegressor(11, 96 + H)
    const n = 96
    const spec = defaultSpec('Month', { regressors: ['x'] })
    expect(spec.candidates).toEqual([...UNIVARIATE_CANDIDATES, 'arimax', 'regression'])
    const t = backtest(y.slice(0, n), spec, [x.slice(0, n)])
    const score = Object.fromEntries(t.scores.map((s) => [s.model, s.mase!]))
    console.log(`[regressors] backtest MASE: ${t.scores.map((s) => `${s.model} ${s.mase?.toFixed(3)}`).join(', ')}`)
    const bestX = Math.min(score.arimax, score.regression)
    expect(bestX).toBeLessThan(0.5 * score.seasonal_naive)
    for (const u of UNIVARIATE_CANDIDATES) expect(bestX).toBeLessThan(0.6 * score[u])
    // The training picks a regression candidate, and its forecast moves with the x the caller supplies.
    const a = trainForecast([{ unique_id: '', start: 0, values: y.slice(0, n), rows: n, duplicates: 0, filled: 0, exog: [x.slice(0, n)], exog_filled: [0] }], spec)
    const s = a.series[0]
    expect(['arimax', 'regression']).toContain(s.chosen)
    expect(s.effect!.beta[0]).toBeGreaterThan(2.8)
    expect(s.effect!.beta[0]).toBeLessThan(3.2)
    const f = forecastWith(s, [x.slice(n)], H)
    const mae = f.mean.reduce((acc, v, h) => acc + Math.abs(v - truth[n + h]), 0) / H
    // held at the last known x instead, the error is the regressor's spread (3·σx ≈ 9)
    const flat = forecastWith(s, [new Array(H).fill(x[n - 1])], H)
    const maeFlat = flat.mean.reduce((acc, v, h) => acc + Math.abs(v - truth[n + h]), 0) / H
    console.log(`[regressors] chosen ${s.label}; forecast MAE vs the noise-free truth ${mae.toFixed(3)} (x held at its last value: ${maeFlat.toFixed(3)})`)
    expect(mae).toBeLessThan(1.2)
    expect(maeFlat).toBeGreaterThan(3 * mae)
    // From a longer history with the same fitted parameters (the dataset_id path): same effect shape.
    const more = forecastFrom(s.fit, y, 6, [x])!
    expect(more.effect!.ref[0]).toBe(x[x.length - 1])
  })

  it('without regressors the regression candidates are not fitted (and say why in the backtest)', () => {
    const y = simulate({ n: 60, m: 12, amplitude: 10, seed: 5 })
    expect(fitCandidate('arimax', y, 12, 6)).toBeNull()
    expect(fitCandidate('regression', y, 12, 6)).toBeNull()
    const t = backtest(y, defaultSpec('Month', { candidates: ['seasonal_naive', 'regression'] }))
    expect(t.scores[1]).toMatchObject({ mase: null, error: 'needs regressors (Feature columns)' })
  })

  it('coverage of the regression + ETS and ARIMAX intervals on simulated series', () => {
    const h = 6
    const cover = (name: 'regression' | 'arimax', runs: number, fit: (y: number[], x: number[]) => { forecast: { mean: number[]; sd: number[] }; effect?: { ref: number[]; beta: number[] } | null } | null) => {
      const hits = { 0.8: 0, 0.95: 0 }
      let total = 0
      for (let k = 0; k < runs; k++) {
        const { x, y } = withRegressor(1000 + k, 72 + h, 4, 2)
        const r = fit(y.slice(0, 72), x.slice(0, 72))!
        const f = forecastWith(r, [x.slice(72)], h)
        for (const c of [0.8, 0.95] as const) intervals(f, h, c).forEach((p, i) => (y[72 + i] >= p.lower && y[72 + i] <= p.upper ? hits[c]++ : 0))
        total += h
      }
      const c = { c80: hits[0.8] / total, c95: hits[0.95] / total }
      console.log(`[coverage] ${name}: ${runs} series × ${h} steps: 80 % interval ${(100 * c.c80).toFixed(1)} %, 95 % interval ${(100 * c.c95).toFixed(1)} %`)
      return c
    }
    const reg = cover('regression', 80, (y, x) => fitCandidate('regression', y, 4, h, [x]))
    expect(reg.c95).toBeGreaterThan(0.9)
    expect(reg.c95).toBeLessThan(0.99)
    expect(reg.c80).toBeGreaterThan(0.72)
    expect(reg.c80).toBeLessThan(0.88)
    // ARIMAX with fixed orders (the search is the backtest's business): regression on x with ARIMA(1,0,0)(0,1,0)[4] errors
    const fixed: ArimaFit = { kind: 'arima', options: { p: 1, d: 0, q: 0, P: 0, D: 1, Q: 0, s: 4 }, label: '', window: 1000, fallback: null, regressors: 1 }
    const arx = cover('arimax', 40, (y, x) => forecastArimax(fixed, y, [x], h))
    // like the univariate ARIMA, parameter uncertainty is left out: a little under the rate is allowed
    expect(arx.c95).toBeGreaterThan(0.85)
    expect(arx.c95).toBeLessThan(0.995)
    expect(arx.c80).toBeGreaterThan(0.68)
    expect(arx.c80).toBeLessThan(0.9)
  })

  describe.skipIf(skipReason(STATSMODELS, 'ARIMAX and OLS against statsmodels'))('against statsmodels', () => {
    it('ARIMAX (airline errors + x): β, forecasts at the supplied future x, and interval widths close to SARIMAX(exog=x)', () => {
      const H = 12
      const { x, y } = withRegressor(7, 120 + H)
      const n = 120
      const got = runPython<{ beta: number; mean: number[]; sd: number[] }>(
        `
import json, sys, numpy as np
from statsmodels.tsa.statespace.sarimax import SARIMAX
d = json.load(sys.stdin); n = d['n']; x = np.array(d['x']); y = np.array(d['y'])
r = SARIMAX(y[:n], exog=x[:n], order=(0,1,1), seasonal_order=(0,1,1,12)).fit(disp=False)
f = r.get_forecast(len(x) - n, exog=x[n:])
print(json.dumps({'beta': float(r.params[0]), 'mean': list(f.predicted_mean), 'sd': list(np.sqrt(f.var_pred_mean))}))
`,
        { x, y: y.slice(0, n), n },
      )
      const fit: ArimaFit = { kind: 'arima', options: { p: 0, d: 1, q: 1, P: 0, D: 1, Q: 1, s: 12 }, label: '', window: 1000, fallback: null, regressors: 1 }
      const r = forecastArimax(fit, y.slice(0, n), [x.slice(0, n)], H)!
      const ours = forecastWith(r, [x.slice(n)], H)
      console.log(`[arimax] β statsmodels ${got.beta.toFixed(4)} vs ours ${r.effect.beta[0].toFixed(4)}; h=1 mean ${got.mean[0].toFixed(3)} vs ${ours.mean[0].toFixed(3)}, sd ${got.sd[0].toFixed(3)} vs ${ours.sd[0].toFixed(3)}`)
      // Not the same estimator (CSS-ML in ctsa vs exact ML): close, not equal.
      expect(Math.abs(r.effect.beta[0] - got.beta)).toBeLessThan(0.02 * Math.abs(got.beta))
      got.mean.forEach((v, h) => expect(Math.abs(v - ours.mean[h])).toBeLessThan(0.1 * got.sd[h]))
      got.sd.forEach((v, h) => expect(Math.abs(v - ours.sd[h]) / v).toBeLessThan(0.1))
    })

    it('OLS coefficients of the regression candidate equal statsmodels OLS', () => {
      const z = seededNormal(3)
      const x1 = Array.from({ length: 80 }, () => z())
      const x2 = Array.from({ length: 80 }, () => 5 + 2 * z())
      const y = x1.map((v, t) => 4 + 2 * v - 0.5 * x2[t] + 0.3 * z())
      const got = runPython<number[]>(
        `
import json, sys, numpy as np
import statsmodels.api as sm
d = json.load(sys.stdin)
X = sm.add_constant(np.column_stack([d['x1'], d['x2']]))
print(json.dumps(list(sm.OLS(np.array(d['y']), X).fit().params)))
`,
        { x1, x2, y },
      )
      const ours = ols(y, [x1, x2])!
      ours.forEach((v, i) => expect(v).toBeCloseTo(got[i], 9))
    })
  })
})
