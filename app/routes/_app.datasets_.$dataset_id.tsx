import { useEffect } from 'react'
import { data, Link, redirect, useRevalidator, useSearchParams } from 'react-router'
import { Bar, BarChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { ActionForm, Card, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import type { Route } from './+types/_app.datasets_.$dataset_id'

export const meta = ({ data }: Route.MetaArgs) => [{ title: `${data?.dataset?.dataset_name ?? 'Dataset'} · Hot Dash` }]

const PAGE = 25

export async function loader({ request, params }: Route.LoaderArgs) {
  const { idParam, uiLoader } = await import('#app/http/ui.server.ts')
  const ds = await import('#app/features/datasets/datasets.server.ts')
  const files = await import('#app/features/datasets/datasets.server.ts')
  const stats = await import('#app/features/datasets/datasets.server.ts')
  const id = idParam(params.dataset_id)
  const url = new URL(request.url)
  const page = Math.max(0, Number(url.searchParams.get('page')) || 0)
  const layer = url.searchParams.get('layer') === 'bronze' ? 'bronze' : 'silver'
  return uiLoader(request, 'datasets.read', async (db, caller) => {
    const dataset = await ds.getDatasetDetail(db, id)
    const fileList = (await files.listFiles(db, id)).data as {
      id: number
      file_name: string
      total_records: number
      total_fields: number
      created_at: string
      error_report: {
        invalid_rows: number
        error_count: number
        header: { rule: string; message: string }[]
        by_rule: Record<string, number>
        errors: { row: number; column: string; value: string; rule: string; message: string }[]
        truncated: boolean
      } | null
    }[]
    return {
      dataset,
      preview: await ds.viewDataset(db, id, { skip: page * PAGE, limit: PAGE, layer }),
      page,
      layer,
      files: fileList,
      statistics: (await stats.getStatistics(db, id)) as {
        status: string
        progress: number
        message: string | null
        error: string | null
        result: import('#app/features/datasets/datasets.server.ts').DatasetStatistics | null
      },
      canWrite: caller.permissions.has('datasets.write'),
    }
  })
}

export async function action({ request, params }: Route.ActionArgs) {
  const { asCaller } = await import('#app/db/db.server.ts')
  const { getDb } = await import('#app/db/index.server.ts')
  const { requireCaller } = await import('#app/features/auth/auth.server.ts')
  const { verifyCsrf } = await import('#app/features/auth/auth.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const stats = await import('#app/features/datasets/datasets.server.ts')
  const files = await import('#app/features/datasets/datasets.server.ts')
  const ds = await import('#app/features/datasets/datasets.server.ts')
  const id = (await import('#app/http/ui.server.ts')).idParam(params.dataset_id)
  const { caller, headers } = await requireCaller(request, 'datasets.write')
  try {
    await verifyCsrf(request, caller)
    const form = await (await import('#app/http/body.server.ts')).readFormData(request)
    const db = await getDb()
    switch (form.get('intent')) {
      case 'delete-dataset':
        await ds.deleteDataset(db, caller, id)
        return redirect('/datasets', { headers })
      case 'save-template': {
        // Confirms inferred column types by keeping them as a template for the next uploads.
        const { createTemplate } = await import('#app/features/templates/templates.server.ts')
        const result = await asCaller(db, caller.claims, async (tx) => {
          const d = await ds.getDatasetDetail(tx, id)
          return createTemplate(tx, caller.tenantId, { template_name: String(form.get('template_name') || `${d.dataset_name} columns`), template_schema: d.columns })
        })
        return data({ ok: true as const, result }, { headers })
      }
      case 'delete-file':
        // Manages its own transaction: rows leave the tables, the stored file goes after commit.
        return data({ ok: true as const, result: await files.deleteFile(db, caller, Number(form.get('file_id'))) }, { headers })
      default:
        return data({ ok: true as const, result: await asCaller(db, caller.claims, (tx) => stats.requestStatistics(tx, caller, id)) }, { headers })
    }
  } catch (e) {
    const err = toApiError(e)
    return data({ ok: false as const, error: { code: err.code, message: err.message, fields: {} as Record<string, string> } }, { status: err.status, headers })
  }
}

function Histogram({ bins, dates }: { bins: { from: number | string; to: number | string; count: number }[]; dates?: boolean }) {
  const data = bins.map((b) => ({
    label: dates ? String(b.from).slice(0, 10) : Number(b.from).toPrecision(3),
    count: b.count,
  }))
  return (
    <div className="h-32 w-full">
      <ResponsiveContainer>
        <BarChart data={data} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
          <XAxis dataKey="label" tick={{ fontSize: 10 }} interval="preserveStartEnd" />
          <YAxis tick={{ fontSize: 10 }} width={36} />
          <Tooltip />
          <Bar dataKey="count" fill="#6366f1" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  )
}

const fmt = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)))) : String(v))

export default function DatasetPage({ loaderData, actionData }: Route.ComponentProps) {
  const { dataset, preview, page, layer, files, statistics, canWrite } = loaderData
  const revalidator = useRevalidator()
  const [params] = useSearchParams()
  const running = statistics.status === 'queued' || statistics.status === 'running'
  useEffect(() => {
    if (!running) return
    const t = setInterval(() => revalidator.revalidate(), 1000)
    return () => clearInterval(t)
  }, [running, revalidator])
  const cols = preview.preview.length ? Object.keys(preview.preview[0]) : dataset.columns.map((c) => c.column_name)
  const pages = Math.max(1, Math.ceil(preview.total / PAGE))
  const pageLink = (p: number, l = layer) => {
    const q = new URLSearchParams(params)
    q.set('page', String(p))
    q.set('layer', l)
    return `?${q}`
  }
  return (
    <>
      <PageHeader
        title={dataset.dataset_name}
        description={`${dataset.dataset_usage} · ${dataset.template_name ? `template '${dataset.template_name}'` : 'types inferred'} · table ${dataset.iceberg_table_name}`}
        actions={
          canWrite ? <ActionForm intent="delete-dataset" label="Delete dataset" confirm="Delete the dataset, its files and tables?" variant="danger" /> : null
        }
      />
      {actionData && !actionData.ok ? <Notice kind="error">{actionData.error.message}</Notice> : null}
      <div className="mb-6 grid gap-4 sm:grid-cols-4">
        <Card>
          <p className="text-xs text-slate-500">Rows</p>
          <p className="text-2xl font-semibold">{dataset.total_records}</p>
        </Card>
        <Card>
          <p className="text-xs text-slate-500">Valid rows</p>
          <p className="text-2xl font-semibold">{dataset.valid_records}</p>
        </Card>
        <Card>
          <p className="text-xs text-slate-500">Usability</p>
          <p className="text-2xl font-semibold">{dataset.dataset_usability}</p>
        </Card>
        <Card>
          <p className="text-xs text-slate-500">Validity</p>
          <p className={`text-2xl font-semibold ${dataset.is_valid ? 'text-emerald-700' : 'text-rose-700'}`}>{dataset.is_valid ? 'Valid' : 'Not valid'}</p>
        </Card>
      </div>

      {dataset.schema_inferred ? (
        <Card title="Inferred column types" className="mb-6">
          <p className="mb-2 text-sm text-slate-700">
            No template was given: the types were read from the data.{' '}
            {dataset.columns.map((c) => (
              <span key={c.column_name} className="mr-2 inline-block rounded bg-slate-100 px-2 py-0.5 text-xs">
                {c.column_name}: <strong>{c.data_type}</strong>
              </span>
            ))}
          </p>
          {canWrite ? <ActionForm intent="save-template" fields={{ template_name: `${dataset.dataset_name} columns` }} label="Keep these types as a template" /> : null}
          {actionData?.ok && actionData.result && 'template_schema' in (actionData.result as object) ? (
            <p className="mt-2 text-sm text-emerald-700">Saved as a template.</p>
          ) : null}
        </Card>
      ) : null}

      <Card title="Files and error reports" className="mb-6">
        {files.map((f) => (
          <div key={f.id} className="mb-4 border-b border-slate-100 pb-4 last:border-0">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p>
                <span className="font-medium">{f.file_name}</span> — {f.total_records} rows × {f.total_fields} columns
              </p>
              <span className="flex gap-3 text-sm">
                <a className="text-indigo-700 underline" href={`/api/v1/files/download/?file_id=${f.id}`}>
                  Download file
                </a>
                {f.error_report ? (
                  <a className="text-indigo-700 underline" href={`/api/v1/files/error_report?file_id=${f.id}&format=csv`} download>
                    Download error report (CSV)
                  </a>
                ) : null}
                {canWrite && files.length > 1 ? <ActionForm intent="delete-file" fields={{ file_id: String(f.id) }} label="Delete file" confirm="Delete?" /> : null}
              </span>
            </div>
            {f.error_report ? (
              <div className="mt-2" data-testid="error-report">
                <p className="text-sm text-rose-700">
                  {f.error_report.invalid_rows} invalid row(s), {f.error_report.error_count} error(s):{' '}
                  {Object.entries(f.error_report.by_rule)
                    .map(([r, n]) => `${r} × ${n}`)
                    .join(', ')}
                </p>
                {f.error_report.header.map((h, i) => (
                  <p key={i} className="text-sm text-amber-800">
                    Header: {h.message}
                  </p>
                ))}
                {f.error_report.errors.length ? (
                  <Table headers={['Row', 'Column', 'Value', 'Rule', 'Message']}>
                    {f.error_report.errors.slice(0, 20).map((e, i) => (
                      <tr key={i}>
                        <td className="px-3 py-1">{e.row}</td>
                        <td className="px-3 py-1">{e.column}</td>
                        <td className="px-3 py-1 font-mono text-xs">{e.value}</td>
                        <td className="px-3 py-1">{e.rule}</td>
                        <td className="px-3 py-1 text-slate-600">{e.message}</td>
                      </tr>
                    ))}
                  </Table>
                ) : null}
                {f.error_report.error_count > 20 ? <p className="mt-1 text-xs text-slate-500">First 20 shown; the CSV has all of them.</p> : null}
              </div>
            ) : (
              <p className="mt-1 text-sm text-emerald-700">No errors.</p>
            )}
          </div>
        ))}
      </Card>

      <Card title="Statistics" className="mb-6">
        <div className="mb-3 flex items-center gap-3">
          {canWrite ? <ActionForm intent="statistics" label={statistics.result ? 'Recompute statistics' : 'Generate statistics'} variant="primary" /> : null}
          <span className="text-sm text-slate-600" data-testid="stats-status">
            {statistics.status === 'not_requested' ? 'Not computed yet.' : `${statistics.status}${running ? ` — ${statistics.progress}% ${statistics.message ?? ''}` : ''}`}
          </span>
        </div>
        {running ? (
          <div className="mb-3 h-2 w-full overflow-hidden rounded bg-slate-200" role="progressbar" aria-label="Statistics progress" aria-valuenow={statistics.progress}>
            <div className="h-full bg-indigo-500 transition-all" style={{ width: `${statistics.progress}%` }} />
          </div>
        ) : null}
        {statistics.error ? <Notice kind="error">{statistics.error}</Notice> : null}
        {statistics.result ? (
          <>
            <Table headers={['Column', 'Type', 'Count', 'Nulls', 'Distinct', 'Min', 'Max', 'Mean', 'Std', 'Median']}>
              {statistics.result.columns.map((c) => (
                <tr key={c.column}>
                  <td className="px-3 py-1 font-medium">{c.column}</td>
                  <td className="px-3 py-1">{c.data_type}</td>
                  <td className="px-3 py-1">{c.count}</td>
                  <td className="px-3 py-1">{c.nulls}</td>
                  <td className="px-3 py-1">{c.distinct}</td>
                  <td className="px-3 py-1">{fmt(c.min)}</td>
                  <td className="px-3 py-1">{fmt(c.max)}</td>
                  <td className="px-3 py-1">{fmt(c.mean)}</td>
                  <td className="px-3 py-1">{fmt(c.std)}</td>
                  <td className="px-3 py-1">{fmt(c.quartiles?.median)}</td>
                </tr>
              ))}
            </Table>
            <div className="mt-4 grid gap-4 md:grid-cols-2 xl:grid-cols-3">
              {statistics.result.columns.map((c) => (
                <div key={c.column} className="rounded border border-slate-200 p-3">
                  <p className="mb-1 text-sm font-medium">{c.column}</p>
                  {c.histogram?.length ? (
                    <Histogram bins={c.histogram} dates={c.data_type === 'Date' || c.data_type === 'DateTime'} />
                  ) : c.top_values?.length ? (
                    <ul className="text-xs">
                      {c.top_values.map((t) => (
                        <li key={t.value} className="flex justify-between">
                          <span className="truncate">{t.value}</span>
                          <span className="text-slate-500">{t.count}</span>
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <p className="text-xs text-slate-500">No values.</p>
                  )}
                </div>
              ))}
            </div>
          </>
        ) : null}
      </Card>

      <Card title="Preview">
        <div className="mb-3 flex items-center gap-3 text-sm">
          <Link className={layer === 'silver' ? 'font-semibold' : 'underline'} to={pageLink(0, 'silver')}>
            Typed valid rows (silver)
          </Link>
          <Link className={layer === 'bronze' ? 'font-semibold' : 'underline'} to={pageLink(0, 'bronze')}>
            Raw rows (bronze)
          </Link>
          <span className="ml-auto text-slate-600">
            Page {page + 1} of {pages} · {preview.total} rows
          </span>
          {page > 0 ? (
            <Link className="underline" to={pageLink(page - 1)}>
              Previous
            </Link>
          ) : null}
          {page + 1 < pages ? (
            <Link className="underline" to={pageLink(page + 1)}>
              Next
            </Link>
          ) : null}
        </div>
        {preview.preview.length ? (
          <Table headers={cols}>
            {preview.preview.map((r, i) => (
              <tr key={i}>
                {cols.map((c) => (
                  <td key={c} className="whitespace-nowrap px-3 py-1">
                    {fmt((r as Record<string, unknown>)[c])}
                  </td>
                ))}
              </tr>
            ))}
          </Table>
        ) : (
          <EmptyState title="No rows" />
        )}
        <p className="mt-2 text-xs text-slate-500">
          Columns: {dataset.columns.map((c) => `${c.column_name} (${c.data_type}${c.default_value !== null ? `, default ${c.default_value}` : ''})`).join(', ')}
        </p>
      </Card>
    </>
  )
}
