import { Form, Link } from 'react-router'
import { Button, Card, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CsvButton, fmtNum } from '#app/features/analytics/components.tsx'
import { pricingText, StatusPill, type PricingView } from '#app/features/marketplace/components.tsx'
import type { Route } from './+types/_app.marketplace'

export const meta = () => [{ title: 'Marketplace · Hot Dash' }]

const LIMIT = 20

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const mk = await import('#app/features/marketplace/marketplace.server.ts')
  const { listAssetsQuery } = await import('#app/features/marketplace/schemas.ts')
  const url = new URL(request.url)
  const raw = Object.fromEntries([...url.searchParams].filter(([, v]) => v !== ''))
  const parsed = listAssetsQuery.safeParse({ scope: 'marketplace', ...raw, limit: String(LIMIT) })
  const query = parsed.success ? parsed.data : listAssetsQuery.parse({ scope: raw.scope === 'company' ? 'company' : 'marketplace', limit: String(LIMIT) })
  return uiLoader(request, 'assets.read', async (db, caller) => {
    const list = (await mk.listAssets(db, caller, query)) as { data: Item[]; meta: { total: number; published: number; draft: number; archived: number } }
    const sources = query.scope === 'company' ? (await mk.listSources(db, {})).data.map((s) => ({ id: s.source_id, name: s.name })) : []
    return {
      list,
      sources,
      query: { ...raw, scope: query.scope } as Record<string, string>,
      invalid: parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      canWrite: caller.permissions.has('assets.write'),
    }
  })
}

interface Item {
  asset_id: string
  name: string
  description: string
  status: string
  category: string
  kind: string
  version: string
  provider?: { tenant_id: string; name: string }
  pricing?: PricingView
  data_sources?: string[]
  created_at: string
  updated_at: string
  performance_metrics: { avg_response_time: number | null; requests_last_30d: number; accuracy?: number; uptime_percentage?: number | null }
  revenue_metrics?: { monthly_revenue: number; total_customers: number }
}

export default function Marketplace({ loaderData }: Route.ComponentProps) {
  const { list, sources, query, invalid, canWrite } = loaderData
  const company = query.scope === 'company'
  const offset = Number(query.offset ?? 0)
  const pageHref = (o: number) => `?${new URLSearchParams({ ...query, offset: String(o) })}`
  const tab = (scope: string, label: string) => (
    <Link
      to={`?scope=${scope}`}
      aria-current={query.scope === scope ? 'page' : undefined}
      className={`rounded-md px-3 py-1.5 text-sm font-medium ${query.scope === scope ? 'bg-indigo-600 text-white' : 'text-slate-700 hover:bg-slate-100'}`}
    >
      {label}
    </Link>
  )
  const csv = list.data.map((a) => ({
    asset_id: a.asset_id,
    name: a.name,
    provider: a.provider?.name ?? '',
    category: a.category,
    kind: a.kind,
    status: a.status,
    version: a.version,
    pricing: a.pricing ? pricingText(a.pricing) : '',
    requests_last_30d: a.performance_metrics.requests_last_30d,
    avg_response_time_ms: a.performance_metrics.avg_response_time,
    monthly_revenue: a.revenue_metrics?.monthly_revenue ?? '',
    customers: a.revenue_metrics?.total_customers ?? '',
  }))
  return (
    <div className="space-y-6">
      <PageHeader
        title="Marketplace"
        description="Analytics assets: trained models and read-only queries that providers publish and any tenant can execute, metered against each asset's pricing."
        actions={
          canWrite ? (
            <Link to="/marketplace/provider" className="inline-flex items-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
              Provider console
            </Link>
          ) : null
        }
      />
      <nav aria-label="Catalogue" className="flex gap-2">
        {tab('marketplace', 'Published assets')}
        {tab('company', "Your company's assets")}
      </nav>
      <Card>
        <Form method="get" className="mb-4 flex flex-wrap items-end gap-3" aria-label="Filters">
          <input type="hidden" name="scope" value={query.scope} />
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Search
            <input type="search" name="q" defaultValue={query.q ?? ''} placeholder="name or description" className="rounded-md border border-slate-300 px-2 py-1.5 font-normal" />
          </label>
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Category
            <input name="category" defaultValue={query.category ?? ''} placeholder="e.g. customer_analytics" className="rounded-md border border-slate-300 px-2 py-1.5 font-normal" />
          </label>
          {company ? (
            <>
              <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
                Status
                <select name="status" defaultValue={query.status ?? ''} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal">
                  <option value="">Any status</option>
                  <option value="draft">draft ({list.meta.draft})</option>
                  <option value="published">published ({list.meta.published})</option>
                  <option value="archived">archived ({list.meta.archived})</option>
                </select>
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
                Data source
                <select name="data_source" defaultValue={query.data_source ?? ''} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal">
                  <option value="">Any source</option>
                  {sources.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
              </label>
            </>
          ) : null}
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Sort
            <select name="sort" defaultValue={query.sort ?? '-created_at'} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal">
              <option value="-created_at">Newest</option>
              <option value="-updated_at">Recently changed</option>
              <option value="name">Name</option>
            </select>
          </label>
          <Button type="submit">Filter</Button>
          <span className="ml-auto">
            <CsvButton name={`marketplace-${query.scope}`} rows={csv} />
          </span>
        </Form>
        {invalid ? <div className="mb-3"><Notice kind="error">Some filters were not valid and were ignored ({invalid}).</Notice></div> : null}
        {list.data.length ? (
          <>
            <Table headers={company ? ['Asset', 'Category', 'Kind', 'Status', 'Version', 'Requests (30 d)', 'Avg latency', 'Customers', 'Revenue (month)'] : ['Asset', 'Provider', 'Category', 'Kind', 'Version', 'Pricing', 'Requests (30 d)', 'Avg latency']}>
              {list.data.map((a) => (
                <tr key={a.asset_id} data-testid="asset-row">
                  <td className="max-w-md px-3 py-2">
                    <Link className="font-medium text-indigo-700 underline" to={`/marketplace/${a.asset_id}`}>
                      {a.name}
                    </Link>
                    {a.description ? <p className="truncate text-xs text-slate-500" title={a.description}>{a.description}</p> : null}
                  </td>
                  {company ? null : <td className="px-3 py-2">{a.provider?.name}</td>}
                  <td className="px-3 py-2">{a.category}</td>
                  <td className="px-3 py-2">{a.kind === 'sql' ? 'SQL query' : 'model'}</td>
                  {company ? (
                    <td className="px-3 py-2">
                      <StatusPill status={a.status} />
                    </td>
                  ) : null}
                  <td className="px-3 py-2 tabular-nums">{a.version}</td>
                  {company ? null : <td className="px-3 py-2">{pricingText(a.pricing)}</td>}
                  <td className="px-3 py-2 tabular-nums">{fmtNum(a.performance_metrics.requests_last_30d)}</td>
                  <td className="px-3 py-2 tabular-nums">{a.performance_metrics.avg_response_time == null ? '—' : `${fmtNum(a.performance_metrics.avg_response_time, 3)} ms`}</td>
                  {company ? (
                    <>
                      <td className="px-3 py-2 tabular-nums">{a.revenue_metrics?.total_customers ?? 0}</td>
                      <td className="px-3 py-2 tabular-nums">{fmtNum(a.revenue_metrics?.monthly_revenue ?? 0)}</td>
                    </>
                  ) : null}
                </tr>
              ))}
            </Table>
            <div className="mt-3 flex items-center gap-3 text-sm text-slate-600">
              <span>
                {offset + 1}–{offset + list.data.length} of {list.meta.total}
              </span>
              {offset > 0 ? <Link className="underline" to={pageHref(Math.max(0, offset - LIMIT))}>Previous</Link> : null}
              {offset + LIMIT < list.meta.total ? <Link className="underline" to={pageHref(offset + LIMIT)}>Next</Link> : null}
            </div>
          </>
        ) : (
          <EmptyState title={company ? 'No assets match' : 'No published assets match'}>
            {company && canWrite ? (
              <>
                Create one from a trained model or a query in the <Link className="text-indigo-700 underline" to="/marketplace/provider">provider console</Link>.
              </>
            ) : (
              'Providers publish trained models and queries here; try another search or category.'
            )}
          </EmptyState>
        )}
        <p className="mt-3 text-xs text-slate-500">Ratings are not shown: the marketplace records no reviews, so there is nothing honest to average.</p>
      </Card>
    </div>
  )
}
