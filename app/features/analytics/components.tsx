import type { ReactNode } from 'react'
import {
  Area, Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis,
} from 'recharts'
import { Button } from '#app/components/ui.tsx'
import { ClientOnly } from '#app/features/ops/components.tsx'

/* The Analytics and Segments pages' charts and tables (browser side; the numbers come from the feature functions). */

export const fmtNum = (v: unknown, digits = 4): string => {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '—'
  if (typeof v !== 'number') return String(v)
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  const abs = Math.abs(v)
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e7)) return v.toExponential(2)
  return Number(v.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 })
}

export const fmtP = (p: number | null | undefined) => (p == null ? '—' : p === 0 ? '< 1e-300' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4))

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function toCsv(rows: Record<string, unknown>[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  return [keys.join(','), ...rows.map((r) => keys.map((k) => csvCell(r[k])).join(','))].join('\r\n') + '\r\n'
}

/** Downloads the rows shown in a table as CSV (built in the browser from the same data). */
export function CsvButton({ name, rows, label = 'Download CSV' }: { name: string; rows: Record<string, unknown>[]; label?: string }) {
  return (
    <Button
      type="button"
      variant="secondary"
      disabled={!rows.length}
      onClick={() => {
        const a = document.createElement('a')
        a.href = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv' }))
        a.download = name.endsWith('.csv') ? name : `${name}.csv`
        a.click()
        URL.revokeObjectURL(a.href)
      }}
    >
      {label}
    </Button>
  )
}

export const PALETTE = ['#4f46e5', '#059669', '#d97706', '#dc2626', '#0891b2', '#7c3aed', '#db2777', '#65a30d', '#475569', '#ea580c']

function ChartBox({ height = 'h-48', children, testId }: { height?: string; children: () => ReactNode; testId?: string }) {
  return (
    <div className={height} data-testid={testId}>
      <ClientOnly fallback={<p className="text-sm text-slate-500">Loading chart…</p>}>{children}</ClientOnly>
    </div>
  )
}

export function HistogramChart({ bins }: { bins: { from: number; to: number; count: number }[] }) {
  const data = bins.map((b) => ({ label: fmtNum(b.from, 3), range: `${fmtNum(b.from)} – ${fmtNum(b.to)}`, count: b.count }))
  return (
    <ChartBox height="h-36">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
            <XAxis dataKey="label" tick={{ fontSize: 10 }} minTickGap={16} />
            <YAxis tick={{ fontSize: 10 }} width={36} allowDecimals={false} />
            <Tooltip formatter={(v) => [v, 'rows']} labelFormatter={(_, p) => String(p?.[0]?.payload?.range ?? '')} />
            <Bar dataKey="count" fill="#6366f1" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

/** A horizontal box plot: whiskers at min and max, the box from Q1 to Q3, the median marked. */
export function BoxPlot({ min, q1, median, q3, max }: { min: number | null; q1: number | null; median: number | null; q3: number | null; max: number | null }) {
  if ([min, q1, median, q3, max].some((v) => v === null || !Number.isFinite(v))) return null
  const lo = min!
  const span = max! - lo || 1
  const x = (v: number) => 4 + ((v - lo) / span) * 292
  return (
    <svg viewBox="0 0 300 40" className="h-10 w-full" role="img" aria-label={`Box plot: min ${fmtNum(min)}, Q1 ${fmtNum(q1)}, median ${fmtNum(median)}, Q3 ${fmtNum(q3)}, max ${fmtNum(max)}`}>
      <line x1={x(min!)} x2={x(max!)} y1={20} y2={20} stroke="#94a3b8" />
      <line x1={x(min!)} x2={x(min!)} y1={12} y2={28} stroke="#94a3b8" />
      <line x1={x(max!)} x2={x(max!)} y1={12} y2={28} stroke="#94a3b8" />
      <rect x={x(q1!)} width={Math.max(1, x(q3!) - x(q1!))} y={8} height={24} fill="#e0e7ff" stroke="#4f46e5" />
      <line x1={x(median!)} x2={x(median!)} y1={8} y2={32} stroke="#312e81" strokeWidth={2} />
    </svg>
  )
}

/** Correlation heatmap: blue for positive, red for negative; each cell shows r and its (BH-adjusted) p-value. */
export function Heatmap({ columns, pairs }: { columns: string[]; pairs: { x: string; y: string; r: number | null; p_value: number | null; adjusted_p_value?: number | null }[] }) {
  const cell = (a: string, b: string) => (a === b ? { r: 1, p_value: 0, adjusted_p_value: 0 } : pairs.find((p) => (p.x === a && p.y === b) || (p.x === b && p.y === a)))
  const color = (r: number | null) => {
    if (r === null) return '#f1f5f9'
    const t = Math.min(1, Math.abs(r))
    return r >= 0 ? `rgba(79, 70, 229, ${0.08 + 0.8 * t})` : `rgba(220, 38, 38, ${0.08 + 0.8 * t})`
  }
  return (
    <div className="overflow-x-auto" data-testid="correlation-heatmap">
      <table className="border-separate border-spacing-0.5 text-xs">
        <thead>
          <tr>
            <th />
            {columns.map((c) => (
              <th key={c} scope="col" className="max-w-24 truncate px-1 font-medium text-slate-600" title={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {columns.map((a) => (
            <tr key={a}>
              <th scope="row" className="pr-2 text-right font-medium text-slate-600">{a}</th>
              {columns.map((b) => {
                const c = cell(a, b)
                const strong = c?.r != null && Math.abs(c.r) > 0.6
                return (
                  <td
                    key={b}
                    className={`h-12 w-20 rounded text-center ${strong ? 'text-white' : 'text-slate-900'}`}
                    style={{ background: color(c?.r ?? null) }}
                    title={`${a} × ${b}: r = ${fmtNum(c?.r)}, adjusted p = ${fmtP(c?.adjusted_p_value)}`}
                  >
                    <div className="font-semibold tabular-nums">{fmtNum(c?.r, 2)}</div>
                    {a !== b ? <div className="tabular-nums opacity-80">p {fmtP(c?.adjusted_p_value)}</div> : null}
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export interface ForecastPoint {
  date: string
  actual?: number
  fitted?: number
  value?: number
  band?: [number, number]
}

/** Past periods (actual and fitted) followed by the predictions with their interval as a shaded band. */
export function ForecastChart({ points, level }: { points: ForecastPoint[]; level: number }) {
  return (
    <ChartBox height="h-72" testId="forecast-chart">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={points} margin={{ top: 5, right: 10, bottom: 5, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="date" tick={{ fontSize: 11 }} minTickGap={24} />
            <YAxis tick={{ fontSize: 11 }} width={64} tickFormatter={(v) => fmtNum(v, 3)} />
            <Tooltip formatter={(v) => (Array.isArray(v) ? `${fmtNum(v[0])} – ${fmtNum(v[1])}` : fmtNum(v))} />
            <Legend />
            <Area dataKey="band" name={`${Math.round(level * 100)} % prediction interval`} fill="#c7d2fe" stroke="none" isAnimationActive={false} />
            <Line dataKey="actual" name="Actual" stroke="#0f172a" dot={false} isAnimationActive={false} />
            <Line dataKey="fitted" name="Fitted" stroke="#94a3b8" strokeDasharray="4 3" dot={false} isAnimationActive={false} />
            <Line dataKey="value" name="Prediction" stroke="#4f46e5" strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

/** Horizontal bars of each factor's share (root causes), 0–100 %. */
export function ShareBars({ items }: { items: { label: string; share: number; note?: string }[] }) {
  return (
    <ul className="flex flex-col gap-2">
      {items.map((i) => (
        <li key={i.label} className="text-sm">
          <div className="flex justify-between gap-2">
            <span className="font-medium">{i.label}</span>
            <span className="tabular-nums text-slate-600">{(i.share * 100).toFixed(1)} %{i.note ? ` · ${i.note}` : ''}</span>
          </div>
          <div className="mt-1 h-2 rounded bg-slate-100">
            <div className="h-2 rounded bg-indigo-500" style={{ width: `${Math.max(0, Math.min(1, i.share)) * 100}%` }} />
          </div>
        </li>
      ))}
    </ul>
  )
}

/** Points of two features, one colour per cluster, centroids as large markers. */
export function ClusterScatter({
  points, x, y, clusters,
}: {
  points: Record<string, number>[]
  x: string
  y: string
  clusters: { cluster_id: number; name: string; centroid: Record<string, number> }[]
}) {
  return (
    <ChartBox height="h-96" testId="segment-scatter">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <ScatterChart margin={{ top: 10, right: 10, bottom: 20, left: 10 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis type="number" dataKey={x} name={x} tick={{ fontSize: 11 }} label={{ value: x, position: 'insideBottom', offset: -10, fontSize: 12 }} domain={['auto', 'auto']} />
            <YAxis type="number" dataKey={y} name={y} tick={{ fontSize: 11 }} label={{ value: y, angle: -90, position: 'insideLeft', fontSize: 12 }} domain={['auto', 'auto']} />
            <ZAxis range={[18, 18]} />
            <Tooltip cursor={{ strokeDasharray: '3 3' }} formatter={(v) => fmtNum(v)} />
            <Legend verticalAlign="top" />
            {clusters.map((c) => (
              <Scatter
                key={c.cluster_id}
                name={`${c.cluster_id}: ${c.name}`}
                data={points.filter((p) => p.cluster_id === c.cluster_id)}
                fill={PALETTE[c.cluster_id % PALETTE.length]}
                fillOpacity={0.55}
                isAnimationActive={false}
              />
            ))}
            <Scatter name="centroids" data={clusters.map((c) => c.centroid)} fill="#0f172a" shape="cross" legendType="none" isAnimationActive={false} />
          </ScatterChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

export function KSelectionChart({ selection }: { selection: { k: number; silhouette: number }[] }) {
  return (
    <ChartBox height="h-40">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={selection} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
            <XAxis dataKey="k" tick={{ fontSize: 11 }} />
            <YAxis tick={{ fontSize: 10 }} width={36} domain={[0, 1]} />
            <Tooltip formatter={(v) => [fmtNum(v, 3), 'silhouette']} labelFormatter={(k) => `k = ${k}`} />
            <Bar dataKey="silhouette" fill="#059669" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

/** A labelled group of checkboxes sharing one form name. */
export function CheckboxGroup({ legend, name, options, defaults = [] }: { legend: string; name: string; options: string[]; defaults?: string[] }) {
  return (
    <fieldset className="flex flex-col gap-1 text-sm">
      <legend className="font-medium text-slate-700">{legend}</legend>
      <div className="flex flex-wrap gap-x-4 gap-y-1">
        {options.map((o) => (
          <label key={o} className="inline-flex items-center gap-1">
            <input type="checkbox" name={name} value={o} defaultChecked={defaults.includes(o)} /> {o}
          </label>
        ))}
      </div>
    </fieldset>
  )
}

export function Select({ label, name, options, defaultValue }: { label: string; name: string; options: { value: string; label: string }[]; defaultValue?: string }) {
  return (
    <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
      {label}
      <select name={name} defaultValue={defaultValue} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal">
        {options.map((o) => (
          <option key={o.value} value={o.value}>{o.label}</option>
        ))}
      </select>
    </label>
  )
}
