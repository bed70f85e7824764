import { Bar, BarChart, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { ClientOnly } from '#app/features/ops/components.tsx'

/* The prediction pages' pieces (browser side; the numbers come from the feature functions). */

export interface FormHeader {
  column_name: string
  data_type: string
  default_value: string | null
  default_source: string | null
  options: string[] | null
}

/** A form value as the API reads it, or an error message (the same rules the server applies, for inline hints). */
export function formValue(h: FormHeader, raw: string): { value: unknown } | { error: string } {
  const v = raw.trim()
  if (v === '') return { value: null }
  switch (h.data_type) {
    case 'Integer':
      return /^[+-]?\d+$/.test(v) ? { value: Number(v) } : { error: 'must be a whole number' }
    case 'Float':
      return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(v) ? { value: Number(v) } : { error: 'must be a number' }
    case 'Boolean':
      return ['true', 'false'].includes(v) ? { value: v === 'true' } : { error: 'must be true or false' }
    case 'Date':
      return /^\d{4}-\d{2}-\d{2}$/.test(v) ? { value: v } : { error: 'must be a date (YYYY-MM-DD)' }
    default:
      return { value: raw }
  }
}

export function ContributionsChart({ contributions }: { contributions: { feature: string; shap: number; direction: string }[] }) {
  const data = contributions.slice(0, 12).map((c) => ({ feature: c.feature, shap: c.shap }))
  return (
    <div className="h-64" data-testid="contributions-chart">
      <ClientOnly fallback={<p className="text-sm text-slate-500">Loading chart…</p>}>
        {() => (
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={data} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
              <XAxis type="number" tick={{ fontSize: 10 }} />
              <YAxis type="category" dataKey="feature" tick={{ fontSize: 11 }} width={120} interval={0} />
              <ReferenceLine x={0} stroke="#94a3b8" />
              <Tooltip formatter={(v) => [Number(v).toFixed(4), 'SHAP']} />
              <Bar dataKey="shap" isAnimationActive={false}>
                {data.map((d) => (
                  <Cell key={d.feature} fill={d.shap >= 0 ? '#dc2626' : '#2563eb'} />
                ))}
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        )}
      </ClientOnly>
    </div>
  )
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const v = Math.max(0, Math.min(100, value))
  return (
    <div className="flex items-center gap-2">
      <div className="h-2 w-32 rounded bg-slate-200" role="progressbar" aria-valuenow={Math.round(v)} aria-valuemin={0} aria-valuemax={100} aria-label={label}>
        <div className="h-2 rounded bg-indigo-500" style={{ width: `${v}%` }} />
      </div>
      <span className="text-xs text-slate-600">{Math.round(v)}%</span>
    </div>
  )
}
