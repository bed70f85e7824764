import { useState } from 'react'
import { Form, Link, useActionData, useNavigation } from 'react-router'
import { ActionForm, Button, Card, CsrfInput, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CsvButton, fmtNum } from '#app/features/analytics/components.tsx'
import { BatchPanel, DeployPanel, inFlight, type BatchView, type DeploymentView } from '#app/features/marketplace/console-panels.tsx'
import { TrainPanel, trainingInFlight, type TrainingView } from '#app/features/marketplace/train-panel.tsx'
import { usePollWhile } from '#app/features/ml/components.tsx'
import { FreeTierMeter, inputData, KeyFactors, LatencyChart, pricingText, StatusPill, UsageChart, useLastIntent, type KeyFactor, type UsageDay } from '#app/features/marketplace/components.tsx'
import type { Route } from './+types/_app.marketplace_.$asset_id'

export const meta = ({ data }: Route.MetaArgs) => [{ title: `${data?.asset.name ?? 'Asset'} · Marketplace · Hot Dash` }]

export async function loader({ request, params }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { asCaller } = await import('#app/db/db.server.ts')
  const { getDb } = await import('#app/db/index.server.ts')
  const mk = await import('#app/features/marketplace/marketplace.server.ts')
  const { assetIdParam } = await import('#app/features/marketplace/schemas.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  const { notFound } = await import('#app/http/errors.server.ts')
  const id = params.asset_id
  const origin = mk.publicOrigin(request)
  // a malformed id names no asset: the 404 page, as an unknown one is
  if (!assetIdParam.safeParse({ asset_id: id }).success) throw (await import('#app/http/ui.server.ts')).pageError(notFound('Asset', id))
  // Statements one at a time: the subscription's lookup reads the server's own connection beside the caller's.
  return uiLoader(
    request,
    'assets.read',
    async (sql, caller) => {
      const page = await asCaller(await getDb(), caller.claims, async (tx) => {
        const asset = (await mk.getAsset(tx, caller, id)).data as unknown as Asset
        const owner = !asset.provider
        const [series, recent] = await Promise.all([mk.usageSeries(tx, id, 30), mk.recentExecutions(tx, id, 50)])
        const listed = owner ? await mk.listVersions(tx, id) : null
        const consumers = owner ? await mk.consumerBreakdown(tx, id, caller.tenantId) : []
        const batches = await Promise.all((await mk.assetBatchIds(tx, id, 10)).map(async (b) => (await mk.getBatchStatus(tx, b, origin)).data))
        const latest = listed?.meta.deployment
        const deployment = latest ? (await mk.getDeployment(tx, latest.deployment_id)).data : null
        const models =
          owner && asset.kind === 'model' && caller.permissions.has('models.read')
            ? (await ml.listTrainings(tx, { skip: 0, limit: 200 })).data.filter((t) => t.status === 'completed').map((t) => ({ id: t.id, name: t.predictor_name, algorithm: t.algorithm }))
            : []
        const trainings = owner && asset.kind === 'model' ? await mk.assetTrainings(tx, id, 10) : []
        return { asset, owner, series, recent, versions: listed?.data ?? [], consumers, batches, deployment, models, trainings }
      })
      const subscription = page.owner ? null : (await mk.mySubscription(sql, caller, id)).data
      return { ...page, subscription, canWrite: caller.permissions.has('assets.write'), canExecute: caller.permissions.has('assets.execute') }
    },
    { transaction: false },
  )
}

export async function action({ request, params }: Route.ActionArgs) {
  const { uiAction } = await import('#app/http/ui.server.ts')
  const mk = await import('#app/features/marketplace/marketplace.server.ts')
  const { batchBody, deployBody, executeBody, trainAssetBody } = await import('#app/features/marketplace/schemas.ts')
  const { badRequest } = await import('#app/http/errors.server.ts')
  const id = params.asset_id
  const intent = String((await request.clone().formData()).get('intent'))
  // The browser sends the generated form's values as one JSON field; a 400 naming it if it is not JSON.
  const jsonField = (f: FormData, name: string, empty: string, message: string): unknown => {
    try {
      return JSON.parse(String(f.get(name) || empty))
    } catch {
      throw badRequest(name, message)
    }
  }
  if (intent === 'publish' || intent === 'archive' || intent === 'unpublish') {
    const status = intent === 'publish' ? 'published' : intent === 'archive' ? 'archived' : 'draft'
    return uiAction(request, 'assets.write', async (db, caller) => ({ kind: 'status' as const, ...(await mk.patchAsset(db, caller, id, { status })) }))
  }
  if (intent === 'new_version') {
    return uiAction(request, 'assets.write', async (db, caller, f) => ({
      kind: 'version' as const,
      ...(await mk.patchAsset(db, caller, id, {
        configuration: {
          train_id: Number(f.get('train_id')),
          ...(f.get('risk_medium') || f.get('risk_high') ? { risk_thresholds: { medium: Number(f.get('risk_medium')), high: Number(f.get('risk_high')) } } : {}),
        },
        version_notes: String(f.get('version_notes') ?? '') || undefined,
      })),
    }))
  }
  if (intent === 'deploy') {
    return uiAction(request, 'assets.write', async (db, caller, f) => {
      const num = (k: string) => (String(f.get(k) ?? '').trim() === '' ? undefined : Number(f.get(k)))
      const strategy = String(f.get('deployment_strategy'))
      const threshold = { error_rate: num('error_rate'), response_time: num('response_time') }
      const body = deployBody.parse({
        deployment_strategy: strategy,
        min_executions: num('min_executions'),
        ...(threshold.error_rate !== undefined || threshold.response_time !== undefined ? { rollback_threshold: threshold } : {}),
        ...(strategy === 'canary'
          ? { canary: { steps: String(f.get('steps') ?? '').split(',').filter((x) => x.trim()).map(Number), step_interval_seconds: num('step_interval_seconds') } }
          : { monitor_seconds: num('monitor_seconds'), health_check: { sample_size: num('sample_size') } }),
      })
      return { kind: 'deploy' as const, ...(await mk.deployVersion(db, caller, id, String(f.get('version')), body)) }
    })
  }
  if (intent === 'train') {
    return uiAction(request, 'assets.write', async (db, caller, f) => {
      const body = trainAssetBody.parse(jsonField(f, 'train_request', '{}', 'must be a JSON object'))
      return { kind: 'train' as const, ...(await mk.trainAsset(db, caller, id, body)) }
    })
  }
  if (intent === 'cancel_deploy') return uiAction(request, 'assets.write', async (db, _caller, f) => ({ kind: 'cancel_deploy' as const, ...(await mk.cancelDeployment(db, String(f.get('deployment_id')))) }))
  if (intent === 'batch') {
    return uiAction(
      request,
      'assets.execute',
      async (_db, caller, f) => {
        const records = jsonField(f, 'batch_data', '[]', 'must be a JSON array of records')
        const callback = String(f.get('callback_url') ?? '').trim()
        const body = batchBody.parse({ batch_data: records, ...(callback ? { callback_url: callback } : {}) })
        return { kind: 'batch' as const, ...(await mk.startBatch(caller, id, body, mk.publicOrigin(request))) }
      },
      { transaction: false },
    )
  }
  // Execution and subscriptions open their own transactions (the meter is written whether the asset succeeds or not).
  if (intent === 'subscribe') return uiAction(request, 'assets.execute', async (_db, caller, f) => ({ kind: 'subscribe' as const, ...(await mk.subscribe(caller, id, f.get('accept_pricing') === 'true')) }), { transaction: false })
  return uiAction(
    request,
    'assets.execute',
    async (_db, caller, f) => {
      const input = jsonField(f, 'input_data', '{}', 'must be a JSON object')
      const body = executeBody.parse({ input_data: input, parameters: { top_factors: Number(f.get('top_factors') || 5) } })
      return { kind: 'execute' as const, ...(await mk.execute(caller, id, body)) }
    },
    { transaction: false },
  )
}

interface Asset {
  asset_id: string
  name: string
  description: string
  status: string
  kind: string
  category: string
  subcategory: string | null
  version: string
  active_version?: string | null
  canary?: { version?: string; share: number | null } | null
  provider?: { tenant_id: string; name: string }
  configuration?: { train_id?: number; risk_thresholds?: { medium: number; high: number } }
  created_at: string
  updated_at: string
  published_at?: string | null
  pricing: { model?: string; price?: number; currency?: string; free_tier?: { requests: number; period: string } }
  api_specification: { endpoint: string; methods: string[]; input_schema: Record<string, string>; output_schema: Record<string, string> }
  performance_metrics: Record<string, number | null | undefined>
  usage_statistics: Record<string, number | null | string>
  data_sources?: { source_id: string; name: string; type: string; connection_status: string }[]
  marketplace_info: { published: boolean; published_at: string | null; active_subscribers?: number; monthly_revenue?: number; total_revenue?: number; currency?: string }
}

type Execution = { execution_id: string; results: Record<string, unknown>; metadata?: { model_version: string; execution_time_ms: number; data_points_used: number } } & Record<string, unknown>

const METRIC_LABELS: [string, string, (v: number) => string][] = [
  ['accuracy', 'Accuracy', (v) => v.toFixed(4)],
  ['auc_roc', 'ROC AUC', (v) => v.toFixed(4)],
  ['f1_score', 'F1', (v) => v.toFixed(4)],
  ['r2', 'R²', (v) => v.toFixed(4)],
  ['rmse', 'RMSE', (v) => fmtNum(v)],
  ['avg_response_time', 'Avg response', (v) => `${fmtNum(v, 3)} ms`],
  ['requests_last_30d', 'Requests (30 d)', (v) => fmtNum(v)],
  ['uptime_percentage', 'Uptime (30 d)', (v) => `${v.toFixed(2)}%`],
]

export default function AssetPage({ loaderData }: Route.ComponentProps) {
  const { asset, owner, series, recent, versions, consumers, batches, deployment, models, trainings, subscription, canWrite, canExecute } = loaderData
  const result = useActionData<typeof action>()
  const batchViews = batches as unknown as BatchView[]
  const deploymentView = deployment as unknown as DeploymentView | null
  const trainingViews = trainings as unknown as TrainingView[]
  usePollWhile(batchViews.some((b) => b.status === 'processing') || (deploymentView !== null && inFlight(deploymentView.status)) || trainingViews.some((t) => trainingInFlight(t.status)), 2000)
  const lastIntent = useLastIntent()
  const failedIntent = result && !result.ok ? lastIntent : null
  const schema = asset.api_specification.input_schema
  const output = asset.api_specification.output_schema
  const execution = result?.ok && result.result.kind === 'execute' ? (result.result as unknown as { data: Execution }).data : null
  const statusChange = result?.ok && result.result.kind === 'status' ? result.result : null
  const subscribed = result?.ok && result.result.kind === 'subscribe' ? result.result : null
  const paymentRequired = result && !result.ok && result.error.code === 'PAYMENT_REQUIRED' && failedIntent === 'execute'
  const panelError = (i: string) => (result && !result.ok && failedIntent === i ? result.error.message : null)
  return (
    <div className="space-y-6">
      <PageHeader
        title={asset.name}
        description={`${asset.kind === 'sql' ? 'SQL query' : 'Model'} · ${asset.category}${asset.subcategory ? ` / ${asset.subcategory}` : ''} · version ${asset.active_version ?? asset.version}${asset.provider ? ` · by ${asset.provider.name}` : ''}`}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <StatusPill status={asset.status} />
            {owner && canWrite && asset.status !== 'published' ? <ActionForm intent="publish" label="Publish" variant="primary" /> : null}
            {owner && canWrite && asset.status === 'archived' ? <ActionForm intent="unpublish" label="Back to draft" /> : null}
            {owner && canWrite && asset.status !== 'archived' ? (
              <ActionForm intent="archive" label="Archive" variant="danger" confirm="Archive it? Consumers can no longer execute it." />
            ) : null}
            <Link to="/marketplace" className="text-sm text-indigo-700 underline">
              Catalogue
            </Link>
          </div>
        }
      />
      {statusChange ? <Notice kind="success">Now {statusChange.data.status} (version {statusChange.data.version}).</Notice> : null}
      {result && !result.ok && !['batch', 'deploy', 'new_version', 'train'].includes(failedIntent ?? '') && !paymentRequired && !Object.keys(result.error.fields).length ? <Notice kind="error">{result.error.message}</Notice> : null}
      {result?.ok && result.result.kind === 'version' ? (
        <Notice kind="success">
          Version {result.result.data.version} ({result.result.data.version_status ?? 'no new version'}): {result.result.data.changes.join('; ')}
        </Notice>
      ) : null}

      <Card title="About">
        <p className="whitespace-pre-line text-sm text-slate-700">{asset.description || 'No description.'}</p>
        <dl className="mt-4 grid gap-3 text-sm sm:grid-cols-3">
          <div>
            <dt className="text-slate-500">Pricing</dt>
            <dd className="font-medium" data-testid="asset-pricing">{pricingText(asset.pricing)}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Endpoint</dt>
            <dd className="font-mono text-xs">POST {asset.api_specification.endpoint}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Published</dt>
            <dd>{asset.marketplace_info.published_at ? new Date(asset.marketplace_info.published_at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : 'not published'}</dd>
          </div>
          {owner ? (
            <>
              <div>
                <dt className="text-slate-500">Active subscribers</dt>
                <dd className="tabular-nums">{asset.marketplace_info.active_subscribers ?? 0}</dd>
              </div>
              <div>
                <dt className="text-slate-500">Revenue this month / in all</dt>
                <dd className="tabular-nums">
                  {fmtNum(asset.marketplace_info.monthly_revenue ?? 0)} / {fmtNum(asset.marketplace_info.total_revenue ?? 0)} {asset.marketplace_info.currency}
                </dd>
              </div>
              <div>
                <dt className="text-slate-500">Data sources</dt>
                <dd>{asset.data_sources?.length ? asset.data_sources.map((d) => `${d.name} (${d.type}, ${d.connection_status})`).join(', ') : 'none'}</dd>
              </div>
            </>
          ) : null}
        </dl>
        <div className="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
          {METRIC_LABELS.filter(([k]) => asset.performance_metrics[k] != null).map(([k, label, f]) => (
            <div key={k} className="rounded-md border border-slate-200 p-3">
              <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</p>
              <p className="mt-1 text-lg font-semibold tabular-nums">{f(asset.performance_metrics[k] as number)}</p>
            </div>
          ))}
        </div>
      </Card>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Input schema">
          <SchemaTable schema={schema} />
        </Card>
        <Card title="Output schema">
          <SchemaTable schema={output} />
        </Card>
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title={owner ? 'Executions per day (every consumer, 30 days)' : 'Your executions per day (30 days)'}>
          <UsageChart days={series as UsageDay[]} />
        </Card>
        <Card title="Latency of successful executions">
          <LatencyChart days={series as UsageDay[]} />
        </Card>
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title={owner ? 'Test execution (your own: not metered)' : 'Execute'}>
          {canExecute && (owner || asset.status === 'published') ? (
            <ExecuteForm schema={schema} fields={result && !result.ok ? result.error.fields : {}} />
          ) : (
            <p className="text-sm text-slate-500">{canExecute ? 'Only published assets can be executed.' : 'Executing assets needs the assets.execute permission.'}</p>
          )}
          {paymentRequired ? (
            <div className="mt-3">
              <Notice kind="error">
                {result.error.message}. {canExecute ? 'Accept the pricing in the panel on the right to continue.' : null}
              </Notice>
            </div>
          ) : null}
        </Card>
        <Card title="Result">{execution ? <ExecutionResult execution={execution} /> : <EmptyState title="No execution yet">Fill in the inputs and press Execute.</EmptyState>}</Card>
      </div>

      <Card title="Batch execution">
        {canExecute && (owner || asset.status === 'published') ? (
          <BatchPanel schema={schema} batches={batchViews} owner={owner} message={panelError('batch')} />
        ) : (
          <p className="text-sm text-slate-500">Batches need the assets.execute permission and a published asset.</p>
        )}
      </Card>

      {owner && canWrite ? (
        <Card title="Deploy">
          {asset.kind === 'model' && models.length ? (
            <Form method="post" className="mb-4 flex flex-wrap items-end gap-3" aria-label="New version">
              <CsrfInput />
              <input type="hidden" name="intent" value="new_version" />
              <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
                Trained model
                <select name="train_id" defaultValue={asset.configuration?.train_id} className="rounded-md border border-slate-300 px-3 py-2 font-normal">
                  {models.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.name} (#{m.id}, {m.algorithm})
                    </option>
                  ))}
                </select>
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
                Medium risk from
                <input name="risk_medium" type="number" step="any" min="0" max="1" placeholder="0.33" className="w-28 rounded-md border border-slate-300 px-3 py-2 font-normal" />
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
                High risk from
                <input name="risk_high" type="number" step="any" min="0" max="1" placeholder="0.66" className="w-28 rounded-md border border-slate-300 px-3 py-2 font-normal" />
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
                Version notes
                <input name="version_notes" className="rounded-md border border-slate-300 px-3 py-2 font-normal" />
              </label>
              <Button type="submit" variant="secondary">
                Make a new version
              </Button>
              {panelError('new_version') ? <Notice kind="error">{panelError('new_version')}</Notice> : null}
            </Form>
          ) : null}
          <DeployPanel
            versions={versions.map((v) => ({ version: v.version, status: v.status }))}
            active={asset.active_version ?? null}
            deployment={deploymentView}
            fields={failedIntent === 'deploy' && result && !result.ok ? result.error.fields : {}}
            message={panelError('deploy')}
          />
        </Card>
      ) : null}

      {owner && canWrite && asset.kind === 'model' ? (
        <Card title="Train">
          <TrainPanel
            trainings={trainingViews}
            fields={failedIntent === 'train' && result && !result.ok ? result.error.fields : {}}
            message={panelError('train')}
            started={result?.ok && result.result.kind === 'train' ? (result.result as unknown as { data: { training_job_id: string } }).data.training_job_id : null}
          />
        </Card>
      ) : null}

      {!owner && subscription ? (
        <Card title="Your usage and subscription">
          <div className="grid gap-6 md:grid-cols-2">
            <FreeTierMeter usage={{ ...subscription.usage, currency: subscription.usage.currency ?? 'USD' }} />
            <div className="space-y-2 text-sm">
              <p>
                Subscription: <strong data-testid="subscription-state">{subscription.subscribed ? 'active' : 'not subscribed'}</strong>
                {subscription.subscribed ? (subscription.billing_agreement ? ' · pricing accepted: requests past the free tier are billed' : ' · free tier only') : ' (you are subscribed on your first execution)'}
              </p>
              <p className="text-slate-600">{pricingText(subscription.pricing)}</p>
              {canExecute ? (
                <div className="flex flex-wrap gap-2">
                  {!subscription.subscribed ? <ActionForm intent="subscribe" label="Subscribe" fields={{ accept_pricing: 'false' }} /> : null}
                  {!subscription.billing_agreement && pricingText(subscription.pricing) !== 'Free' ? (
                    <ActionForm intent="subscribe" label="Accept pricing" fields={{ accept_pricing: 'true' }} variant="primary" confirm={`Accept ${pricingText(subscription.pricing)}? Requests past the free tier are billed.`} />
                  ) : null}
                </div>
              ) : null}
              {subscribed ? (
                <Notice kind="success">
                  Subscribed{subscribed.data.billing_agreement ? ' with the pricing accepted' : ''}. Webhook signing secret (shown to your tenant only): <code className="break-all">{subscribed.data.webhook_secret}</code>
                </Notice>
              ) : null}
            </div>
          </div>
        </Card>
      ) : null}

      {owner ? (
        <Card title="Versions">
          {versions.length ? (
            <ol className="relative space-y-4 border-l border-slate-200 pl-6" data-testid="versions-timeline">
              {versions.map((v) => (
                <li key={v.version} id={`version-${v.version}`} className="scroll-mt-4 target:rounded target:bg-indigo-50">
                  <span className="absolute -left-1.5 mt-1.5 h-3 w-3 rounded-full border border-white bg-indigo-500" />
                  <div className="flex flex-wrap items-center gap-2">
                    <span className="font-semibold tabular-nums">{v.version}</span>
                    <StatusPill status={v.status} />
                    <span className="text-xs text-slate-500">{new Date(v.created_at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })}</span>
                    {v.requires_retraining ? <span className="text-xs text-amber-700">requires retraining</span> : null}
                  </div>
                  <ul className="mt-1 list-disc pl-5 text-sm text-slate-700">
                    {(v.changes as string[]).map((c) => (
                      <li key={c}>{c}</li>
                    ))}
                  </ul>
                  {v.version_notes ? <p className="mt-1 text-sm italic text-slate-600">{v.version_notes}</p> : null}
                  <p className="mt-1 text-xs text-slate-500">
                    {v.performance_metrics.requests} executions · avg {v.performance_metrics.avg_response_time == null ? '—' : `${fmtNum(v.performance_metrics.avg_response_time, 3)} ms`} · error rate{' '}
                    {v.performance_metrics.error_rate == null ? '—' : `${(100 * v.performance_metrics.error_rate).toFixed(2)}%`}
                  </p>
                </li>
              ))}
            </ol>
          ) : (
            <EmptyState title="No versions" />
          )}
        </Card>
      ) : null}

      {owner ? (
        <Card title="Consumers">
          {consumers.length ? (
            <>
              <div className="mb-2 flex justify-end">
                <CsvButton name={`${asset.asset_id}-consumers`} rows={consumers} />
              </div>
              <Table headers={['Consumer', 'Requests', 'Refused past free tier', 'Billed', 'Revenue', 'Last used']}>
                {consumers.map((c) => (
                  <tr key={c.consumer_tenant_id} data-testid="consumer-row">
                    <td className="px-3 py-2">{c.consumer}</td>
                    <td className="px-3 py-2 tabular-nums">{c.requests}</td>
                    <td className="px-3 py-2 tabular-nums">{c.refused_for_quota}</td>
                    <td className="px-3 py-2 tabular-nums">{c.billed_requests}</td>
                    <td className="px-3 py-2 tabular-nums">{fmtNum(c.revenue)}</td>
                    <td className="px-3 py-2">{new Date(c.last_used).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' })}</td>
                  </tr>
                ))}
              </Table>
            </>
          ) : (
            <EmptyState title="No consumers yet">Other tenants appear here after their first execution.</EmptyState>
          )}
        </Card>
      ) : null}

      <Card title={owner ? 'Latest executions' : 'Your latest executions'}>
        {recent.length ? (
          <>
            <div className="mb-2 flex justify-end">
              <CsvButton name={`${asset.asset_id}-executions`} rows={recent} />
            </div>
            <Table headers={['When', 'Version', 'Status', 'Latency', 'Billed', 'Execution']}>
              {recent.map((r) => (
                <tr key={r.execution_id} data-testid="execution-row">
                  <td className="whitespace-nowrap px-3 py-2">{new Date(r.created_at).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' })}</td>
                  <td className="px-3 py-2 tabular-nums">{r.version ?? '—'}</td>
                  <td className="px-3 py-2">
                    <StatusPill status={r.status} />
                    {r.error_code ? <span className="ml-1 text-xs text-slate-500">{r.error_code}</span> : null}
                  </td>
                  <td className="px-3 py-2 tabular-nums">{fmtNum(r.latency_ms, 3)} ms</td>
                  <td className="px-3 py-2 tabular-nums">{r.billable ? `${fmtNum(r.price)} ${r.currency ?? ''}` : '—'}</td>
                  <td className="px-3 py-2 font-mono text-xs">{r.execution_id}</td>
                </tr>
              ))}
            </Table>
          </>
        ) : (
          <EmptyState title="No executions yet" />
        )}
      </Card>
    </div>
  )
}

function SchemaTable({ schema }: { schema: Record<string, string> }) {
  const entries = Object.entries(schema)
  if (!entries.length) return <p className="text-sm text-slate-500">No fields.</p>
  return (
    <Table headers={['Field', 'Type']}>
      {entries.map(([k, t]) => (
        <tr key={k}>
          <td className="px-3 py-1 font-mono text-xs">{k}</td>
          <td className="px-3 py-1 text-xs">{t}</td>
        </tr>
      ))}
    </Table>
  )
}

/** The form generated from the input schema: one field per input, typed, checked as you type. */
function ExecuteForm({ schema, fields }: { schema: Record<string, string>; fields: Record<string, string> }) {
  const nav = useNavigation()
  const [values, setValues] = useState<Record<string, string>>({})
  const { input, errors } = inputData(schema, values)
  const busy = nav.state !== 'idle' && nav.formData?.get('intent') === 'execute'
  return (
    <Form method="post" className="space-y-3" aria-label="Execution form">
      <CsrfInput />
      <input type="hidden" name="intent" value="execute" />
      <input type="hidden" name="input_data" value={JSON.stringify(input)} />
      <div className="grid gap-3 sm:grid-cols-2">
        {Object.entries(schema).map(([name, type]) => {
          const id = `in-${name}`
          const err = errors[name] ?? fields[`input_data.${name}`] ?? null
          const common = {
            id,
            value: values[name] ?? '',
            'aria-invalid': err ? true : undefined,
            'aria-describedby': err ? `${id}-err` : undefined,
            className: 'rounded-md border border-slate-300 px-3 py-2 text-sm aria-[invalid]:border-rose-500',
            onChange: (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value })),
          }
          return (
            <div key={name} className="flex flex-col gap-1">
              <label htmlFor={id} className="text-sm font-medium text-slate-700">
                {name} <span className="font-normal text-slate-500">({type})</span>
              </label>
              {type === 'boolean' ? (
                <select {...common}>
                  <option value="">(missing)</option>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              ) : (
                <input {...common} type={type === 'date' ? 'date' : 'text'} inputMode={type === 'integer' || type === 'float' || type === 'number' ? 'decimal' : undefined} />
              )}
              {err ? (
                <p id={`${id}-err`} className="text-xs text-rose-600">
                  {err}
                </p>
              ) : null}
            </div>
          )
        })}
      </div>
      <p className="text-xs text-slate-500">An empty field is sent as null: a model scores it as a missing value, a query uses the parameter's default.</p>
      {fields.input_data ? <p className="text-xs text-rose-600">{fields.input_data}</p> : null}
      <Button type="submit" disabled={busy || Object.keys(errors).length > 0}>
        {busy ? 'Executing…' : 'Execute'}
      </Button>
    </Form>
  )
}

function ExecutionResult({ execution }: { execution: Execution }) {
  const r = execution.results
  const scalars = Object.entries(r).filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
  const ci = r.confidence_interval as { lower: number; upper: number; level: number; method: string } | undefined
  const rows = Array.isArray(r.rows) ? (r.rows as Record<string, unknown>[]) : null
  return (
    <div className="space-y-3" data-testid="execution-result">
      <dl className="grid gap-2 text-sm sm:grid-cols-2">
        {scalars.map(([k, v]) => (
          <div key={k}>
            <dt className="text-slate-500">{k}</dt>
            <dd className="text-lg font-semibold tabular-nums" data-testid={`result-${k}`}>
              {typeof v === 'number' ? fmtNum(v, 4) : String(v)}
            </dd>
          </div>
        ))}
      </dl>
      {ci ? (
        <p className="text-sm text-slate-700">
          {Math.round(ci.level * 100)}% interval ({ci.method}): {fmtNum(ci.lower, 4)} – {fmtNum(ci.upper, 4)}
        </p>
      ) : null}
      {Array.isArray(r.key_factors) ? (
        <>
          <h3 className="text-sm font-semibold">Key factors (share of |SHAP|)</h3>
          <KeyFactors factors={r.key_factors as KeyFactor[]} />
        </>
      ) : null}
      {rows ? (
        <>
          <div className="flex items-center justify-between">
            <h3 className="text-sm font-semibold">
              {rows.length} row{rows.length === 1 ? '' : 's'}
              {r.truncated ? ' (truncated at the asset’s row limit)' : ''}
            </h3>
            <CsvButton name={`${execution.execution_id}`} rows={rows} />
          </div>
          {rows.length ? (
            <Table headers={Object.keys(rows[0])}>
              {rows.slice(0, 100).map((row, i) => (
                <tr key={i}>
                  {Object.keys(rows[0]).map((c) => (
                    <td key={c} className="px-3 py-1 text-xs">
                      {row[c] === null || row[c] === undefined ? '—' : String(row[c])}
                    </td>
                  ))}
                </tr>
              ))}
            </Table>
          ) : null}
        </>
      ) : null}
      {execution.metadata ? (
        <p className="text-xs text-slate-500">
          {execution.execution_id} · version {execution.metadata.model_version} · {fmtNum(execution.metadata.execution_time_ms, 3)} ms · {fmtNum(execution.metadata.data_points_used)} data points
        </p>
      ) : null}
    </div>
  )
}
