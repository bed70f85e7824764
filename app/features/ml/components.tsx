import { useEffect, type ReactNode } from 'react'
import { useRevalidator } from 'react-router'
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { Table } from '#app/components/ui.tsx'
import { CsvButton, fmtNum } from '#app/features/analytics/components.tsx'
import { ClientOnly } from '#app/features/ops/components.tsx'

/*
  The Models pages' parts (browser side; every number comes from the training's stored metrics). The model page
  composes these sections in order; inference adds its own (a prediction form, a batch panel) into the slots the
  page leaves: see ModelPageLayout.
*/

export type TrainingStatus = 'submitted' | 'running' | 'completed' | 'failed' | 'cancelled'

export const isActive = (s: string) => s === 'submitted' || s === 'running'

const STATUS_STYLE: Record<string, string> = {
  submitted: 'bg-slate-100 text-slate-700',
  running: 'bg-sky-100 text-sky-800',
  completed: 'bg-emerald-100 text-emerald-800',
  failed: 'bg-rose-100 text-rose-800',
  cancelled: 'bg-amber-100 text-amber-800',
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span data-testid="training-status" className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[status] ?? STATUS_STYLE.submitted}`}>
      {status}
    </span>
  )
}

/** The job's progress: a bar while it runs (the current step below it), the badge once it has ended. */
export function TrainingProgress({ status, progress, step, label = 'Training progress' }: { status: string; progress: number; step?: string | null; label?: string }) {
  const pct = Math.max(0, Math.min(100, Math.round(progress)))
  return (
    <div className="min-w-40">
      <div className="flex items-center justify-between gap-2">
        <StatusBadge status={status} />
        {isActive(status) ? <span className="text-xs tabular-nums text-slate-600">{pct}%</span> : null}
      </div>
      {isActive(status) ? (
        <div className="mt-1 h-1.5 w-full overflow-hidden rounded bg-slate-200" role="progressbar" aria-label={label} aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
          <div className="h-full bg-indigo-500 transition-all" style={{ width: `${pct}%` }} />
        </div>
      ) : null}
      {step && isActive(status) ? <p className="mt-1 max-w-64 truncate text-xs text-slate-500" title={step}>{step}</p> : null}
    </div>
  )
}

function ChartBox({ height = 'h-64', children, testId }: { height?: string; children: () => ReactNode; testId?: string }) {
  return (
    <div className={height} data-testid={testId}>
      <ClientOnly fallback={<p className="text-sm text-slate-500">Loading chart…</p>}>{children}</ClientOnly>
    </div>
  )
}

// ---------------------------------------------------------------- metrics

const CLASSIFICATION_TILES = [
  ['accuracy', 'Accuracy'],
  ['precision', 'Precision'],
  ['recall', 'Recall'],
  ['f1_score', 'F1'],
  ['roc_auc', 'ROC AUC'],
  ['log_loss', 'Log loss'],
] as const
const REGRESSION_TILES = [
  ['rmse', 'RMSE'],
  ['mae', 'MAE'],
  ['r2', 'R²'],
  ['mape', 'MAPE'],
] as const

export function MetricTiles({ metrics, problemType, rows }: { metrics: Record<string, unknown>; problemType: string; rows?: number }) {
  const tiles = problemType === 'Regression' ? REGRESSION_TILES : CLASSIFICATION_TILES
  return (
    <div className="grid gap-4 sm:grid-cols-3 lg:grid-cols-6" data-testid="metric-tiles">
      {tiles.map(([k, label]) => (
        <div key={k} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid={`metric-${k}`}>
          <p className="text-xs text-slate-500">{label}</p>
          <p className="text-2xl font-semibold tabular-nums">{fmtNum(metrics[k], 4)}</p>
        </div>
      ))}
      {rows !== undefined ? (
        <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
          <p className="text-xs text-slate-500">Held-out rows</p>
          <p className="text-2xl font-semibold tabular-nums">{fmtNum(rows)}</p>
        </div>
      ) : null}
    </div>
  )
}

/** Rows = actual class, columns = predicted; shaded by the share of the actual class's rows. */
export function ConfusionMatrix({ classes, matrix }: { classes: string[]; matrix: number[][] }) {
  return (
    <div className="overflow-x-auto" data-testid="confusion-matrix">
      <table className="border-separate border-spacing-1 text-sm">
        <thead>
          <tr>
            <th className="text-right text-xs font-normal text-slate-500">actual ↓ / predicted →</th>
            {classes.map((c) => (
              <th key={c} scope="col" className="px-2 text-xs font-medium text-slate-600">{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => {
            const total = row.reduce((s, v) => s + v, 0) || 1
            return (
              <tr key={classes[i] ?? i}>
                <th scope="row" className="pr-2 text-right text-xs font-medium text-slate-600">{classes[i]}</th>
                {row.map((v, j) => {
                  const share = v / total
                  const good = i === j
                  return (
                    <td
                      key={j}
                      className={`h-14 min-w-20 rounded text-center tabular-nums ${share > 0.55 ? 'text-white' : 'text-slate-900'}`}
                      style={{ background: good ? `rgba(5, 150, 105, ${0.08 + 0.85 * share})` : `rgba(220, 38, 38, ${0.08 + 0.85 * share})` }}
                      title={`actual ${classes[i]}, predicted ${classes[j]}: ${v} rows (${(share * 100).toFixed(1)} % of actual ${classes[i]})`}
                    >
                      <div className="font-semibold">{v.toLocaleString('en-US')}</div>
                      <div className="text-xs opacity-80">{(share * 100).toFixed(1)} %</div>
                    </td>
                  )
                })}
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

export function RocCurve({ points, auc }: { points: { fpr: number; tpr: number; threshold: number }[]; auc: number | null }) {
  return (
    <ChartBox testId="roc-curve">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 5, right: 10, bottom: 20, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis type="number" dataKey="fpr" domain={[0, 1]} tick={{ fontSize: 11 }} label={{ value: 'False positive rate', position: 'insideBottom', offset: -10, fontSize: 12 }} />
            <YAxis type="number" domain={[0, 1]} tick={{ fontSize: 11 }} width={40} label={{ value: 'True positive rate', angle: -90, position: 'insideLeft', fontSize: 12 }} />
            <Tooltip formatter={(v) => fmtNum(v, 3)} labelFormatter={(_, p) => `threshold ${fmtNum(p?.[0]?.payload?.threshold, 3)}`} />
            <ReferenceLine segment={[{ x: 0, y: 0 }, { x: 1, y: 1 }]} stroke="#94a3b8" strokeDasharray="4 3" />
            <Line dataKey="tpr" name={`ROC (AUC ${fmtNum(auc, 3)})`} stroke="#4f46e5" strokeWidth={2} dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

export function PrCurve({ points }: { points: { recall: number; precision: number; threshold: number }[] }) {
  return (
    <ChartBox testId="pr-curve">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 5, right: 10, bottom: 20, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis type="number" dataKey="recall" domain={[0, 1]} tick={{ fontSize: 11 }} label={{ value: 'Recall', position: 'insideBottom', offset: -10, fontSize: 12 }} />
            <YAxis type="number" domain={[0, 1]} tick={{ fontSize: 11 }} width={40} label={{ value: 'Precision', angle: -90, position: 'insideLeft', fontSize: 12 }} />
            <Tooltip formatter={(v) => fmtNum(v, 3)} labelFormatter={(_, p) => `threshold ${fmtNum(p?.[0]?.payload?.threshold, 3)}`} />
            <Line dataKey="precision" name="Precision" stroke="#059669" strokeWidth={2} dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

/** The validation metric after each boosting round (early stopping picks the best). */
export function LearningCurve({ history, metric, best }: { history: number[]; metric: string; best: number | null }) {
  const data = history.map((v, i) => ({ round: i + 1, value: v }))
  return (
    <ChartBox height="h-48" testId="learning-curve">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={data} margin={{ top: 5, right: 10, bottom: 5, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="round" tick={{ fontSize: 11 }} />
            <YAxis tick={{ fontSize: 11 }} width={48} domain={['auto', 'auto']} tickFormatter={(v) => fmtNum(v, 3)} />
            <Tooltip formatter={(v) => [fmtNum(v, 4), metric]} labelFormatter={(r) => `round ${r}`} />
            {best !== null ? <ReferenceLine x={best + 1} stroke="#d97706" strokeDasharray="4 3" label={{ value: 'best', fontSize: 11, fill: '#b45309' }} /> : null}
            <Line dataKey="value" stroke="#4f46e5" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

export interface LeaderboardRow {
  rank: number
  model_id: number
  version: number
  algorithm: string
  model: string
  metric: string
  value: number
  chosen: boolean
  cross_validation: { folds: number; metric: string; scores: { fold: number; train_rows: number; validation_rows: number; value: number }[]; mean: number; std: number } | null
  duration_ms: number
}

export function Leaderboard({ rows, name }: { rows: LeaderboardRow[]; name: string }) {
  const csv = rows.map((r) => ({ rank: r.rank, model: r.model, algorithm: r.algorithm, version: r.version, metric: r.metric, value: r.value, cv_mean: r.cross_validation?.mean ?? null, cv_std: r.cross_validation?.std ?? null, duration_ms: r.duration_ms, chosen: r.chosen }))
  return (
    <>
      <div className="mb-3 flex justify-end">
        <CsvButton name={`${name}-leaderboard`} rows={csv} />
      </div>
      <Table headers={['Rank', 'Model', 'Version', 'Validation metric', 'CV mean ± std', 'Training time', '']}>
        {rows.map((r) => (
          <tr key={r.model_id} data-testid="leaderboard-row">
            <td className="px-3 py-1.5 tabular-nums">{r.rank}</td>
            <td className="px-3 py-1.5 font-medium">{r.model}</td>
            <td className="px-3 py-1.5">v{r.version}</td>
            <td className="px-3 py-1.5 tabular-nums">{r.metric} {fmtNum(r.value, 4)}</td>
            <td className="px-3 py-1.5 tabular-nums">{r.cross_validation ? `${fmtNum(r.cross_validation.mean, 4)} ± ${fmtNum(r.cross_validation.std, 2)}` : '—'}</td>
            <td className="px-3 py-1.5 tabular-nums">{fmtNum(r.duration_ms / 1000, 3)} s</td>
            <td className="px-3 py-1.5">{r.chosen ? <span className="rounded bg-indigo-100 px-2 py-0.5 text-xs text-indigo-800">chosen</span> : null}</td>
          </tr>
        ))}
      </Table>
    </>
  )
}

/** Per-fold scores of each candidate, one bar group per fold. */
export function CvFoldScores({ rows }: { rows: LeaderboardRow[] }) {
  const withCv = rows.filter((r) => r.cross_validation)
  if (!withCv.length) return <p className="text-sm text-slate-500">No cross-validation was requested (cv_folds 0). Set it under Advanced when training.</p>
  const folds = Math.max(...withCv.map((r) => r.cross_validation!.scores.length))
  const data = Array.from({ length: folds }, (_, f) => Object.fromEntries([['fold', `fold ${f + 1}`], ...withCv.map((r) => [r.model, r.cross_validation!.scores[f]?.value])]))
  const colors = ['#4f46e5', '#059669', '#d97706', '#dc2626']
  return (
    <>
      <ChartBox height="h-48" testId="cv-scores">
        {() => (
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={data} margin={{ top: 5, right: 10, bottom: 5, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              <XAxis dataKey="fold" tick={{ fontSize: 11 }} />
              <YAxis tick={{ fontSize: 11 }} width={48} domain={['auto', 'auto']} tickFormatter={(v) => fmtNum(v, 3)} />
              <Tooltip formatter={(v) => fmtNum(v, 4)} />
              {withCv.map((r, i) => (
                <Bar key={r.model_id} dataKey={r.model} fill={colors[i % colors.length]} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        )}
      </ChartBox>
      <Table headers={['Model', 'Metric', ...Array.from({ length: folds }, (_, f) => `Fold ${f + 1}`), 'Mean', 'Std']}>
        {withCv.map((r) => (
          <tr key={r.model_id} data-testid="cv-row">
            <td className="px-3 py-1.5 font-medium">{r.model}</td>
            <td className="px-3 py-1.5">{r.cross_validation!.metric}</td>
            {Array.from({ length: folds }, (_, f) => (
              <td key={f} className="px-3 py-1.5 tabular-nums">{fmtNum(r.cross_validation!.scores[f]?.value, 4)}</td>
            ))}
            <td className="px-3 py-1.5 tabular-nums">{fmtNum(r.cross_validation!.mean, 4)}</td>
            <td className="px-3 py-1.5 tabular-nums">{fmtNum(r.cross_validation!.std, 3)}</td>
          </tr>
        ))}
      </Table>
    </>
  )
}

/** Share of the mean |SHAP| per original column, largest first. */
export function ImportanceChart({ importance }: { importance: Record<string, number> }) {
  const data = Object.entries(importance)
    .sort((a, b) => b[1] - a[1])
    .map(([column, share]) => ({ column, share }))
  return (
    <div style={{ height: `${Math.max(120, 28 * data.length + 40)}px` }} data-testid="importance-chart">
      <ClientOnly fallback={<p className="text-sm text-slate-500">Loading chart…</p>}>
        {() => (
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={data} layout="vertical" margin={{ top: 5, right: 20, bottom: 5, left: 10 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" horizontal={false} />
              <XAxis type="number" tick={{ fontSize: 11 }} tickFormatter={(v) => `${Math.round(v * 100)} %`} />
              <YAxis type="category" dataKey="column" tick={{ fontSize: 11 }} width={130} />
              <Tooltip formatter={(v) => [`${(Number(v) * 100).toFixed(2)} %`, 'share of mean |SHAP|']} />
              <Bar dataKey="share" fill="#6366f1" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        )}
      </ClientOnly>
    </div>
  )
}

/** Parameters as a two-column table (nested values as JSON). */
export function ParamsTable({ params }: { params: Record<string, unknown> }) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined)
  return (
    <Table headers={['Parameter', 'Value']}>
      {entries.map(([k, v]) => (
        <tr key={k}>
          <td className="px-3 py-1 font-mono text-xs">{k}</td>
          <td className="px-3 py-1 font-mono text-xs">{typeof v === 'object' && v !== null ? JSON.stringify(v) : fmtNum(v, 6)}</td>
        </tr>
      ))}
    </Table>
  )
}

/**
 * The model page's layout: a header block, the evaluation sections, then the slots other areas fill. Inference puts
 * its prediction form in `predict` and its batch panel in `batch`; each slot renders only when given.
 */
export function ModelPageLayout({
  overview,
  evaluation,
  explanation,
  details,
  predict,
  batch,
}: {
  overview: ReactNode
  evaluation?: ReactNode
  explanation?: ReactNode
  details?: ReactNode
  predict?: ReactNode
  batch?: ReactNode
}) {
  return (
    <div className="flex flex-col gap-6">
      {overview}
      {evaluation}
      {explanation}
      {predict ? <div data-slot="predict">{predict}</div> : null}
      {batch ? <div data-slot="batch">{batch}</div> : null}
      {details}
    </div>
  )
}


/** Re-runs the page's loaders every `ms` while `active` (a training or SHAP job is running) and the tab is visible. */
export function usePollWhile(active: boolean, ms = 1000) {
  const { revalidate, state } = useRevalidator()
  useEffect(() => {
    if (!active) return
    const id = setInterval(() => {
      if (document.visibilityState === 'visible' && state === 'idle') void revalidate()
    }, ms)
    return () => clearInterval(id)
  }, [active, ms, revalidate, state])
}
