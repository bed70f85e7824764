import { useEffect, useState } from 'react'
import { Form, Link, useActionData, useNavigation, useRevalidator } from 'react-router'
import { Button, Card, CsrfInput, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { ContributionsChart, formValue, ProgressBar, type FormHeader } from '#app/features/inference/components.tsx'
import type { Route } from './+types/_app.models_.$id_.predict'

export const meta = () => [{ title: 'Predict · Hot Dash' }]

export async function loader({ request, params }: Route.LoaderArgs) {
  const { idParam, uiLoader } = await import('#app/http/ui.server.ts')
  const inf = await import('#app/features/inference/inference.server.ts')
  const ds = await import('#app/features/datasets/datasets.server.ts')
  const url = new URL(request.url)
  const id = idParam(params.id)
  return uiLoader(request, 'models.read', async (db, caller) => {
    const form = await inf.formBasedPrediction(db, id)
    const datasets = caller.permissions.has('datasets.read') ? await ds.listValidatedDatasets(db) : []
    const batches = (await inf.listPredictions(db, { train_id: id, prediction_type: 'batch', format: 'json', skip: 0, limit: 20 })) as unknown as { data: BatchItem[] }
    const previewId = Number(url.searchParams.get('preview'))
    const preview = Number.isSafeInteger(previewId) && previewId > 0 ? await inf.previewGold(db, caller, previewId, 20).catch(() => null) : null
    return { form, datasets, batches: batches.data, preview, canRun: caller.permissions.has('inference.run') }
  })
}

interface BatchItem {
  prediction_id: number
  dataset_id: number | null
  dataset_name: string | null
  status: string
  progress: number
  no_of_records: number
  accuracy: number | null
  file_id: number | null
  gold_table: string | null
  error: string | null
  date: string
}

export async function action({ request, params }: Route.ActionArgs) {
  const { uiAction } = await import('#app/http/ui.server.ts')
  const inf = await import('#app/features/inference/inference.server.ts')
  const { predictBody, batchBody } = await import('#app/features/inference/schemas.ts')
  const id = Number(params.id)
  const intent = (await request.clone().formData()).get('intent')
  return uiAction(request, 'inference.run', async (db, caller, f) => {
    if (intent === 'batch') return { kind: 'batch' as const, ...(await inf.startBatch(db, caller, batchBody.parse({ train_id: id, dataset_id: Number(f.get('dataset_id')), explanations: f.get('explanations') === 'on' }))) }
    if (intent === 'cancel') return { kind: 'cancel' as const, ...(await inf.terminatePrediction(db, String(f.get('prediction_id')))) }
    const features = JSON.parse(String(f.get('features') ?? '{}')) as Record<string, unknown>
    const body = predictBody.parse({ train_id: id, preprocess_id: Number(f.get('preprocess_id')), target: String(f.get('target')), features })
    return { kind: 'predict' as const, ...(await inf.predictOne(db, body)) }
  })
}

type Answer = {
  kind: 'predict'
  prediction: string | number
  probability?: number
  probabilities?: Record<string, number>
  interval?: { lower: number; upper: number; confidence: number } | null
  contributions: { feature: string; value: unknown; shap: number; direction: string }[]
  unseen_categories: { feature: string; value: string }[]
  missing_values: string[]
  latency_ms: number
  prediction_id: number
}

export default function Predict({ loaderData }: Route.ComponentProps) {
  const { form, datasets, batches, preview, canRun } = loaderData
  const result = useActionData<typeof action>()
  const nav = useNavigation()
  const revalidator = useRevalidator()
  const headers = form.headers as FormHeader[]
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(headers.map((h) => [h.column_name, h.default_value ?? ''])))
  const errors = Object.fromEntries(headers.map((h) => [h.column_name, (() => { const r = formValue(h, values[h.column_name] ?? ''); return 'error' in r ? r.error : null })()]))
  const serverFields = result && !result.ok ? result.error.fields : {}
  const features = Object.fromEntries(headers.map((h) => { const r = formValue(h, values[h.column_name] ?? ''); return [h.column_name, 'value' in r ? r.value : null] }))
  const answer = result?.ok && result.result.kind === 'predict' ? (result.result as unknown as Answer) : null
  const running = batches.some((b) => b.status === 'running' || b.status === 'submitted')
  // Follow running batches: reload the list every second while one runs.
  useEffect(() => {
    if (!running) return
    const t = setInterval(() => revalidator.revalidate(), 1000)
    return () => clearInterval(t)
  }, [running, revalidator])
  const busy = nav.state !== 'idle'

  return (
    <div className="space-y-6">
      <PageHeader
        title={`Predict with ${form.predictor_name}`}
        description={`${form.problem_type} of ${form.target} · ${form.model} (model ${form.model_id}, preprocess ${form.preprocess_id})`}
        actions={<Link to={`/predictions?train_id=${form.id}`} className="text-sm text-indigo-700 underline">Prediction log</Link>}
      />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="One prediction">
          <Form method="post" className="space-y-3" aria-label="Prediction form">
            <CsrfInput />
            <input type="hidden" name="intent" value="predict" />
            <input type="hidden" name="preprocess_id" value={form.preprocess_id} />
            <input type="hidden" name="target" value={form.target} />
            <input type="hidden" name="features" value={JSON.stringify(features)} />
            {headers.map((h) => {
              const id = `f-${h.column_name}`
              const err = errors[h.column_name] ?? serverFields[`features.${h.column_name}`] ?? null
              const common = {
                id,
                value: values[h.column_name] ?? '',
                'aria-invalid': err ? true : undefined,
                'aria-describedby': err ? `${id}-err` : undefined,
                className: 'rounded-md border border-slate-300 px-3 py-2 text-sm aria-[invalid]:border-rose-500',
                onChange: (e: { target: { value: string } }) => setValues((v) => ({ ...v, [h.column_name]: e.target.value })),
              }
              return (
                <div key={h.column_name} className="flex flex-col gap-1">
                  <label htmlFor={id} className="text-sm font-medium text-slate-700">
                    {h.column_name} <span className="font-normal text-slate-500">({h.data_type}{h.default_source ? `, default from ${h.default_source}` : ''})</span>
                  </label>
                  {h.data_type === 'Boolean' ? (
                    <select {...common}>
                      <option value="">(missing)</option>
                      <option value="true">true</option>
                      <option value="false">false</option>
                    </select>
                  ) : h.options ? (
                    <>
                      <input {...common} list={`${id}-options`} />
                      <datalist id={`${id}-options`}>
                        {h.options.map((o) => (
                          <option key={o} value={o} />
                        ))}
                      </datalist>
                    </>
                  ) : (
                    <input {...common} type={h.data_type === 'Date' ? 'date' : 'text'} inputMode={h.data_type === 'Integer' || h.data_type === 'Float' ? 'decimal' : undefined} />
                  )}
                  {err ? (
                    <p id={`${id}-err`} className="text-xs text-rose-600">
                      {err}
                    </p>
                  ) : null}
                </div>
              )
            })}
            {result && !result.ok ? <Notice kind="error">{result.error.message}</Notice> : null}
            <Button type="submit" disabled={!canRun || busy || Object.values(errors).some(Boolean)}>
              {busy && nav.formData?.get('intent') === 'predict' ? 'Predicting…' : 'Predict'}
            </Button>
            {!canRun ? <p className="text-xs text-slate-500">Running predictions needs the inference.run permission.</p> : null}
          </Form>
        </Card>
        <Card title="Answer">
          {answer ? (
            <div className="space-y-3" data-testid="prediction-answer">
              <p className="text-2xl font-semibold">
                {form.target}: <span data-testid="prediction-value">{String(typeof answer.prediction === 'number' ? answer.prediction.toFixed(4) : answer.prediction)}</span>
              </p>
              {answer.probabilities ? (
                <p className="text-sm text-slate-700">
                  {Object.entries(answer.probabilities)
                    .map(([k, p]) => `P(${k}) = ${p.toFixed(3)}`)
                    .join(' · ')}
                </p>
              ) : null}
              {answer.interval ? (
                <p className="text-sm text-slate-700">
                  {Math.round(answer.interval.confidence * 100)}% interval: {answer.interval.lower.toFixed(3)} – {answer.interval.upper.toFixed(3)}
                </p>
              ) : null}
              {answer.unseen_categories.length ? <Notice>Not seen in training (scored as unseen): {answer.unseen_categories.map((u) => `${u.feature} = ${u.value}`).join(', ')}</Notice> : null}
              <h3 className="text-sm font-semibold">What moved it (SHAP, red pushes towards this answer)</h3>
              <ContributionsChart contributions={answer.contributions} />
              <p className="text-xs text-slate-500">Prediction {answer.prediction_id} · {answer.latency_ms.toFixed(1)} ms · logged</p>
            </div>
          ) : (
            <EmptyState title="No prediction yet">Fill in the form (defaults are the template’s, else the training data’s median or most common value) and press Predict.</EmptyState>
          )}
        </Card>
      </div>

      <Card title="Batch prediction">
        {canRun ? (
          <Form method="post" className="mb-4 flex flex-wrap items-end gap-3" aria-label="Batch prediction">
            <CsrfInput />
            <input type="hidden" name="intent" value="batch" />
            <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
              Dataset
              <select name="dataset_id" className="rounded-md border border-slate-300 px-2 py-1.5 font-normal" required>
                {datasets.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.dataset_name} (#{d.id})
                  </option>
                ))}
              </select>
            </label>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" name="explanations" defaultChecked /> top-3 reasons per row
            </label>
            <Button type="submit" disabled={busy || !datasets.length}>
              Run batch
            </Button>
          </Form>
        ) : null}
        {result?.ok && result.result.kind === 'batch' ? <Notice kind="success">{result.result.message}</Notice> : null}
        {batches.length ? (
          <Table headers={['Prediction', 'Dataset', 'Status', 'Rows', 'Accuracy', 'Result', '']}>
            {batches.map((b) => (
              <tr key={b.prediction_id} data-testid={`batch-${b.prediction_id}`}>
                <td className="px-3 py-2">#{b.prediction_id}</td>
                <td className="px-3 py-2">{b.dataset_name ?? b.dataset_id ?? '—'}</td>
                <td className="px-3 py-2">
                  {b.status === 'running' || b.status === 'submitted' ? <ProgressBar value={b.progress ?? 0} label={`Batch ${b.prediction_id}`} /> : <span data-testid="batch-status">{b.status}</span>}
                  {b.error ? <p className="text-xs text-rose-600">{b.error}</p> : null}
                </td>
                <td className="px-3 py-2">{b.no_of_records}</td>
                <td className="px-3 py-2">{b.accuracy === null ? '—' : b.accuracy.toFixed(4)}</td>
                <td className="space-x-3 px-3 py-2">
                  {b.file_id ? (
                    <a href={`/api/v1/files/download/?file_id=${b.file_id}`} download className="text-indigo-700 underline">
                      Download CSV
                    </a>
                  ) : null}
                  {b.gold_table ? (
                    <Link to={`?preview=${b.prediction_id}`} className="text-indigo-700 underline">
                      Preview {b.gold_table}
                    </Link>
                  ) : null}
                </td>
                <td className="px-3 py-2">
                  {(b.status === 'running' || b.status === 'submitted') && canRun ? (
                    <Form method="post">
                      <CsrfInput />
                      <input type="hidden" name="intent" value="cancel" />
                      <input type="hidden" name="prediction_id" value={b.prediction_id} />
                      <Button type="submit" variant="secondary">
                        Cancel
                      </Button>
                    </Form>
                  ) : null}
                </td>
              </tr>
            ))}
          </Table>
        ) : (
          <EmptyState title="No batch predictions yet">Pick a validated dataset with the model’s input columns and run it: the rows go to a gold table and a CSV.</EmptyState>
        )}
        {preview && preview.columns.length ? (
          <div className="mt-4" data-testid="gold-preview">
            <h3 className="mb-2 text-sm font-semibold">
              {preview.gold_table} — first {preview.rows.length} of {preview.total} rows
            </h3>
            <Table headers={preview.columns}>
              {preview.rows.map((r, i) => (
                <tr key={i}>
                  {preview.columns.map((c) => (
                    <td key={c} className="px-3 py-1 text-xs">
                      {r[c] === null || r[c] === undefined ? '—' : String(r[c])}
                    </td>
                  ))}
                </tr>
              ))}
            </Table>
          </div>
        ) : null}
      </Card>
    </div>
  )
}
