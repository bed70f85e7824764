import Papa from 'papaparse'
import { useState } from 'react'
import { Form, useNavigation } from 'react-router'
import { ActionForm, Button, CsrfInput, EmptyState, Field, Notice, Table } from '#app/components/ui.tsx'
import { fmtNum, toCsv } from '#app/features/analytics/components.tsx'
import { ProgressBar } from '#app/features/inference/components.tsx'
import { schemaValue, StatusPill } from './components.tsx'

/*
  The asset page's batch panel (upload a CSV, follow the batches, download their results) and deploy panel (a version
  with its strategy, the rollout watched live). Browser side: the numbers come from the batch and deployment rows.
*/

const MAX_RECORDS = 10_000

/** CSV rows → batch_data: typed by the input schema; a value that does not fit is sent as written (the record's error). */
export function batchRecords(schema: Record<string, string>, text: string) {
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true })
  const columns = parsed.meta.fields ?? []
  const unknown = columns.filter((c) => !(c in schema) && c !== 'id' && c !== 'customer_id')
  const missing = Object.keys(schema).filter((c) => !columns.includes(c))
  const records = parsed.data.map((row, i) => {
    const input: Record<string, unknown> = {}
    for (const [name, type] of Object.entries(schema)) {
      if (!(name in row)) continue
      const r = schemaValue(type, row[name] ?? '')
      input[name] = 'value' in r ? r.value : row[name]
    }
    return { id: row.id || String(i + 1), ...(row.customer_id ? { customer_id: row.customer_id } : {}), input_data: input }
  })
  return { records, unknown, missing, parseErrors: parsed.errors.length }
}

export interface BatchView {
  batch_id: string
  status: string
  progress: { total_records: number; processed_records: number; successful_records: number; failed_records: number; percentage_complete: number }
  started_at: string | null
  completed_at: string | null
  callback_url: string | null
  callback?: { status: string; attempts?: number; last_status_code?: number | null; last_error?: string | null }
  error?: string | null
}

/** One record of a batch's results as one flat CSV row: the answer's fields as columns, nested ones summarised. */
function resultRow(r: Record<string, unknown>) {
  const { results, metadata, error, ...rest } = r as Record<string, unknown> & { results?: Record<string, unknown>; metadata?: { model_version?: string; execution_time_ms?: number }; error?: { code: string; message: string } }
  const out: Record<string, unknown> = { ...rest }
  for (const [k, v] of Object.entries(results ?? {})) {
    if (k === 'key_factors' && Array.isArray(v)) out.key_factors = (v as { factor: string; importance: number }[]).map((f) => `${f.factor} ${(100 * f.importance).toFixed(1)}%`).join('; ')
    else if (k === 'confidence_interval' && v && typeof v === 'object') Object.assign(out, { ci_lower: (v as { lower: number }).lower, ci_upper: (v as { upper: number }).upper })
    else out[k] = v && typeof v === 'object' ? JSON.stringify(v) : v
  }
  return { ...out, model_version: metadata?.model_version ?? '', execution_time_ms: metadata?.execution_time_ms ?? '', error_code: error?.code ?? '', error_message: error?.message ?? '' }
}

/** Every page of a batch's results (the API's own JSON, as this session), as one CSV file. */
async function downloadResults(batchId: string) {
  const rows: Record<string, unknown>[] = []
  for (let offset = 0; ; offset += 1000) {
    const res = await fetch(`/api/v1/analytics/batches/${batchId}/results?limit=1000&offset=${offset}`, { credentials: 'same-origin' })
    if (!res.ok) throw new Error(`results: HTTP ${res.status}`)
    const body = (await res.json()) as { data: Record<string, unknown>[]; meta: { total: number } }
    for (const r of body.data) rows.push(resultRow(r))
    if (!body.data.length || offset + body.data.length >= body.meta.total) break
  }
  const a = document.createElement('a')
  a.href = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv' }))
  a.download = `${batchId}-results.csv`
  a.click()
  URL.revokeObjectURL(a.href)
}

export function BatchPanel({ schema, batches, owner, message }: { schema: Record<string, string>; batches: BatchView[]; owner: boolean; message?: string | null }) {
  const nav = useNavigation()
  const [parsed, setParsed] = useState<ReturnType<typeof batchRecords> | null>(null)
  const [downloading, setDownloading] = useState<string | null>(null)
  const [downloadError, setDownloadError] = useState<string | null>(null)
  const busy = nav.state !== 'idle' && nav.formData?.get('intent') === 'batch'
  const tooMany = (parsed?.records.length ?? 0) > MAX_RECORDS
  const template = toCsv([Object.fromEntries([['id', ''], ...Object.keys(schema).map((k) => [k, ''])])]).split('\r\n')[0]
  return (
    <div className="space-y-4">
      <Form method="post" className="space-y-3" aria-label="Batch upload">
        <CsrfInput />
        <input type="hidden" name="intent" value="batch" />
        <input type="hidden" name="batch_data" value={parsed && !tooMany ? JSON.stringify(parsed.records) : ''} />
        <div className="flex flex-col gap-1">
          <label htmlFor="batch-file" className="text-sm font-medium text-slate-700">
            CSV file (one record per row; columns named as the input schema, optional id)
          </label>
          <input
            id="batch-file"
            type="file"
            accept=".csv,text/csv"
            className="text-sm"
            onChange={async (e) => {
              const file = e.target.files?.[0]
              setParsed(file ? batchRecords(schema, await file.text()) : null)
            }}
          />
          <p className="text-xs text-slate-500">
            Header: <code className="break-all">{template}</code> · at most {MAX_RECORDS.toLocaleString('en-US')} rows (2 MB)
          </p>
        </div>
        {parsed ? (
          <div className="text-sm" data-testid="batch-preview">
            <p>
              <strong>{parsed.records.length}</strong> record{parsed.records.length === 1 ? '' : 's'} read
              {parsed.parseErrors ? ` · ${parsed.parseErrors} line(s) could not be parsed` : ''}
            </p>
            {parsed.missing.length ? <p className="text-amber-700">Missing columns (sent as absent; a model requires them): {parsed.missing.join(', ')}</p> : null}
            {parsed.unknown.length ? <p className="text-amber-700">Ignored columns: {parsed.unknown.join(', ')}</p> : null}
            {tooMany ? <p className="text-rose-700">More than {MAX_RECORDS.toLocaleString('en-US')} records: split the file.</p> : null}
          </div>
        ) : null}
        {!owner ? <Field label="Callback URL (optional, signed webhook when the batch ends)" name="callback_url" type="url" placeholder="https://example.com/hooks/hotdash" /> : null}
        {message ? <Notice kind="error">{message}</Notice> : null}
        <Button type="submit" disabled={busy || !parsed?.records.length || tooMany}>
          {busy ? 'Starting…' : 'Run batch'}
        </Button>
      </Form>
      {downloadError ? <Notice kind="error">{downloadError}</Notice> : null}
      {batches.length ? (
        <Table headers={['Batch', 'Status', 'Records', 'Succeeded', 'Failed', 'Callback', '']}>
          {batches.map((b) => (
            <tr key={b.batch_id} data-testid="batch-row">
              <td className="px-3 py-2 font-mono text-xs">{b.batch_id}</td>
              <td className="px-3 py-2">
                {b.status === 'processing' ? <ProgressBar value={b.progress.percentage_complete} label={`Batch ${b.batch_id}`} /> : <StatusPill status={b.status === 'completed' ? 'success' : b.status} />}
                {b.error ? <p className="text-xs text-rose-700">{b.error}</p> : null}
              </td>
              <td className="px-3 py-2 tabular-nums">{b.progress.total_records}</td>
              <td className="px-3 py-2 tabular-nums" data-testid="batch-succeeded">{b.progress.successful_records}</td>
              <td className="px-3 py-2 tabular-nums" data-testid="batch-failed">{b.progress.failed_records}</td>
              <td className="px-3 py-2 text-xs">{b.callback ? `${b.callback.status}${b.callback.attempts ? ` (${b.callback.attempts} attempt${b.callback.attempts === 1 ? '' : 's'})` : ''}` : '—'}</td>
              <td className="px-3 py-2">
                <Button
                  type="button"
                  variant="secondary"
                  disabled={downloading === b.batch_id || b.progress.processed_records === 0}
                  onClick={async () => {
                    setDownloading(b.batch_id)
                    setDownloadError(null)
                    try {
                      await downloadResults(b.batch_id)
                    } catch (e) {
                      setDownloadError(`Could not download ${b.batch_id}: ${(e as Error).message}`)
                    } finally {
                      setDownloading(null)
                    }
                  }}
                >
                  {downloading === b.batch_id ? 'Preparing…' : 'Download results CSV'}
                </Button>
              </td>
            </tr>
          ))}
        </Table>
      ) : (
        <EmptyState title="No batches yet">Upload a CSV: each row runs as one execution (metered like any other), and one bad row does not stop the rest.</EmptyState>
      )}
    </div>
  )
}

// ---------------------------------------------------------------- deploys

export interface DeploymentView {
  deployment_id: string
  version: string
  from_version: string | null
  strategy: string
  status: string
  reason: string | null
  started_at: string
  switched_at: string | null
  completed_at: string | null
  rollback_threshold: { error_rate?: number; response_time?: number } | null
  canary?: { step: number; steps: number[]; traffic_share: number | null }
  monitor_until: string | null
  health_check: { samples: number; passed: number; failed: number; avg_response_time: number | null; ok: boolean; reasons: string[] } | null
  live_window: { executions: number; errors: number; error_rate: number | null; avg_response_time: number | null } | null
  log: { at: string; event: string; message: string }[]
}

export const inFlight = (s: string) => !['completed', 'failed', 'rolled_back'].includes(s)

export function DeployPanel({ versions, active, deployment, fields, message }: { versions: { version: string; status: string }[]; active: string | null; deployment: DeploymentView | null; fields: Record<string, string>; message?: string | null }) {
  const nav = useNavigation()
  const [strategy, setStrategy] = useState('canary')
  const candidates = versions.filter((v) => v.version !== active && v.status !== 'deprecated')
  const busy = nav.state !== 'idle' && nav.formData?.get('intent') === 'deploy'
  const live = deployment && inFlight(deployment.status)
  return (
    <div className="space-y-4">
      {deployment ? <DeploymentWatch d={deployment} /> : null}
      {candidates.length && !live ? (
        <Form method="post" className="grid gap-3 md:grid-cols-3" aria-label="Deploy version">
          <CsrfInput />
          <input type="hidden" name="intent" value="deploy" />
          <div className="flex flex-col gap-1">
            <label htmlFor="deploy-version" className="text-sm font-medium text-slate-700">
              Version
            </label>
            <select id="deploy-version" name="version" className="rounded-md border border-slate-300 px-3 py-2 text-sm">
              {candidates.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version} ({v.status})
                </option>
              ))}
            </select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="deploy-strategy" className="text-sm font-medium text-slate-700">
              Strategy
            </label>
            <select id="deploy-strategy" name="deployment_strategy" value={strategy} onChange={(e) => setStrategy(e.target.value)} className="rounded-md border border-slate-300 px-3 py-2 text-sm">
              <option value="canary">canary (a growing share of executions)</option>
              <option value="blue_green">blue-green (health check on recorded inputs, then all at once)</option>
            </select>
          </div>
          <Field label="Executions before judging" name="min_executions" type="number" min="1" defaultValue="20" error={fields.min_executions} />
          {strategy === 'canary' ? (
            <>
              <Field label="Canary shares (comma-separated)" name="steps" defaultValue="0.05, 0.25, 0.5" error={fields['canary.steps'] ?? Object.entries(fields).find(([k]) => k.startsWith('canary.steps'))?.[1]} hint="Growing, each below 1; then all traffic" />
              <Field label="Seconds per step" name="step_interval_seconds" type="number" min="1" defaultValue="300" error={fields['canary.step_interval_seconds']} />
            </>
          ) : (
            <>
              <Field label="Recorded inputs to health-check" name="sample_size" type="number" min="1" max="100" defaultValue="20" error={fields['health_check.sample_size']} />
              <Field label="Watch after the switch (s)" name="monitor_seconds" type="number" min="0" defaultValue="300" error={fields.monitor_seconds} />
            </>
          )}
          <Field label="Roll back above error rate" name="error_rate" type="number" step="any" min="0" max="1" placeholder="0.05" error={fields['rollback_threshold.error_rate'] ?? fields.rollback_threshold} />
          <Field label="Roll back above mean latency (ms)" name="response_time" type="number" step="any" min="1" placeholder="500" error={fields['rollback_threshold.response_time']} />
          {message ? (
            <div className="md:col-span-3">
              <Notice kind="error">{message}</Notice>
            </div>
          ) : null}
          <div className="md:col-span-3">
            <Button type="submit" disabled={busy}>
              {busy ? 'Starting…' : 'Deploy'}
            </Button>
          </div>
        </Form>
      ) : !live ? (
        <EmptyState title="Nothing to deploy">A new version of a published asset (another model, another query) waits here as a candidate.</EmptyState>
      ) : null}
    </div>
  )
}

function DeploymentWatch({ d }: { d: DeploymentView }) {
  const share = d.strategy === 'canary' ? (d.canary?.traffic_share ?? 0) : d.switched_at && inFlight(d.status) ? 1 : 0
  return (
    <div className="space-y-3 rounded-md border border-slate-200 p-4" data-testid="deployment">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-semibold">
          {d.from_version ?? '—'} → {d.version}
        </span>
        <span className="text-slate-500">{d.strategy === 'canary' ? 'canary' : 'blue-green'}</span>
        <StatusPill status={d.status} />
        {d.reason ? <span className="text-xs text-slate-600">{d.reason}</span> : null}
        {inFlight(d.status) ? <ActionForm intent="cancel_deploy" fields={{ deployment_id: d.deployment_id }} label="Stop deployment" variant="danger" confirm="Stop it? The new version loses whatever traffic it has." /> : null}
      </div>
      {d.strategy === 'canary' && d.canary ? (
        <div className="text-sm">
          <p>
            Step {Math.min(d.canary.step, d.canary.steps.length)} of {d.canary.steps.length}: the new version takes <strong data-testid="canary-share">{fmtNum(100 * share, 3)}%</strong> of executions
          </p>
          <ol className="mt-1 flex gap-1" aria-label="Canary steps">
            {[...d.canary.steps, 1].map((s, i) => (
              <li key={i} className={`rounded px-2 py-0.5 text-xs ${i < d.canary!.step - 1 || (i === d.canary!.step - 1 && share >= s) ? 'bg-violet-600 text-white' : 'bg-slate-100 text-slate-600'}`}>
                {Math.round(100 * s)}%
              </li>
            ))}
          </ol>
        </div>
      ) : null}
      {d.health_check ? (
        <p className="text-sm">
          Health check {d.health_check.ok ? 'passed' : 'failed'}: {d.health_check.passed} of {d.health_check.samples} recorded inputs answered
          {d.health_check.avg_response_time != null ? `, mean ${fmtNum(d.health_check.avg_response_time, 3)} ms` : ''}
          {d.health_check.reasons.length ? ` · ${d.health_check.reasons.join('; ')}` : ''}
        </p>
      ) : null}
      {d.live_window ? (
        <dl className="grid grid-cols-2 gap-2 text-sm sm:grid-cols-4" data-testid="live-window">
          <div>
            <dt className="text-slate-500">New version&apos;s executions</dt>
            <dd className="tabular-nums">{d.live_window.executions}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Errors</dt>
            <dd className="tabular-nums">{d.live_window.errors}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Error rate (limit)</dt>
            <dd className="tabular-nums">
              {d.live_window.error_rate == null ? '—' : `${(100 * d.live_window.error_rate).toFixed(2)}%`}
              {d.rollback_threshold?.error_rate != null ? ` (${(100 * d.rollback_threshold.error_rate).toFixed(2)}%)` : ''}
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Mean latency (limit)</dt>
            <dd className="tabular-nums">
              {d.live_window.avg_response_time == null ? '—' : `${fmtNum(d.live_window.avg_response_time, 3)} ms`}
              {d.rollback_threshold?.response_time != null ? ` (${d.rollback_threshold.response_time} ms)` : ''}
            </dd>
          </div>
        </dl>
      ) : null}
      {d.log.length ? (
        <ol className="max-h-48 space-y-1 overflow-y-auto text-xs text-slate-600" aria-label="Deployment log">
          {[...d.log].reverse().map((l, i) => (
            <li key={i}>
              <span className="tabular-nums text-slate-400">{new Date(l.at).toLocaleTimeString('en-GB')}</span> <strong>{l.event}</strong> {l.message}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  )
}
