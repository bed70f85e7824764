import { useCallback, useEffect, useRef, useState } from 'react'
import { Form, useNavigation } from 'react-router'
import { Button, CsrfInput, EmptyState, Notice, Table } from '#app/components/ui.tsx'
import { fmtNum } from '#app/features/analytics/components.tsx'
import { ProgressBar } from '#app/features/inference/components.tsx'
import { StatusPill } from './components.tsx'
import { trainAssetBody } from './schemas.ts'

/*
  The asset page's Train panel (provider view): start a training of the asset's model (POST …/train's three parts,
  checked as you type against the same zod schema the API validates with), the asset's trainings with their progress
  (the page polls while one runs), each one's log (GET /training-jobs/{id}/logs, as this session) and the version it
  made, linked to the versions timeline.
*/

export interface TrainingView {
  training_job_id: string
  status: string
  progress: { current_step: string; steps_completed: number; steps_total: number; percentage_complete: number; message: string | null }
  results: { metric?: { name: string; value: number | null; threshold: number | null; reached: boolean }; deployment_status?: string; model_version?: string; version_status?: string; error?: string | null } | null
  training_id: number | null
  started_at: string
  completed_at: string | null
  version: string | null
}

export const trainingInFlight = (s: string) => s === 'started' || s === 'running'

type Values = Record<string, string>
const DEFAULTS: Values = { algorithm: '', validation_split: '', cross_validation_folds: '', seed: '', hyperparameters: '', dataset_id: '', target_variable: '', feature_selection: 'auto', features: '', start_date: '', end_date: '', date_column: '', auto_deploy: '', performance_threshold: '', metric: '', deployment_strategy: 'blue_green', rollback_on_failure: 'true' }

/** The form's values as POST …/train's body (empty fields left out: the current training's apply), or the fields in error. */
export function trainRequest(v: Values): { body: unknown; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const num = (k: string) => (v[k].trim() === '' ? undefined : Number(v[k]))
  const str = (k: string) => (v[k].trim() === '' ? undefined : v[k].trim())
  let hyperparameters: unknown
  if (v.hyperparameters.trim()) {
    try {
      hyperparameters = JSON.parse(v.hyperparameters)
    } catch {
      errors['training_config.hyperparameters'] = 'must be a JSON object, e.g. {"max_depth": 4}'
    }
  }
  const period = { start_date: str('start_date'), end_date: str('end_date'), date_column: str('date_column') }
  const body = {
    training_config: { algorithm: str('algorithm'), validation_split: num('validation_split'), cross_validation_folds: num('cross_validation_folds'), seed: num('seed'), hyperparameters },
    data_config: {
      dataset_id: num('dataset_id'),
      target_variable: str('target_variable'),
      feature_selection: v.feature_selection === 'list' ? v.features.split(',').map((s) => s.trim()).filter(Boolean) : v.feature_selection,
      training_period: period.start_date || period.end_date || period.date_column ? period : undefined,
    },
    deployment_config: {
      auto_deploy: v.auto_deploy === 'true',
      performance_threshold: num('performance_threshold'),
      metric: str('metric'),
      deployment_strategy: v.deployment_strategy,
      rollback_on_failure: v.rollback_on_failure === 'true',
    },
  }
  const parsed = trainAssetBody.safeParse(body)
  if (!parsed.success) for (const i of parsed.error.issues) errors[i.path.join('.')] ??= i.message
  return { body, errors }
}

export function TrainPanel({ trainings, fields, message, started }: { trainings: TrainingView[]; fields: Record<string, string>; message?: string | null; started?: string | null }) {
  const nav = useNavigation()
  const [values, setValues] = useState<Values>(DEFAULTS)
  const [touched, setTouched] = useState<Record<string, boolean>>({})
  const { body, errors } = trainRequest(values)
  const busy = nav.state !== 'idle' && nav.formData?.get('intent') === 'train'
  // a field's error once it was edited (or the server's for it); every error stops the submit
  const err = (path: string, key: string) => (touched[key] ? errors[path] : undefined) ?? fields[path]
  const set = (k: string) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [k]: e.target.value }))
    setTouched((t) => ({ ...t, [k]: true }))
  }
  const input = (k: string, path: string, label: string, extra: React.InputHTMLAttributes<HTMLInputElement> = {}, hint?: string) => {
    const e = err(path, k)
    return (
      <div className="flex flex-col gap-1">
        <label htmlFor={`train-${k}`} className="text-sm font-medium text-slate-700">
          {label}
        </label>
        <input
          id={`train-${k}`}
          value={values[k]}
          onChange={set(k)}
          aria-invalid={e ? true : undefined}
          aria-describedby={e ? `train-${k}-err` : undefined}
          className="rounded-md border border-slate-300 px-3 py-2 text-sm aria-[invalid]:border-rose-500"
          {...extra}
        />
        {e ? (
          <p id={`train-${k}-err`} className="text-xs text-rose-600">
            {e}
          </p>
        ) : hint ? (
          <p className="text-xs text-slate-500">{hint}</p>
        ) : null}
      </div>
    )
  }
  const select = (k: string, path: string, label: string, options: [string, string][]) => (
    <div className="flex flex-col gap-1">
      <label htmlFor={`train-${k}`} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      <select id={`train-${k}`} value={values[k]} onChange={set(k)} className="rounded-md border border-slate-300 px-3 py-2 text-sm">
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
      {err(path, k) ? <p className="text-xs text-rose-600">{err(path, k)}</p> : null}
    </div>
  )
  const running = trainings.some((t) => trainingInFlight(t.status))
  return (
    <div className="space-y-4">
      <Form method="post" className="space-y-4" aria-label="Train">
        <CsrfInput />
        <input type="hidden" name="intent" value="train" />
        <input type="hidden" name="train_request" value={JSON.stringify(body)} />
        <fieldset className="grid gap-3 md:grid-cols-4">
          <legend className="mb-1 text-sm font-semibold text-slate-800">Training</legend>
          {select('algorithm', 'training_config.algorithm', 'Algorithm', [
            ['', 'as the current training'],
            ['auto', 'auto'],
            ['xgboost', 'XGBoost'],
            ['linear', 'Linear'],
          ])}
          {input('validation_split', 'training_config.validation_split', 'Validation split', { type: 'number', step: 'any', placeholder: '0.2' }, '0.05–0.5 of the rows held out')}
          {input('cross_validation_folds', 'training_config.cross_validation_folds', 'Cross-validation folds', { type: 'number', placeholder: '0' }, '0 (none) or 2–10')}
          {input('seed', 'training_config.seed', 'Seed', { type: 'number', placeholder: 'as before' })}
          <div className="md:col-span-4">{input('hyperparameters', 'training_config.hyperparameters', 'Hyperparameters (JSON, optional)', { placeholder: '{"max_depth": 4, "n_estimators": 200}', className: 'w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-xs aria-[invalid]:border-rose-500' })}</div>
        </fieldset>
        <fieldset className="grid gap-3 md:grid-cols-4">
          <legend className="mb-1 text-sm font-semibold text-slate-800">Data</legend>
          {input('dataset_id', 'data_config.dataset_id', 'Dataset id', { type: 'number', placeholder: 'the current one' })}
          {input('target_variable', 'data_config.target_variable', 'Target column', { placeholder: 'the current one' })}
          {select('feature_selection', 'data_config.feature_selection', 'Features', [
            ['auto', "the current training's"],
            ['all', 'every column but ids and target'],
            ['list', 'the columns named'],
          ])}
          {values.feature_selection === 'list' ? input('features', 'data_config.feature_selection', 'Feature columns (comma-separated)') : <div />}
          {input('start_date', 'data_config.training_period.start_date', 'Period from', { type: 'date' })}
          {input('end_date', 'data_config.training_period.end_date', 'Period to', { type: 'date' })}
          {input('date_column', 'data_config.training_period.date_column', 'Date column', { placeholder: 'the only date column' })}
        </fieldset>
        <fieldset className="grid gap-3 md:grid-cols-4">
          <legend className="mb-1 text-sm font-semibold text-slate-800">Deployment</legend>
          {select('auto_deploy', 'deployment_config.auto_deploy', 'Deploy the new version', [
            ['', 'no: keep it as a candidate'],
            ['true', 'yes, if it reaches the threshold'],
          ])}
          {input('performance_threshold', 'deployment_config.performance_threshold', 'Performance threshold', { type: 'number', step: 'any', placeholder: '0.85' }, 'between 0 and 1')}
          {select('metric', 'deployment_config.metric', 'Metric', [
            ['', 'accuracy (classification) / r2'],
            ...(['accuracy', 'precision', 'recall', 'f1_score', 'roc_auc', 'r2'].map((m) => [m, m]) as [string, string][]),
          ])}
          {select('deployment_strategy', 'deployment_config.deployment_strategy', 'Strategy', [
            ['blue_green', 'blue-green'],
            ['canary', 'canary'],
          ])}
          {select('rollback_on_failure', 'deployment_config.rollback_on_failure', 'Roll back on failure', [
            ['true', 'yes (error rate above 5%)'],
            ['false', 'no'],
          ])}
        </fieldset>
        {message ? <Notice kind="error">{message}</Notice> : null}
        {started ? <Notice kind="success">Training {started} started.</Notice> : null}
        <Button type="submit" disabled={busy || Object.keys(errors).length > 0 || running}>
          {busy ? 'Starting…' : 'Start training'}
        </Button>
        {running ? <p className="text-xs text-slate-500">One training at a time: wait for the running one to end.</p> : null}
      </Form>
      <TrainingList trainings={trainings} />
    </div>
  )
}

function TrainingList({ trainings }: { trainings: TrainingView[] }) {
  const [open, setOpen] = useState<string | null>(null)
  if (!trainings.length) return <EmptyState title="No trainings yet">A training makes a new version of the asset from its model&apos;s data; it appears here with its progress.</EmptyState>
  return (
    <>
      <Table headers={['Training', 'Started', 'Status', 'Step', 'Result', '']}>
        {trainings.map((t) => (
          <tr key={t.training_job_id} data-testid="training-row">
            <td className="px-3 py-2 font-mono text-xs">{t.training_job_id}</td>
            <td className="whitespace-nowrap px-3 py-2 text-xs">{new Date(t.started_at).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' })}</td>
            <td className="px-3 py-2">
              {trainingInFlight(t.status) ? <ProgressBar value={t.progress.percentage_complete} label={`Training ${t.training_job_id}`} /> : <StatusPill status={t.status === 'completed' ? 'success' : t.status} />}
            </td>
            <td className="px-3 py-2 text-xs">
              {t.progress.current_step.replace('_', ' ')} ({t.progress.steps_completed}/{t.progress.steps_total}){t.progress.message ? <span className="block text-slate-500">{t.progress.message}</span> : null}
            </td>
            <td className="px-3 py-2 text-xs" data-testid="training-result">
              {t.version ? (
                <a href={`#version-${t.version}`} className="text-indigo-700 underline">
                  version {t.version}
                </a>
              ) : null}
              {t.results?.metric ? (
                <span className="block">
                  {t.results.metric.name} {t.results.metric.value === null ? 'n/a' : fmtNum(t.results.metric.value, 4)}
                  {t.results.metric.threshold !== null ? ` (threshold ${t.results.metric.threshold}: ${t.results.metric.reached ? 'reached' : 'not reached'})` : ''}
                </span>
              ) : null}
              {t.results?.deployment_status ? <span className="block text-slate-500">deployment: {t.results.deployment_status.replace('_', ' ')}</span> : null}
              {t.results?.error ? <span className="block text-rose-700">{t.results.error}</span> : null}
            </td>
            <td className="px-3 py-2">
              <Button type="button" variant="secondary" aria-expanded={open === t.training_job_id} onClick={() => setOpen(open === t.training_job_id ? null : t.training_job_id)}>
                {open === t.training_job_id ? 'Hide log' : 'Log'}
              </Button>
            </td>
          </tr>
        ))}
      </Table>
      {open ? <TrainingLog id={open} live={trainingInFlight(trainings.find((t) => t.training_job_id === open)?.status ?? '')} /> : null}
    </>
  )
}

interface LogLine {
  at: string
  level: string
  source: string
  message: string
}

/** The training's log from the API (this session's cookie), fetched again every 2 s while it runs. */
function TrainingLog({ id, live }: { id: string; live: boolean }) {
  const [lines, setLines] = useState<LogLine[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const load = useCallback(async () => {
    try {
      const res = await fetch(`/api/v1/analytics/training-jobs/${id}/logs`, { credentials: 'same-origin' })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      setLines(((await res.json()) as { data: { logs: LogLine[] } }).data.logs)
      setError(null)
    } catch (e) {
      setError(`Could not read the log: ${(e as Error).message}`)
    }
  }, [id])
  useEffect(() => {
    setLines(null)
    void load()
  }, [load])
  useInterval(live ? 2000 : null, load)
  return (
    <div className="mt-3 rounded-md border border-slate-200 p-3" data-testid="training-log" aria-label={`Log of ${id}`}>
      <p className="mb-2 text-xs font-semibold text-slate-700">Log of {id}</p>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {lines === null ? (
        <p className="text-xs text-slate-500">Loading…</p>
      ) : (
        <ol className="max-h-64 space-y-1 overflow-y-auto font-mono text-xs text-slate-700">
          {lines.map((l, i) => (
            <li key={i} className={l.level === 'error' ? 'text-rose-700' : l.level === 'warn' ? 'text-amber-700' : undefined}>
              <span className="text-slate-400">{new Date(l.at).toLocaleTimeString('en-GB')}</span> [{l.source}] {l.message}
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}

/** Calls fn every ms while ms is not null (the latest fn: no stale closure). */
function useInterval(ms: number | null, fn: () => unknown) {
  const ref = useRef(fn)
  ref.current = fn
  useEffect(() => {
    if (ms === null) return
    const t = setInterval(() => void ref.current(), ms)
    return () => clearInterval(t)
  }, [ms])
}
