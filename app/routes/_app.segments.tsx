import { useState } from 'react'
import { Form, Link, redirect, useActionData, useNavigation } from 'react-router'
import { Button, Card, CsrfInput, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CheckboxGroup, ClusterScatter, CsvButton, fmtNum, KSelectionChart, PALETTE, Select } from '#app/features/analytics/components.tsx'
import type { Route } from './+types/_app.segments'

export const meta = () => [{ title: 'Segments · Hot Dash' }]

const NUMERIC_TYPES = ['Integer', 'Float']

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const an = await import('#app/features/analytics/analytics.server.ts')
  const url = new URL(request.url)
  return uiLoader(request, 'analytics.read', async (db, caller) => {
    const datasets = (await an.analyticsDatasets(db))
      .map((d) => ({ id: d.id, name: d.dataset_name, rows: d.valid_records, numeric: d.columns.filter((c) => NUMERIC_TYPES.includes(c.data_type)).map((c) => c.column_name) }))
      .filter((d) => d.numeric.length >= 1)
    const chosen = datasets.find((d) => String(d.id) === url.searchParams.get('dataset')) ?? datasets[0] ?? null
    const runs = await an.listSegmentations(db, { limit: 20 })
    const id = Number(url.searchParams.get('segmentation'))
    let segmentation = null
    let error: string | null = null
    if (Number.isSafeInteger(id) && id > 0) {
      try {
        segmentation = (await an.getSegmentation(db, caller, id, { limit: 3000 })) as unknown as Segmentation
      } catch (e) {
        error = toApiError(e).message
      }
    }
    return { datasets, chosen, runs, segmentation, error, canWrite: caller.permissions.has('analytics.write') }
  })
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction } = await import('#app/http/ui.server.ts')
  const an = await import('#app/features/analytics/analytics.server.ts')
  const { clusterBody } = await import('#app/features/analytics/schemas.ts')
  const { clusterForm } = await import('#app/features/analytics/forms.ts')
  const datasetId = (await request.clone().formData()).get('dataset_id')
  const res = await uiAction(request, 'analytics.write', (db, caller, f) => an.clusterDataset(db, caller, clusterBody.parse(clusterForm(f))))
  // Done: show it (a GET of its own, so reloading the page does not run it again).
  if (res.data.ok) throw redirect(`/segments?dataset=${String(datasetId)}&segmentation=${res.data.result.segmentation_id}`, { headers: res.init?.headers })
  return res
}

interface Segmentation {
  id: number
  dataset_id: number
  n_clusters: number
  features: string[]
  clusters: { cluster_id: number; name: string; size: number; share: number; centroid: Record<string, number>; centroid_z: Record<string, number> }[]
  metrics: { silhouette_score: number; silhouette_sample_size: number; silhouette_exact: boolean; inertia: number; k_selection?: { k: number; silhouette: number }[] }
  gold_table: string | null
  points: Record<string, number>[]
  created_at: string
}

export default function Segments({ loaderData }: Route.ComponentProps) {
  const { datasets, chosen, runs, segmentation, error, canWrite } = loaderData
  const actionData = useActionData<typeof action>()
  const nav = useNavigation()
  const busy = nav.state !== 'idle' && nav.formMethod === 'POST'
  if (!datasets.length) {
    return (
      <>
        <PageHeader title="Segments" />
        <EmptyState title="No dataset with numeric columns yet">Upload a CSV on the Datasets page to segment its rows.</EmptyState>
      </>
    )
  }
  const failed = actionData && 'ok' in actionData && !actionData.ok ? actionData.error : null
  return (
    <>
      <PageHeader title="Segments" description="k-means on standardised features: clusters named from their centres, scored by silhouette." />
      <Card title="New segmentation">
        <Form method="get" className="mb-3 flex flex-wrap items-end gap-3 text-sm" aria-label="Choose a dataset">
          <Select label="Dataset" name="dataset" defaultValue={String(chosen!.id)} options={datasets.map((d) => ({ value: String(d.id), label: `${d.name} (${d.rows.toLocaleString('en-US')} rows)` }))} />
          <Button type="submit" variant="secondary">Choose</Button>
        </Form>
        <Form method="post" className="flex flex-col gap-3" key={chosen!.id}>
          <CsrfInput />
          <input type="hidden" name="dataset_id" value={chosen!.id} />
          <CheckboxGroup legend="Features" name="features" options={chosen!.numeric} defaults={chosen!.numeric.slice(0, 3)} />
          <div className="flex flex-wrap items-end gap-4">
            <Select label="Clusters" name="n_clusters" defaultValue="auto" options={[{ value: 'auto', label: 'auto (best silhouette, 2–10)' }, ...Array.from({ length: 9 }, (_, i) => ({ value: String(i + 2), label: String(i + 2) }))]} />
            <Field label="Restarts (n_init)" name="n_init" type="number" min={1} max={50} defaultValue={10} />
            <Field label="Seed" name="random_state" type="number" min={0} defaultValue={0} />
            <Button type="submit" disabled={!canWrite || busy} title={canWrite ? '' : 'Needs the analytics.write permission (assignments are saved)'}>
              {busy ? 'Clustering…' : 'Run segmentation'}
            </Button>
          </div>
        </Form>
        {failed ? <div className="mt-3"><Notice kind="error">{failed.message}</Notice></div> : null}
        {error ? <div className="mt-3"><Notice kind="error">{error}</Notice></div> : null}
      </Card>
      {segmentation ? <SegmentationView s={segmentation} /> : null}
      <Card className="mt-6" title="Earlier segmentations">
        {runs.length ? (
          <Table headers={['#', 'dataset', 'clusters', 'features', 'silhouette', 'assignments', 'created']}>
            {runs.map((r) => (
              <tr key={r.id}>
                <td className="px-3 py-1.5"><Link className="text-indigo-700 underline" to={`?dataset=${r.dataset_id}&segmentation=${r.id}`}>{r.id}</Link></td>
                <td className="px-3 py-1.5">{r.dataset_name}</td>
                <td className="px-3 py-1.5 tabular-nums">{r.n_clusters}</td>
                <td className="px-3 py-1.5">{r.features.join(', ')}</td>
                <td className="px-3 py-1.5 tabular-nums">{fmtNum(r.silhouette, 3)}</td>
                <td className="px-3 py-1.5">{r.gold_table ? `gold.${r.gold_table}` : '—'}</td>
                <td className="px-3 py-1.5">{new Date(r.created_at).toLocaleString('en-US', { timeZone: 'UTC' })}</td>
              </tr>
            ))}
          </Table>
        ) : (
          <EmptyState title="None yet">Run one above.</EmptyState>
        )}
      </Card>
    </>
  )
}

function SegmentationView({ s }: { s: Segmentation }) {
  const [x, setX] = useState(s.features[0])
  const [y, setY] = useState(s.features[1] ?? s.features[0])
  const table = s.clusters.map((c) => ({ cluster_id: c.cluster_id, name: c.name, size: c.size, share: c.share, ...Object.fromEntries(s.features.map((f) => [f, c.centroid[f]])) }))
  return (
    <>
      <section aria-label="Segmentation metrics" className="mt-6 grid grid-cols-2 gap-4 md:grid-cols-4">
        <Tile label="Clusters" value={String(s.n_clusters)} />
        <Tile label="Silhouette" value={fmtNum(s.metrics.silhouette_score, 3)} hint={s.metrics.silhouette_exact ? `exact, ${s.metrics.silhouette_sample_size.toLocaleString('en-US')} rows` : `seeded sample of ${s.metrics.silhouette_sample_size.toLocaleString('en-US')} rows`} testId="silhouette" />
        <Tile label="Inertia (standardised)" value={fmtNum(s.metrics.inertia)} />
        <Tile label="Rows" value={s.clusters.reduce((t, c) => t + c.size, 0).toLocaleString('en-US')} hint={s.gold_table ? `assignments in gold.${s.gold_table}` : undefined} />
      </section>
      <div className="mt-6 grid gap-6 xl:grid-cols-3">
        <Card className="xl:col-span-2" title={`Segmentation #${s.id}`}>
          <div className="mb-3 flex flex-wrap gap-4 text-sm">
            <label className="flex items-center gap-2">x
              <select value={x} onChange={(e) => setX(e.target.value)} className="rounded-md border border-slate-300 px-2 py-1" aria-label="x axis">
                {s.features.map((f) => <option key={f} value={f}>{f}</option>)}
              </select>
            </label>
            <label className="flex items-center gap-2">y
              <select value={y} onChange={(e) => setY(e.target.value)} className="rounded-md border border-slate-300 px-2 py-1" aria-label="y axis">
                {s.features.map((f) => <option key={f} value={f}>{f}</option>)}
              </select>
            </label>
            <span className="text-xs text-slate-500">{s.points.length.toLocaleString('en-US')} points shown (an even sample)</span>
          </div>
          <ClusterScatter points={s.points} x={x} y={y} clusters={s.clusters} />
        </Card>
        <div className="flex flex-col gap-4">
          {s.clusters.map((c) => (
            <div key={c.cluster_id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="cluster-card">
              <div className="flex items-center gap-2">
                <span className="inline-block h-3 w-3 rounded-full" style={{ background: PALETTE[c.cluster_id % PALETTE.length] }} />
                <p className="font-semibold">{c.name}</p>
              </div>
              <p className="mt-1 text-sm text-slate-600">{c.size.toLocaleString('en-US')} rows · {(c.share * 100).toFixed(1)} %</p>
              <dl className="mt-2 grid grid-cols-2 gap-x-3 text-xs">
                {s.features.map((f) => (
                  <div key={f} className="contents">
                    <dt className="text-slate-500">{f}</dt>
                    <dd className="tabular-nums">{fmtNum(c.centroid[f])} <span className="text-slate-400">(z {fmtNum(c.centroid_z[f], 2)})</span></dd>
                  </div>
                ))}
              </dl>
            </div>
          ))}
          {s.metrics.k_selection ? (
            <Card title="Silhouette by k">
              <KSelectionChart selection={s.metrics.k_selection} />
            </Card>
          ) : null}
        </div>
      </div>
      <Card className="mt-6" title="Clusters">
        <div className="mb-3 flex justify-end"><CsvButton name={`segmentation-${s.id}`} rows={table} /></div>
        <Table headers={['cluster', 'name', 'size', 'share', ...s.features]}>
          {table.map((r) => (
            <tr key={r.cluster_id}>
              <td className="px-3 py-1.5 tabular-nums">{r.cluster_id}</td>
              <td className="px-3 py-1.5">{r.name}</td>
              <td className="px-3 py-1.5 tabular-nums">{fmtNum(r.size)}</td>
              <td className="px-3 py-1.5 tabular-nums">{(r.share * 100).toFixed(1)} %</td>
              {s.features.map((f) => <td key={f} className="px-3 py-1.5 tabular-nums">{fmtNum((r as Record<string, unknown>)[f])}</td>)}
            </tr>
          ))}
        </Table>
      </Card>
    </>
  )
}

function Tile({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid={testId}>
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums">{value}</p>
      {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
    </div>
  )
}
