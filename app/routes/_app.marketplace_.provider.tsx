import { useId, useState } from 'react'
import { Form, Link, redirect, useActionData, useNavigation } from 'react-router'
import { ActionForm, Button, Card, CsrfInput, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CsvButton } from '#app/features/analytics/components.tsx'
import { StatusPill, useLastIntent } from '#app/features/marketplace/components.tsx'
import { ParameterEditor } from '#app/features/marketplace/parameter-editor.tsx'
import type { Route } from './+types/_app.marketplace_.provider'

export const meta = () => [{ title: 'Provider console · Marketplace · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const mk = await import('#app/features/marketplace/marketplace.server.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  return uiLoader(request, 'assets.write', async (db, caller) => {
    const models = caller.permissions.has('models.read')
      ? (await ml.listTrainings(db, { skip: 0, limit: 200 })).data.filter((t) => t.status === 'completed').map((t) => ({ id: t.id, name: t.predictor_name, problem_type: t.problem_type, algorithm: t.algorithm }))
      : []
    const sources = (await mk.listSources(db, {})).data
    const assets = (await mk.listAssets(db, caller, { scope: 'company', sort: '-updated_at', limit: 50, offset: 0 })).data
    return { models, sources, assets }
  })
}

/** A form's pricing fields as the API's pricing object. */
function pricingOf(f: FormData) {
  const price = Number(f.get('price') || 0)
  const free = String(f.get('free_tier_requests') ?? '')
  if (!price) return { model: 'free', price: 0, currency: String(f.get('currency') || 'USD') }
  return {
    model: 'per_request',
    price,
    currency: String(f.get('currency') || 'USD'),
    ...(free !== '' ? { free_tier: { requests: Number(free), period: String(f.get('free_tier_period') || 'monthly') } } : {}),
  }
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction } = await import('#app/http/ui.server.ts')
  const mk = await import('#app/features/marketplace/marketplace.server.ts')
  const { createAssetBody, createSourceBody } = await import('#app/features/marketplace/schemas.ts')
  const { badRequest } = await import('#app/http/errors.server.ts')
  const intent = String((await request.clone().formData()).get('intent'))
  const out = await uiAction(request, 'assets.write', async (db, caller, f) => {
    const text = (k: string) => String(f.get(k) ?? '').trim()
    if (intent === 'create_model' || intent === 'create_sql') {
      let parameters: unknown = undefined
      if (intent === 'create_sql' && text('parameters')) {
        try {
          parameters = JSON.parse(text('parameters'))
        } catch {
          throw badRequest('configuration.parameters', 'must be a JSON array of parameters')
        }
      }
      const configuration =
        intent === 'create_model'
          ? { train_id: Number(f.get('train_id')) || undefined }
          : { query: text('query'), ...(parameters ? { parameters } : {}), ...(text('max_rows') ? { max_rows: Number(text('max_rows')) } : {}) }
      const body = createAssetBody.parse({
        name: text('name'),
        description: text('description'),
        category: text('category'),
        data_sources: intent === 'create_sql' && text('source_id') ? [{ source_id: text('source_id') }] : [],
        configuration,
        pricing: pricingOf(f),
      })
      return { kind: 'created' as const, ...(await mk.createAsset(db, caller, body)) }
    }
    if (intent === 'connect') {
      const type = text('type')
      const cfg: Record<string, unknown> = {}
      for (const k of ['host', 'database', 'username', 'password', 'schema', 'project_id', 'dataset', 'account', 'warehouse']) if (text(k)) cfg[k] = text(k)
      if (text('port')) cfg.port = Number(text('port'))
      if (f.get('ssl') === 'on') cfg.ssl = true
      const body = createSourceBody.parse({ name: text('source_name'), type, connection_config: cfg, ...(text('validation_query') ? { validation_query: text('validation_query') } : {}) })
      return { kind: 'connected' as const, ...(await mk.connectSource(db, caller, body)) }
    }
    if (intent === 'test') return { kind: 'tested' as const, ...(await mk.testDataSource(db, text('source_id'))) }
    if (intent === 'publish' || intent === 'archive') {
      return { kind: 'status' as const, ...(await mk.patchAsset(db, caller, text('asset_id'), { status: intent === 'publish' ? 'published' : 'archived' })) }
    }
    throw badRequest('intent', 'is not an action of this page')
  })
  if (out.data.ok && out.data.result.kind === 'created') throw redirect(`/marketplace/${out.data.result.data.asset_id}`, { headers: out.init?.headers })
  return out
}

const input = 'rounded-md border border-slate-300 px-3 py-2 text-sm aria-[invalid]:border-rose-500'

/** A label above a control, with its hint or error below. */
function Labelled({ label, error, hint, children }: { label: string; error?: string; hint?: string; children: (id: string) => React.ReactNode }) {
  const id = useId()
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      {children(id)}
      {hint && !error ? <span className="text-xs text-slate-500">{hint}</span> : null}
      {error ? <span className="text-xs text-rose-600">{error}</span> : null}
    </div>
  )
}

function Select({ label, name, children, defaultValue, error, onChange }: { label: string; name: string; children: React.ReactNode; defaultValue?: string; error?: string; onChange?: (v: string) => void }) {
  return (
    <Labelled label={label} error={error}>
      {(id) => (
        <select id={id} name={name} defaultValue={defaultValue} aria-invalid={error ? true : undefined} className={input} onChange={onChange ? (e) => onChange(e.target.value) : undefined}>
          {children}
        </select>
      )}
    </Labelled>
  )
}

function TextArea({ label, name, rows = 3, placeholder, error, hint, onChange }: { label: string; name: string; rows?: number; placeholder?: string; error?: string; hint?: string; onChange?: (v: string) => void }) {
  return (
    <Labelled label={label} error={error} hint={hint}>
      {(id) => <textarea id={id} name={name} rows={rows} placeholder={placeholder} aria-invalid={error ? true : undefined} className={`${input} font-mono`} onChange={onChange ? (e) => onChange(e.target.value) : undefined} />}
    </Labelled>
  )
}

/** Name, description, category and pricing: the same fields for both kinds of asset. */
function AssetBasics({ fields }: { fields: Record<string, string> }) {
  return (
    <>
      <Field label="Name" name="name" required maxLength={200} error={fields.name} />
      <TextArea label="Description" name="description" error={fields.description} />
      <Field label="Category" name="category" required placeholder="customer_analytics" error={fields.category} hint="lower_snake_case" />
      <fieldset className="grid gap-3 rounded-md border border-slate-200 p-3 sm:grid-cols-2">
        <legend className="px-1 text-sm font-medium text-slate-700">Pricing</legend>
        <Field label="Price per request" name="price" type="number" step="any" min="0" defaultValue="0" error={fields['pricing.price']} hint="0 makes the asset free" />
        <Field label="Currency" name="currency" defaultValue="USD" maxLength={3} error={fields['pricing.currency']} />
        <Field label="Free requests per period" name="free_tier_requests" type="number" min="0" step="1" error={fields['pricing.free_tier.requests']} />
        <Select label="Period" name="free_tier_period" defaultValue="monthly">
          <option value="monthly">monthly</option>
          <option value="daily">daily</option>
        </Select>
      </fieldset>
    </>
  )
}

export default function ProviderConsole({ loaderData }: Route.ComponentProps) {
  const { models, sources, assets } = loaderData
  const result = useActionData<typeof action>()
  const nav = useNavigation()
  const [kind, setKind] = useState<'model' | 'sql'>('model')
  const [type, setType] = useState('postgres')
  const [query, setQuery] = useState('')
  const [parametersValid, setParametersValid] = useState(true)
  const lastIntent = useLastIntent()
  const busy = (i: string) => nav.state !== 'idle' && nav.formData?.get('intent') === i
  const fields = result && !result.ok ? result.error.fields : {}
  const failed = (i: string) => result && !result.ok && nav.state === 'idle' && lastIntent === i
  const tested = result?.ok && result.result.kind === 'tested' ? result.result.data : null
  const connected = result?.ok && result.result.kind === 'connected' ? result.result.data : null
  const sqlSources = sources.filter((s) => s.type === 'postgres' || s.type === 'mysql')
  return (
    <div className="space-y-6">
      <PageHeader
        title="Provider console"
        description="Publish analytics assets from your trained models or read-only queries over your data sources. Consumers of any tenant see the public parts only."
        actions={<Link to="/marketplace?scope=company" className="text-sm text-indigo-700 underline">Your assets in the catalogue</Link>}
      />
      {result?.ok && result.result.kind === 'status' ? <Notice kind="success">{result.result.data.name} is now {result.result.data.status}.</Notice> : null}

      <Card title="Create an asset">
        <div className="mb-4 flex gap-2" role="radiogroup" aria-label="What the asset runs">
          {(['model', 'sql'] as const).map((k) => (
            <label key={k} className={`flex cursor-pointer items-center gap-2 rounded-md border px-3 py-2 text-sm ${kind === k ? 'border-indigo-500 bg-indigo-50' : 'border-slate-300'}`}>
              <input type="radio" name="asset-kind" checked={kind === k} onChange={() => setKind(k)} />
              {k === 'model' ? 'From a trained model' : 'From a SQL query over a data source'}
            </label>
          ))}
        </div>
        <Form method="post" className="grid gap-3 md:max-w-2xl" aria-label="Create asset">
          <CsrfInput />
          <input type="hidden" name="intent" value={kind === 'model' ? 'create_model' : 'create_sql'} />
          {kind === 'model' ? (
            models.length ? (
              <Select label="Trained model" name="train_id" error={fields['configuration.train_id'] ?? fields.configuration}>
                {models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name} (#{m.id}, {m.problem_type}, {m.algorithm})
                  </option>
                ))}
              </Select>
            ) : (
              <EmptyState title="No completed trainings">
                Train one in <Link className="text-indigo-700 underline" to="/models/new">Models</Link>; its input and output schemas are derived from it.
              </EmptyState>
            )
          ) : sqlSources.length ? (
            <>
              <Select label="Data source" name="source_id" error={fields['data_sources.0.source_id'] ?? fields.data_sources}>
                {sqlSources.map((s) => (
                  <option key={s.source_id} value={s.source_id}>
                    {s.name} ({s.type}, {s.status})
                  </option>
                ))}
              </Select>
              <TextArea label="Query" name="query" rows={5} placeholder="select region, count(*) as orders from orders where created_at >= :since group by region" error={fields['configuration.query'] ?? fields.configuration} hint="Read-only; :name marks a parameter" onChange={setQuery} />
              <ParameterEditor query={query} error={Object.entries(fields).find(([k]) => k.startsWith('configuration.parameters'))?.[1]} onValidity={setParametersValid} />
              <Field label="Row limit" name="max_rows" type="number" min="1" max="10000" placeholder="1000" error={fields['configuration.max_rows']} />
            </>
          ) : (
            <EmptyState title="No postgres or mysql source">Connect one below first: SQL assets run on a connected source.</EmptyState>
          )}
          <AssetBasics fields={fields} />
          {failed('create_model') || failed('create_sql') ? <Notice kind="error">{result!.ok ? null : result!.error.message}</Notice> : null}
          <div>
            <Button type="submit" disabled={busy('create_model') || busy('create_sql') || (kind === 'model' ? !models.length : !sqlSources.length || !parametersValid)}>
              {busy('create_model') || busy('create_sql') ? 'Creating…' : 'Create draft asset'}
            </Button>
          </div>
          <p className="text-xs text-slate-500">The asset starts as a draft at version 1.0.0; publish it from its page or the list below.</p>
        </Form>
      </Card>

      <Card title="Your assets">
        {assets.length ? (
          <Table headers={['Asset', 'Kind', 'Status', 'Version', 'Requests (30 d)', '']}>
            {assets.map((a) => (
              <tr key={a.asset_id} data-testid="provider-asset-row">
                <td className="px-3 py-2">
                  <Link className="font-medium text-indigo-700 underline" to={`/marketplace/${a.asset_id}`}>
                    {a.name}
                  </Link>
                </td>
                <td className="px-3 py-2">{a.kind}</td>
                <td className="px-3 py-2">
                  <StatusPill status={a.status} />
                </td>
                <td className="px-3 py-2 tabular-nums">{a.version}</td>
                <td className="px-3 py-2 tabular-nums">{a.performance_metrics.requests_last_30d}</td>
                <td className="space-x-2 px-3 py-2">
                  {a.status !== 'published' ? <ActionForm intent="publish" fields={{ asset_id: a.asset_id }} label="Publish" variant="primary" /> : null}
                  {a.status !== 'archived' ? <ActionForm intent="archive" fields={{ asset_id: a.asset_id }} label="Archive" variant="danger" confirm={`Archive ${a.name}?`} /> : null}
                </td>
              </tr>
            ))}
          </Table>
        ) : (
          <EmptyState title="No assets yet">Create one above.</EmptyState>
        )}
      </Card>

      <Card title="Data sources">
        {sources.length ? (
          <>
            <div className="mb-2 flex justify-end">
              <CsvButton
                name="data-sources"
                rows={sources.map((s) => ({ source_id: s.source_id, name: s.name, type: s.type, status: s.status, tables: s.tables.length, last_validated: s.connection_details.last_validated, assets: s.associated_assets.join(' ') }))}
              />
            </div>
            <Table headers={['Source', 'Type', 'Status', 'Tables', 'Last validated', 'Assets', '']}>
              {sources.map((s) => (
                <tr key={s.source_id} data-testid="source-row">
                  <td className="px-3 py-2 font-medium">
                    {s.name}
                    <div className="text-xs font-normal text-slate-500">{s.source_id}</div>
                  </td>
                  <td className="px-3 py-2">{s.type}</td>
                  <td className="px-3 py-2">
                    <StatusPill status={s.status} />
                  </td>
                  <td className="px-3 py-2 tabular-nums">{s.tables.length}</td>
                  <td className="px-3 py-2">{s.connection_details.last_validated ? new Date(s.connection_details.last_validated).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' }) : '—'}</td>
                  <td className="px-3 py-2 text-xs">{s.associated_assets.length}</td>
                  <td className="px-3 py-2">
                    <ActionForm intent="test" fields={{ source_id: s.source_id }} label="Test" />
                  </td>
                </tr>
              ))}
            </Table>
          </>
        ) : (
          <EmptyState title="No data sources">Connect one below: postgres, mysql or your own datalake tables.</EmptyState>
        )}
        {tested ? <SourceTest test={tested} /> : null}
        {connected ? (
          <div className="mt-4">
            <Notice kind={connected.connection_test.status === 'passed' ? 'success' : 'error'}>
              {connected.name}: {connected.status} · test {connected.connection_test.status}
              {connected.connection_test.latency_ms != null ? ` in ${connected.connection_test.latency_ms} ms` : ''} · {connected.connection_test.tables_discovered} tables
              {connected.connection_test.error ? ` · ${connected.connection_test.error}` : ''}
            </Notice>
          </div>
        ) : null}
      </Card>

      <Card title="Connect a data source">
        <Form method="post" className="grid gap-3 md:max-w-2xl md:grid-cols-2" aria-label="Connect data source">
          <CsrfInput />
          <input type="hidden" name="intent" value="connect" />
          <Field label="Source name" name="source_name" required error={fields.name} />
          <Select label="Type" name="type" defaultValue="postgres" onChange={setType} error={fields.type}>
            {['postgres', 'mysql', 'datalake', 'bigquery', 'snowflake'].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </Select>
          {type === 'postgres' || type === 'mysql' ? (
            <>
              <Field label="Host" name="host" required error={fields['connection_config.host']} />
              <Field label="Port" name="port" type="number" placeholder={type === 'mysql' ? '3306' : '5432'} error={fields['connection_config.port']} />
              <Field label="Database" name="database" error={fields['connection_config.database']} />
              <Field label="Username" name="username" autoComplete="off" error={fields['connection_config.username']} />
              <Field label="Password" name="password" type="password" autoComplete="new-password" hint="Encrypted at rest, never shown again" error={fields['connection_config.password']} />
              <label className="flex items-center gap-2 self-end text-sm">
                <input type="checkbox" name="ssl" /> TLS
              </label>
              <div className="md:col-span-2">
                <TextArea label="Validation query (optional)" name="validation_query" rows={2} placeholder="select 1" error={fields.validation_query} />
              </div>
            </>
          ) : type === 'datalake' ? (
            <p className="text-sm text-slate-600 md:col-span-2">Your tenant&apos;s silver and gold tables; no credentials. Datalake sources serve as model assets&apos; provenance.</p>
          ) : (
            <>
              <Field label={type === 'bigquery' ? 'Project id' : 'Account'} name={type === 'bigquery' ? 'project_id' : 'account'} />
              <Field label={type === 'bigquery' ? 'Dataset' : 'Warehouse'} name={type === 'bigquery' ? 'dataset' : 'warehouse'} />
              <p className="text-xs text-slate-500 md:col-span-2">The {type} connector loads its official SDK only where the server has it installed; otherwise the test says so.</p>
            </>
          )}
          {failed('connect') ? (
            <div className="md:col-span-2">
              <Notice kind="error">{result!.ok ? null : result!.error.message}</Notice>
            </div>
          ) : null}
          <div className="md:col-span-2">
            <Button type="submit" disabled={busy('connect')}>
              {busy('connect') ? 'Connecting and testing…' : 'Connect and test'}
            </Button>
          </div>
        </Form>
      </Card>
    </div>
  )
}

interface TestResult {
  source_id: string
  test_results: {
    connectivity: { status: string; latency_ms?: number | null; error?: string }
    permissions: Record<string, unknown>
    data_validation: Record<string, unknown>
    tables_discovered: number
  }
  recommendations: string[]
}

function SourceTest({ test }: { test: TestResult }) {
  const t = test.test_results
  return (
    <div className="mt-4 rounded-md border border-slate-200 p-4 text-sm" data-testid="source-test">
      <p className="font-semibold">
        Test of {test.source_id}: <StatusPill status={t.connectivity.status === 'passed' ? 'connected' : t.connectivity.status} /> {t.connectivity.latency_ms != null ? `${t.connectivity.latency_ms} ms` : ''} · {t.tables_discovered} tables
      </p>
      {t.connectivity.error ? <p className="text-rose-700">{t.connectivity.error}</p> : null}
      <dl className="mt-2 grid gap-1 sm:grid-cols-2">
        {Object.entries({ ...t.permissions, ...t.data_validation }).map(([k, v]) => (
          <div key={k} className="flex gap-2">
            <dt className="text-slate-500">{k}</dt>
            <dd className="font-medium">{v === null || v === undefined ? '—' : String(v)}</dd>
          </div>
        ))}
      </dl>
      <ul className="mt-2 list-disc pl-5 text-slate-700">
        {test.recommendations.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
    </div>
  )
}
