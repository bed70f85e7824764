import { useRef, useState } from 'react'
import { Link, useRevalidator } from 'react-router'
import { Button, Card, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CsvButton } from '#app/features/analytics/components.tsx'
import { useRootData } from '#app/root.tsx'
import type { Route } from './+types/_app.datasets'

export const meta = () => [{ title: 'Datasets · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { listDatasets } = await import('#app/features/datasets/datasets.server.ts')
  const { listTemplates } = await import('#app/features/templates/templates.server.ts')
  return uiLoader(request, 'datasets.read', async (db, caller) => ({
    datasets: (await listDatasets(db)).data,
    templates: caller.permissions.has('templates.read') ? ((await listTemplates(db)).data as { id: number; template_name: string }[]) : [],
    canWrite: caller.permissions.has('datasets.write'),
  }))
}

interface UploadFile {
  id: number
  file_name: string
  total_records: number
  total_fields: number
  error_report: { invalid_rows: number; error_count: number; header: { message: string }[] } | null
}
interface UploadResult {
  dataset_id: number
  dataset_name: string
  files: UploadFile[]
  inferred_schema?: { column_name: string; data_type: string }[]
}

function UploadCard({ templates }: { templates: { id: number; template_name: string }[] }) {
  const csrf = useRootData()?.csrf ?? ''
  const revalidator = useRevalidator()
  const [progress, setProgress] = useState<number | null>(null)
  const [phase, setPhase] = useState<'idle' | 'sending' | 'validating'>('idle')
  const [result, setResult] = useState<UploadResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const formRef = useRef<HTMLFormElement>(null)

  function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    const qs = new URLSearchParams()
    for (const k of ['dataset_name', 'usage', 'template_id', 'iceberg_table_name']) {
      const v = String(form.get(k) ?? '')
      if (v) qs.set(k, v)
      form.delete(k)
    }
    setError(null)
    setResult(null)
    setProgress(0)
    setPhase('sending')
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/datasets/upload?${qs}`)
    xhr.setRequestHeader('X-CSRF-Token', csrf)
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) setProgress(Math.round((ev.loaded / ev.total) * 100))
    }
    xhr.upload.onload = () => setPhase('validating')
    xhr.onload = () => {
      setPhase('idle')
      setProgress(null)
      let body: any = null
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        setError(`Upload failed (${xhr.status})`)
        return
      }
      if (xhr.status === 201) {
        setResult(body)
        formRef.current?.reset()
        revalidator.revalidate()
      } else setError(body?.error?.message ?? `Upload failed (${xhr.status})`)
    }
    xhr.onerror = () => {
      setPhase('idle')
      setError('The connection failed during the upload')
    }
    xhr.send(form)
  }

  return (
    <Card title="Upload a dataset">
      <form ref={formRef} onSubmit={submit} className="flex flex-col gap-3" encType="multipart/form-data">
        <Field label="Dataset name" name="dataset_name" required />
        <label className="text-sm font-medium text-slate-700">
          Usage
          <select name="usage" className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-2 text-sm">
            <option value="t">Training</option>
            <option value="p">Prediction</option>
            <option value="f">Forecasting</option>
            <option value="e">Evaluation</option>
            <option value="o">Other</option>
          </select>
        </label>
        <label className="text-sm font-medium text-slate-700">
          Template
          <select name="template_id" className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-2 text-sm">
            <option value="">No template: infer the column types</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.template_name}
              </option>
            ))}
          </select>
        </label>
        <Field label="Table name (optional)" name="iceberg_table_name" hint="lower-case letters, digits and _; defaults to the dataset name" />
        <label className="text-sm font-medium text-slate-700">
          CSV file(s)
          <input name="files" type="file" accept=".csv,text/csv" multiple required className="mt-1 block w-full text-sm" />
        </label>
        <Button type="submit" disabled={phase !== 'idle'}>
          {phase === 'sending' ? 'Uploading…' : phase === 'validating' ? 'Validating…' : 'Upload'}
        </Button>
        {progress !== null ? (
          <div>
            <div className="h-2 w-full overflow-hidden rounded bg-slate-200" role="progressbar" aria-label="Upload progress" aria-valuenow={progress} aria-valuemin={0} aria-valuemax={100}>
              <div className={`h-full bg-indigo-500 transition-all ${phase === 'validating' ? 'animate-pulse' : ''}`} style={{ width: `${progress}%` }} />
            </div>
            <p className="mt-1 text-xs text-slate-600">{phase === 'validating' ? 'Uploaded; validating and loading rows…' : `${progress}% uploaded`}</p>
          </div>
        ) : null}
      </form>
      {error ? (
        <div className="mt-3">
          <Notice kind="error">{error}</Notice>
        </div>
      ) : null}
      {result ? (
        <div className="mt-3 flex flex-col gap-2" data-testid="upload-result">
          <Notice kind="success">
            Dataset <Link className="font-semibold underline" to={`/datasets/${result.dataset_id}`}>{result.dataset_name}</Link> created.
          </Notice>
          {result.files.map((f) => (
            <p key={f.id} className="text-sm">
              <span className="font-medium">{f.file_name}</span>: {f.total_records} rows × {f.total_fields} columns —{' '}
              {f.error_report ? (
                <span className="text-rose-700">
                  {f.error_report.invalid_rows} invalid row(s), {f.error_report.error_count} error(s){f.error_report.header.length ? `, ${f.error_report.header.length} header issue(s)` : ''}
                </span>
              ) : (
                <span className="text-emerald-700">no errors</span>
              )}
            </p>
          ))}
          {result.inferred_schema ? (
            <p className="text-xs text-slate-600">
              Inferred types: {result.inferred_schema.map((c) => `${c.column_name}: ${c.data_type}`).join(', ')}. Check them on the dataset page.
            </p>
          ) : null}
        </div>
      ) : null}
    </Card>
  )
}

export default function Datasets({ loaderData }: Route.ComponentProps) {
  const { datasets, templates, canWrite } = loaderData
  return (
    <>
      <PageHeader title="Datasets" description="CSV uploads validated against templates: raw rows in bronze, typed valid rows in silver." />
      <div className="grid gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-2" title="Your datasets">
          {datasets.length ? (
            <Table headers={['Name', 'Usage', 'Template', 'Files', 'Usability', 'Valid', 'Created']}>
              {datasets.map((d) => (
                <tr key={d.id}>
                  <td className="px-3 py-2 font-medium">
                    <Link className="text-indigo-700 underline" to={`/datasets/${d.id}`}>
                      {d.dataset_name}
                    </Link>
                  </td>
                  <td className="px-3 py-2">{d.dataset_usage}</td>
                  <td className="px-3 py-2">{d.template_name ?? <span className="text-slate-500">inferred</span>}</td>
                  <td className="px-3 py-2">{d.file_count}</td>
                  <td className="px-3 py-2">{d.dataset_usability}</td>
                  <td className="px-3 py-2">{d.is_valid ? <span className="text-emerald-700">✓ valid</span> : <span className="text-rose-700">✗ not valid</span>}</td>
                  <td className="px-3 py-2 text-slate-600">{new Date(d.created_at).toLocaleDateString()}</td>
                </tr>
              ))}
            </Table>
          ) : (
            <EmptyState title="No datasets yet">Upload a CSV to create one.</EmptyState>
          )}
          {datasets.length ? (
            <div className="mt-3">
              <CsvButton
                name="datasets"
                rows={datasets.map((d) => ({ id: d.id, name: d.dataset_name, usage: d.dataset_usage, template: d.template_name ?? '', files: d.file_count, usability: d.dataset_usability, valid: d.is_valid, created_at: d.created_at }))}
              />
            </div>
          ) : null}
          <p className="mt-3 text-xs text-slate-500">
            Valid: every header matches its template and at least 80% of the rows pass validation. Usability: the share of valid rows.
          </p>
        </Card>
        {canWrite ? <UploadCard templates={templates} /> : null}
      </div>
    </>
  )
}
