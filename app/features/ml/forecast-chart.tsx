/*
  A forecast model's chart (browser and server render the same SVG): the history, the forecast and its prediction
  interval as a band, with date ticks at both ends and at the forecast origin. Numbers come from forecastChart().
*/

export interface ChartPoint {
  date: string
  value: number
}
export interface BandPoint extends ChartPoint {
  lower: number
  upper: number
}

const W = 760
const H = 280
const PAD = { l: 56, r: 12, t: 12, b: 28 }

const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3))

export function ForecastChart({ history, forecast, confidence }: { history: ChartPoint[]; forecast: BandPoint[]; confidence: number }) {
  const n = history.length + forecast.length
  if (!n) return <p className="text-sm text-slate-500">Nothing to draw.</p>
  const ys = [...history.map((p) => p.value), ...forecast.flatMap((p) => [p.lower, p.upper, p.value])].filter(Number.isFinite)
  let lo = Math.min(...ys)
  let hi = Math.max(...ys)
  if (hi === lo) {
    hi += 1
    lo -= 1
  }
  const x = (i: number) => PAD.l + (i * (W - PAD.l - PAD.r)) / Math.max(1, n - 1)
  const y = (v: number) => PAD.t + ((hi - v) * (H - PAD.t - PAD.b)) / (hi - lo)
  const off = history.length
  const line = (pts: [number, number][]) => pts.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join(' ')
  const past = line(history.map((p, i) => [x(i), y(p.value)]))
  const joint = history.length ? [[x(off - 1), y(history[off - 1].value)] as [number, number]] : []
  const ahead = line([...joint, ...forecast.map((p, i) => [x(off + i), y(p.value)] as [number, number])])
  const band =
    forecast.length > 0
      ? line([...forecast.map((p, i) => [x(off + i), y(p.upper)] as [number, number]), ...[...forecast].reverse().map((p, i) => [x(off + forecast.length - 1 - i), y(p.lower)] as [number, number])]) + ' Z'
      : ''
  const ticks = [lo, (lo + hi) / 2, hi]
  const dates: { i: number; label: string }[] = [
    ...(history.length ? [{ i: 0, label: history[0].date }] : []),
    ...(forecast.length ? [{ i: off, label: forecast[0].date }, { i: n - 1, label: forecast[forecast.length - 1].date }] : []),
  ]
  return (
    <figure data-testid="forecast-chart">
      <svg viewBox={`0 0 ${W} ${H}`} className="h-auto w-full" role="img" aria-label={`History and ${forecast.length}-step forecast with a ${Math.round(confidence * 100)} % interval`}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="#e2e8f0" />
            <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" fontSize="11" fill="#64748b">
              {fmt(v)}
            </text>
          </g>
        ))}
        {dates.map((d) => (
          <text key={d.i} x={x(d.i)} y={H - 8} textAnchor={d.i === 0 ? 'start' : d.i === n - 1 ? 'end' : 'middle'} fontSize="11" fill="#64748b">
            {d.label}
          </text>
        ))}
        {forecast.length > 0 && <line x1={x(off)} x2={x(off)} y1={PAD.t} y2={H - PAD.b} stroke="#cbd5e1" strokeDasharray="4 3" />}
        {band && <path d={band} fill="#c7d2fe" fillOpacity="0.7" stroke="none" data-testid="forecast-band" />}
        <path d={past} fill="none" stroke="#0f172a" strokeWidth="1.5" data-testid="forecast-history" />
        <path d={ahead} fill="none" stroke="#4f46e5" strokeWidth="2" data-testid="forecast-line" />
      </svg>
      <figcaption className="mt-1 flex gap-4 text-xs text-slate-600">
        <span>
          <span className="mr-1 inline-block h-0.5 w-4 bg-slate-900 align-middle" />
          History
        </span>
        <span>
          <span className="mr-1 inline-block h-0.5 w-4 bg-indigo-600 align-middle" />
          Forecast
        </span>
        <span>
          <span className="mr-1 inline-block h-2 w-4 bg-indigo-200 align-middle" />
          {Math.round(confidence * 1000) / 10} % prediction interval
        </span>
      </figcaption>
    </figure>
  )
}

/** The series picker, horizon and interval fields of a GET form that redraws a forecast chart (/forecasts, the model page). */
export function ForecastFields({
  chart,
}: {
  chart: { series_ids: string[]; unique_id: string; frequency: string; max_steps: number; steps: number; confidence: number; regressors?: { name: string; value: number; last: number }[] }
}) {
  return (
    <>
      <label className="flex flex-col text-sm">
        <span className="text-slate-600">Series</span>
        <select name="series" defaultValue={chart.unique_id} aria-label="Series" className="rounded border border-slate-300 px-2 py-1">
          {chart.series_ids.map((s) => (
            <option key={s} value={s}>
              {s || '(single series)'}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col text-sm">
        <span className="text-slate-600">Horizon ({chart.frequency.toLowerCase()}s, at most {chart.max_steps})</span>
        <input name="steps" type="number" min={1} max={chart.max_steps} defaultValue={chart.steps} aria-label="Horizon" className="w-28 rounded border border-slate-300 px-2 py-1" />
      </label>
      <label className="flex flex-col text-sm">
        <span className="text-slate-600">Interval</span>
        <select name="confidence" defaultValue={String(chart.confidence)} className="rounded border border-slate-300 px-2 py-1">
          {[0.8, 0.9, 0.95, 0.99].map((c) => (
            <option key={c} value={c}>
              {c * 100} %
            </option>
          ))}
        </select>
      </label>
      {chart.regressors?.length ? (
        <fieldset className="flex flex-wrap items-end gap-3 rounded border border-amber-200 bg-amber-50 px-2 py-1" data-testid="forecast-regressors">
          <legend className="px-1 text-xs text-amber-800">This series' model uses regressors: their future value over the horizon (default the last known)</legend>
          {chart.regressors.map((r) => (
            <label key={r.name} className="flex flex-col text-sm">
              <span className="text-slate-600">
                {r.name} (last {r.last})
              </span>
              <input name={`reg.${r.name}`} type="number" step="any" defaultValue={r.value} aria-label={`Future ${r.name}`} className="w-28 rounded border border-slate-300 px-2 py-1" />
            </label>
          ))}
        </fieldset>
      ) : null}
    </>
  )
}
