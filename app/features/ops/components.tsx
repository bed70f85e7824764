import { useEffect, useState, type ReactNode } from 'react'
import { useRevalidator } from 'react-router'

/* Small presentational pieces shared by the operations pages. */

export const fmtInt = (n: number | null | undefined) => (n == null ? '—' : Math.round(n).toLocaleString('en-US'))
export const fmtMoney = (n: number | null | undefined) =>
  n == null ? '—' : n.toLocaleString('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: n >= 1000 ? 0 : 2 })
export const fmtPct = (n: number | null | undefined, digits = 1) => (n == null ? '—' : `${n.toFixed(digits)}%`)
export const fmtTime = (d: string | Date) => new Date(d).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }) + ' UTC'

/** Percent change from prev to cur; null when prev is 0 or missing (no meaningful base). */
export function pctChange(cur: number | null | undefined, prev: number | null | undefined) {
  if (cur == null || prev == null || prev === 0) return null
  return (100 * (cur - prev)) / prev
}

export function KpiTile({ label, value, delta, deltaLabel = 'vs previous 24 h', goodWhenUp = true, hint }: {
  label: string
  value: ReactNode
  delta?: number | null
  deltaLabel?: string
  goodWhenUp?: boolean
  hint?: string
}) {
  const shown = delta != null && Number.isFinite(delta)
  const good = shown && (delta! >= 0) === goodWhenUp
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="kpi-tile" title={hint}>
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums">{value}</p>
      {shown ? (
        <p className={`mt-1 text-xs font-medium ${good ? 'text-emerald-700' : 'text-rose-700'}`}>
          {delta! >= 0 ? '▲' : '▼'} {Math.abs(delta!).toFixed(1)}% <span className="font-normal text-slate-500">{deltaLabel}</span>
        </p>
      ) : (
        <p className="mt-1 text-xs text-slate-400">{delta === undefined ? '\u00a0' : `no change base ${deltaLabel}`}</p>
      )}
    </div>
  )
}

const SEVERITY = {
  critical: 'bg-rose-600 text-white',
  high: 'bg-orange-500 text-white',
  medium: 'bg-amber-200 text-amber-900',
  low: 'bg-slate-200 text-slate-800',
} as const

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <span className={`inline-block rounded px-2 py-0.5 text-xs font-semibold uppercase ${SEVERITY[severity as keyof typeof SEVERITY] ?? SEVERITY.low}`}>
      {severity}
    </span>
  )
}

const PRIORITY = {
  urgent: 'bg-rose-100 text-rose-800 ring-rose-300',
  high: 'bg-orange-100 text-orange-800 ring-orange-300',
  normal: 'bg-sky-100 text-sky-800 ring-sky-300',
  low: 'bg-slate-100 text-slate-700 ring-slate-300',
} as const

export function PriorityBadge({ priority }: { priority: string }) {
  return (
    <span className={`inline-block rounded px-2 py-0.5 text-xs font-medium ring-1 ${PRIORITY[priority as keyof typeof PRIORITY] ?? PRIORITY.low}`}>
      {priority}
    </span>
  )
}

/** Renders children only in the browser (Recharts measures the DOM). */
export function ClientOnly({ children, fallback = null }: { children: () => ReactNode; fallback?: ReactNode }) {
  const [mounted, setMounted] = useState(false)
  useEffect(() => setMounted(true), [])
  return <>{mounted ? children() : fallback}</>
}

/** Re-runs the page's loaders every `ms` while the tab is visible, and when it becomes visible again. */
export function useAutoRefresh(ms: number) {
  const { revalidate, state } = useRevalidator()
  useEffect(() => {
    const tick = () => {
      if (document.visibilityState === 'visible' && state === 'idle') void revalidate()
    }
    const id = setInterval(tick, ms)
    document.addEventListener('visibilitychange', tick)
    return () => {
      clearInterval(id)
      document.removeEventListener('visibilitychange', tick)
    }
  }, [ms, revalidate, state])
  return state
}
