import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, badRequest, conflict, notFound } from '#app/http/errors.server.ts'
import { deriveDefinition, modelFacts, modelPerformance, type Definition } from './definition.server.ts'
import { assetStats, consumerUsage, type AssetStats } from './metering.server.ts'
import type { Configuration, CreateAssetInput, PatchAssetInput, Pricing } from './schemas.ts'
import { newId } from './secrets.server.ts'
import { asServer } from './session-role.server.ts'
import { iso } from './sources.server.ts'
import { compareVersions, parseVersion, planVersion, sameJson, type AssetState } from './versioning.ts'

/*
  Assets (MK spec "Analytics Asset Management"). A provider's own assets are read and written as the caller (RLS:
  their tenant, assets.read / assets.write). Another tenant's published asset is read through
  public.marketplace_assets (public columns only). Every change that alters something makes a version: its
  definition (what executes, with the configuration) is a snapshot; draft assets and metadata-only changes take
  traffic at once, a changed definition on a published asset waits as a candidate for a deploy.
*/

export interface AssetRow {
  id: string
  tenant_id: string
  name: string
  description: string
  category: string
  subcategory: string | null
  kind: 'model' | 'sql'
  status: 'draft' | 'published' | 'archived'
  configuration: Configuration
  validation_rules: Record<string, unknown>
  pricing: Pricing
  version: string
  active_version_id: number | null
  canary_version_id: number | null
  canary_share: number | null
  published_at: Date | null
  created_at: Date
  updated_at: Date
}

export interface VersionRow {
  id: number
  asset_id: string
  version: string
  status: string
  definition: Definition & { configuration: Configuration }
  model_version_id: number | null
  changes: string[]
  version_notes: string | null
  requires_retraining: boolean
  created_at: Date
  deployed_at: Date | null
}

export const publicUrl = (path: string) => `/api/v1/analytics${path}`

async function linkedSources(sql: Sql, assetIds: string[]) {
  if (!assetIds.length) return new Map<string, { source_id: string; tables: string[]; name: string; type: string; status: string; last_validated: Date | null }[]>()
  const { rows } = await sql.query(
    `select l.asset_id, l.source_id, l.tables, s.name, s.type, s.status, s.last_validated
       from public.asset_data_sources l join public.data_sources s on s.id = l.source_id
      where l.asset_id = any($1::text[]) order by l.source_id`,
    [`{${assetIds.join(',')}}`],
  )
  const out = new Map<string, { source_id: string; tables: string[]; name: string; type: string; status: string; last_validated: Date | null }[]>()
  for (const r of rows) out.set(r.asset_id, [...(out.get(r.asset_id) ?? []), r as never])
  return out
}

export async function ownAsset(sql: Sql, id: string, lock = false): Promise<AssetRow | null> {
  const { rows } = await sql.query<AssetRow>(`select * from public.assets where id = $1${lock ? ' for update' : ''}`, [id])
  return rows[0] ?? null
}

export async function versionRow(sql: Sql, id: number): Promise<VersionRow> {
  const { rows } = await sql.query<VersionRow>(`select * from public.asset_versions where id = $1`, [id])
  return rows[0]
}

async function latestVersion(sql: Sql, assetId: string): Promise<VersionRow> {
  const { rows } = await sql.query<VersionRow>(`select * from public.asset_versions where asset_id = $1`, [assetId])
  return rows.sort((a, b) => compareVersions(b.version, a.version))[0]
}

// ---------------------------------------------------------------- create

export async function createAsset(sql: Sql, caller: Caller, input: CreateAssetInput) {
  const sourceIds = input.data_sources.map((d) => d.source_id)
  if (new Set(sourceIds).size !== sourceIds.length) throw badRequest('data_sources', 'a data source is listed twice')
  const { rows: sources } = await sql.query<{ id: string; status: string; last_validated: Date | null }>(
    `select id, status, last_validated from public.data_sources where id = any($1::text[])`,
    [`{${sourceIds.join(',')}}`],
  )
  sourceIds.forEach((s, i) => {
    if (!sources.some((r) => r.id === s)) throw badRequest(`data_sources.${i}.source_id`, 'no such data source in your tenant')
  })
  const definition = await deriveDefinition(sql, input.configuration, sourceIds)
  const id = newId('asset')
  const createdBy = caller.kind === 'user' ? caller.userId : null
  await sql.query(
    `insert into public.assets (id, tenant_id, name, description, category, subcategory, kind, configuration, validation_rules, pricing, version, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9::text::jsonb, $10::text::jsonb, '1.0.0', $11)`,
    [id, caller.tenantId, input.name, input.description, input.category, input.subcategory ?? null, definition.kind, JSON.stringify(input.configuration), JSON.stringify(input.validation_rules), JSON.stringify(input.pricing), createdBy],
  )
  for (const d of input.data_sources) {
    await sql.query(`insert into public.asset_data_sources (asset_id, source_id, tenant_id, tables, access_level) values ($1, $2, $3, $4::text::jsonb, $5)`, [
      id,
      d.source_id,
      caller.tenantId,
      JSON.stringify(d.tables),
      d.access_level,
    ])
  }
  const { rows: v } = await sql.query<{ id: number }>(
    `insert into public.asset_versions (asset_id, tenant_id, version, major, minor, patch, status, definition, model_version_id, changes, created_by, deployed_at)
     values ($1, $2, '1.0.0', 1, 0, 0, 'active', $3::text::jsonb, $4, '["Initial version"]', $5, now()) returning id`,
    [id, caller.tenantId, JSON.stringify({ ...definition, configuration: input.configuration }), definition.kind === 'model' ? definition.model_version_id : null, createdBy],
  )
  await sql.query(`update public.assets set active_version_id = $2 where id = $1`, [id, v[0].id])
  const a = (await ownAsset(sql, id))!
  return {
    data: {
      asset_id: id,
      name: a.name,
      kind: a.kind,
      status: a.status,
      version: a.version,
      created_at: iso(a.created_at),
      data_sources: input.data_sources.map((d) => {
        const s = sources.find((r) => r.id === d.source_id)!
        return { source_id: d.source_id, connection_status: s.status, last_validated: s.last_validated ? iso(s.last_validated) : null }
      }),
      api_specification: { input_schema: definition.input_schema, output_schema: definition.output_schema },
      endpoint: { url: publicUrl(`/assets/${id}/execute`), methods: ['POST'], authentication: 'required' },
      next_steps: ['Run a test execution', 'Set the pricing and free tier', 'Publish to marketplace (PATCH status: published)'],
    },
  }
}

// ---------------------------------------------------------------- read

function performance(a: { kind: string }, facts: { metrics: Record<string, unknown> } | undefined, s: AssetStats) {
  return {
    ...(a.kind === 'model' ? modelPerformance(facts?.metrics) : {}),
    avg_response_time: s.avg_response_time,
    requests_last_30d: s.requests_last_30d,
    uptime_percentage: s.uptime_percentage,
  }
}

export async function listAssets(
  sql: Sql,
  caller: Caller,
  q: { status?: string; category?: string; data_source?: string; scope: 'company' | 'marketplace'; q?: string; sort: string; limit: number; offset: number },
) {
  const desc = q.sort.startsWith('-')
  const col = q.sort.replace(/^-/, '')
  const order = `${col === 'name' ? 'lower(a.name)' : `a.${col}`} ${desc ? 'desc' : 'asc'}, a.id`
  const search = q.q ? `%${q.q.replace(/[%_\\]/g, (c) => `\\${c}`)}%` : null
  if (q.scope === 'marketplace') {
    if (q.status && q.status !== 'published') return { data: [], meta: { total: 0, published: 0, draft: 0, archived: 0, limit: q.limit, offset: q.offset } }
    const where = `($1::text is null or a.category = $1) and ($2::text is null or a.name ilike $2 or a.description ilike $2)`
    const { rows } = await sql.query(`select a.* from public.marketplace_assets a where ${where} order by ${order} limit $3 offset $4`, [q.category ?? null, search, q.limit, q.offset])
    const { rows: n } = await sql.query<{ n: number }>(`select count(*)::int as n from public.marketplace_assets a where ${where}`, [q.category ?? null, search])
    const stats = await assetStats(sql, rows.map((r) => r.id))
    return {
      data: rows.map((a) => ({
        asset_id: a.id,
        name: a.name,
        description: a.description,
        status: a.status,
        category: a.category,
        kind: a.kind,
        provider: { tenant_id: a.provider_tenant_id, name: a.provider_name },
        version: a.active_version,
        created_at: iso(a.created_at),
        updated_at: iso(a.updated_at),
        pricing: a.pricing,
        performance_metrics: { avg_response_time: stats.get(a.id)!.avg_response_time, requests_last_30d: stats.get(a.id)!.requests_last_30d },
      })),
      meta: { total: n[0].n, published: n[0].n, draft: 0, archived: 0, limit: q.limit, offset: q.offset },
    }
  }
  const where = `($1::text is null or a.category = $1)
    and ($2::text is null or exists (select 1 from public.asset_data_sources l join public.data_sources s on s.id = l.source_id where l.asset_id = a.id and (l.source_id = $2 or s.name = $2)))
    and ($3::text is null or a.name ilike $3 or a.description ilike $3)`
  const params = [q.category ?? null, q.data_source ?? null, search]
  const { rows } = await sql.query<AssetRow>(
    `select a.* from public.assets a where ${where} and ($4::text is null or a.status = $4) order by ${order} limit $5 offset $6`,
    [...params, q.status ?? null, q.limit, q.offset],
  )
  const { rows: counts } = await sql.query<{ status: string; n: number }>(`select a.status, count(*)::int as n from public.assets a where ${where} group by a.status`, params)
  const count = (s: string) => counts.find((c) => c.status === s)?.n ?? 0
  const ids = rows.map((r) => r.id)
  const [stats, sources, versions] = await Promise.all([assetStats(sql, ids), linkedSources(sql, ids), activeVersions(sql, rows)])
  const facts = await modelFacts(sql, [...versions.values()].map((v) => v.model_version_id).filter((x): x is number => x !== null))
  return {
    data: rows.map((a) => {
      const s = stats.get(a.id)!
      const v = a.active_version_id ? versions.get(a.active_version_id) : undefined
      return {
        asset_id: a.id,
        name: a.name,
        description: a.description,
        status: a.status,
        category: a.category,
        kind: a.kind,
        data_sources: (sources.get(a.id) ?? []).map((d) => d.source_id),
        created_at: iso(a.created_at),
        updated_at: iso(a.updated_at),
        version: a.version,
        performance_metrics: performance(a, v?.model_version_id ? facts.get(v.model_version_id) : undefined, s),
        revenue_metrics: { monthly_revenue: s.monthly_revenue, total_customers: s.unique_customers },
      }
    }),
    meta: { total: q.status ? count(q.status) : counts.reduce((t, c) => t + c.n, 0), published: count('published'), draft: count('draft'), archived: count('archived'), limit: q.limit, offset: q.offset },
  }
}

async function activeVersions(sql: Sql, assets: AssetRow[]) {
  const ids = assets.flatMap((a) => [a.active_version_id, a.canary_version_id]).filter((x): x is number => x !== null)
  if (!ids.length) return new Map<number, VersionRow>()
  const { rows } = await sql.query<VersionRow>(`select * from public.asset_versions where id = any($1::bigint[])`, [`{${ids.join(',')}}`])
  return new Map(rows.map((r) => [r.id, r]))
}

export async function getAsset(sql: Sql, caller: Caller, id: string) {
  const own = await ownAsset(sql, id)
  if (!own) return publicAsset(sql, caller, id)
  const versions = await activeVersions(sql, [own])
  const active = own.active_version_id ? versions.get(own.active_version_id) : undefined
  const [stats, sources, facts] = await Promise.all([
    assetStats(sql, [id]),
    linkedSources(sql, [id]),
    modelFacts(sql, active?.model_version_id ? [active.model_version_id] : []),
  ])
  const s = stats.get(id)!
  const def = active?.definition
  const { rows: subs } = await sql.query<{ n: number }>(`select count(*)::int as n from public.asset_subscriptions where asset_id = $1 and status = 'active'`, [id])
  return {
    data: {
      asset_id: id,
      name: own.name,
      description: own.description,
      status: own.status,
      kind: own.kind,
      category: own.category,
      subcategory: own.subcategory,
      version: own.version,
      active_version: active?.version ?? null,
      canary: own.canary_version_id ? { version: versions.get(own.canary_version_id)?.version, share: own.canary_share } : null,
      created_at: iso(own.created_at),
      updated_at: iso(own.updated_at),
      data_sources: (sources.get(id) ?? []).map((d) => ({
        source_id: d.source_id,
        name: d.name,
        type: d.type,
        tables: d.tables,
        connection_status: d.status,
        last_sync: d.last_validated ? iso(d.last_validated) : null,
      })),
      configuration: own.configuration,
      validation_rules: own.validation_rules,
      pricing: own.pricing,
      api_specification: {
        endpoint: publicUrl(`/assets/${id}/execute`),
        methods: ['POST'],
        input_schema: def?.input_schema ?? {},
        output_schema: def?.output_schema ?? {},
      },
      performance_metrics: performance(own, active?.model_version_id ? facts.get(active.model_version_id) : undefined, s),
      usage_statistics: {
        total_requests: s.total_requests,
        requests_last_30d: s.requests_last_30d,
        unique_customers: s.unique_customers,
        avg_requests_per_customer: s.avg_requests_per_customer,
      },
      marketplace_info: {
        published: own.status === 'published',
        marketplace_id: own.status === 'published' ? id : null,
        published_at: own.published_at ? iso(own.published_at) : null,
        active_subscribers: subs[0].n,
        monthly_revenue: s.monthly_revenue,
        total_revenue: s.total_revenue,
        currency: own.pricing.currency ?? 'USD',
      },
    },
  }
}

/** Another tenant's published asset: the public columns, aggregate performance, and the caller's own usage. */
async function publicAsset(sql: Sql, caller: Caller, id: string) {
  const { rows } = await sql.query(`select * from public.marketplace_assets where id = $1`, [id])
  const a = rows[0]
  if (!a) throw notFound('Asset', id)
  const stats = (await assetStats(sql, [id])).get(id)!
  const { rows: ver } = await asServer(sql, () => sql.query<{ model_version_id: number | null }>(`select v.model_version_id from public.assets x join public.asset_versions v on v.id = x.active_version_id where x.id = $1`, [id]))
  const facts = await modelFacts(sql, ver[0]?.model_version_id ? [ver[0].model_version_id] : [])
  return {
    data: {
      asset_id: id,
      name: a.name,
      description: a.description,
      status: a.status,
      kind: a.kind,
      category: a.category,
      subcategory: a.subcategory,
      version: a.active_version,
      provider: { tenant_id: a.provider_tenant_id, name: a.provider_name },
      created_at: iso(a.created_at),
      updated_at: iso(a.updated_at),
      pricing: a.pricing,
      api_specification: { endpoint: publicUrl(`/assets/${id}/execute`), methods: ['POST'], input_schema: a.input_schema ?? {}, output_schema: a.output_schema ?? {} },
      performance_metrics: performance(a as { kind: string }, ver[0]?.model_version_id ? facts.get(ver[0].model_version_id) : undefined, stats),
      usage_statistics: await consumerUsage(sql, id, caller.tenantId, a.pricing),
      marketplace_info: { published: true, marketplace_id: id, published_at: a.published_at ? iso(a.published_at) : null },
    },
  }
}

// ---------------------------------------------------------------- change

const TRANSITIONS: Record<string, string[]> = { draft: ['published', 'archived'], published: ['archived'], archived: ['draft', 'published'] }

function stateOf(a: Pick<AssetRow, 'kind' | 'name' | 'description' | 'category' | 'subcategory' | 'status' | 'configuration' | 'validation_rules' | 'pricing'>, def: Definition): AssetState {
  const { input_schema, ...rest } = def
  return {
    kind: a.kind,
    name: a.name,
    description: a.description,
    category: a.category,
    subcategory: a.subcategory,
    status: a.status,
    configuration: a.configuration as Record<string, unknown>,
    validation_rules: a.validation_rules,
    pricing: a.pricing,
    definition: rest as Record<string, unknown>,
    input_schema,
  }
}

/** Keys whose change makes the asset derive what it executes again. */
const DEFINING: (keyof Configuration)[] = ['train_id', 'model_id', 'query', 'parameters', 'max_rows', 'timeout_ms']

/** The mean duration (s) of this tenant's finished trainings, of the asset's own training first; null without any. */
export async function trainingSeconds(sql: Sql, trainingId: number | undefined): Promise<number | null> {
  const { rows } = await sql.query<{ own: number | null; any: number | null }>(
    `select avg(extract(epoch from j.finished_at - j.started_at)) filter (where t.id = $1) as own,
            avg(extract(epoch from j.finished_at - j.started_at)) as any
       from public.training_jobs t join public.jobs j on j.id = t.job_id where j.status = 'completed' and j.started_at is not null`,
    [trainingId ?? null],
  )
  const secs = rows[0]?.own ?? rows[0]?.any
  return secs === null || secs === undefined ? null : Number(secs)
}

/** The same, as the spec writes it: `N_minutes`. */
export const asMinutes = (secs: number | null) => (secs === null ? null : `${Math.max(1, Math.ceil(secs / 60))}_minutes`)

/** `candidate`: the new version waits for a deploy even on a draft (a retrained model below its threshold). */
export async function patchAsset(sql: Sql, caller: Caller, id: string, input: PatchAssetInput, opts: { candidate?: boolean } = {}) {
  const a = await ownAsset(sql, id, true)
  if (!a) {
    const { rows } = await sql.query(`select 1 from public.marketplace_assets where id = $1`, [id])
    if (rows.length) throw new ApiError(403, 'FORBIDDEN', "Only the asset's provider can change it", { asset_id: id })
    throw notFound('Asset', id)
  }
  const latest = await latestVersion(sql, id)
  const status = input.status ?? a.status
  if (status !== a.status && !TRANSITIONS[a.status].includes(status)) throw conflict(`status: an asset cannot go from ${a.status} to ${status}`, { field: 'status', from: a.status, to: status })
  const configuration = { ...a.configuration, ...(input.configuration ?? {}) } as Configuration
  if (input.configuration?.train_id !== undefined && input.configuration.model_id === undefined) delete configuration.model_id
  const pricing: Pricing = {
    ...a.pricing,
    ...Object.fromEntries(Object.entries(input.pricing ?? {}).filter(([k]) => k !== 'free_tier')),
    ...(input.pricing?.free_tier ? { free_tier: { requests: 0, period: 'monthly', ...a.pricing.free_tier, ...input.pricing.free_tier } } : {}),
  } as Pricing
  const after = {
    kind: a.kind,
    name: input.name ?? a.name,
    description: input.description ?? a.description,
    category: input.category ?? a.category,
    subcategory: input.subcategory === undefined ? a.subcategory : input.subcategory,
    status,
    configuration,
    validation_rules: input.validation_rules ?? a.validation_rules,
    pricing,
  }
  const { configuration: _c, ...latestDef } = latest.definition
  let definition: Definition = latestDef as Definition
  if (DEFINING.some((k) => input.configuration && k in input.configuration && !sameJson(input.configuration[k], a.configuration[k]))) {
    const { rows: src } = await sql.query<{ source_id: string }>(`select source_id from public.asset_data_sources where asset_id = $1 order by source_id`, [id])
    definition = await deriveDefinition(sql, configuration, src.map((s) => s.source_id))
    if (definition.kind !== a.kind) throw badRequest('configuration', `this asset is a ${a.kind} asset; it cannot become a ${definition.kind} asset`)
  }
  const plan = planVersion(stateOf(a, latestDef as Definition), stateOf(after, definition), a.version)
  let versionStatus: string | null = null
  if (plan.bump) {
    const snapshot = { ...definition, configuration }
    const active = a.active_version_id ? await versionRow(sql, a.active_version_id) : null
    // Drafts and changes that leave what executes as it is take traffic at once; the rest wait for a deploy.
    const takesTraffic = !opts.candidate && (after.status === 'draft' || !active || sameJson(snapshot, active.definition))
    versionStatus = takesTraffic ? 'active' : 'candidate'
    const [major, minor, patch] = parseVersion(plan.version)
    const { rows: v } = await sql.query<{ id: number }>(
      `insert into public.asset_versions (asset_id, tenant_id, version, major, minor, patch, status, definition, model_version_id, changes, version_notes, requires_retraining, created_by, deployed_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10::text::jsonb, $11, $12, $13, case when $7 = 'active' then now() end) returning id`,
      [id, a.tenant_id, plan.version, major, minor, patch, versionStatus, JSON.stringify(snapshot), definition.kind === 'model' ? definition.model_version_id : null, JSON.stringify(plan.changes), input.version_notes ?? null, plan.requires_retraining, caller.kind === 'user' ? caller.userId : null],
    )
    if (takesTraffic) {
      await sql.query(`update public.asset_versions set status = 'deprecated' where asset_id = $1 and id <> $2 and status in ('active', 'candidate')`, [id, v[0].id])
      await sql.query(`update public.assets set active_version_id = $2, canary_version_id = null, canary_share = null where id = $1`, [id, v[0].id])
    } else await sql.query(`update public.asset_versions set status = 'deprecated' where asset_id = $1 and id <> $2 and status = 'candidate'`, [id, v[0].id])
  }
  const { rows } = await sql.query<AssetRow>(
    `update public.assets set name = $2, description = $3, category = $4, subcategory = $5, status = $6, configuration = $7::text::jsonb,
       validation_rules = $8::text::jsonb, pricing = $9::text::jsonb, version = $10, updated_at = now(),
       published_at = case when $6 = 'published' and status <> 'published' then now() else published_at end
     where id = $1 returning *`,
    [id, after.name, after.description, after.category, after.subcategory, after.status, JSON.stringify(configuration), JSON.stringify(after.validation_rules), JSON.stringify(pricing), plan.version],
  )
  const u = rows[0]
  const estimate = plan.requires_retraining && a.kind === 'model' ? asMinutes(await trainingSeconds(sql, (definition as { training_id?: number }).training_id)) : null
  return {
    data: {
      asset_id: id,
      name: u.name,
      status: u.status,
      version: u.version,
      version_status: versionStatus,
      updated_at: iso(u.updated_at),
      changes: plan.changes,
      // the spec spells it "requires_retaining"; both are sent
      requires_retaining: plan.requires_retraining,
      requires_retraining: plan.requires_retraining,
      estimated_retraining_time: estimate,
      version_notes: input.version_notes ?? null,
    },
  }
}

export async function deleteAsset(sql: Sql, id: string, permanent: boolean) {
  const a = await ownAsset(sql, id, true)
  if (!a) {
    const { rows } = await sql.query(`select 1 from public.marketplace_assets where id = $1`, [id])
    if (rows.length) throw new ApiError(403, 'FORBIDDEN', "Only the asset's provider can delete it", { asset_id: id })
    throw notFound('Asset', id)
  }
  if (!permanent) {
    await sql.query(`update public.assets set status = 'archived', updated_at = now() where id = $1`, [id])
    return undefined
  }
  const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from public.asset_subscriptions where asset_id = $1 and status = 'active' and consumer_tenant_id <> provider_tenant_id`, [id])
  if (rows[0].n > 0) throw conflict(`The asset has ${rows[0].n} active subscriber(s): archive it instead, or wait until they cancel`, { active_subscribers: rows[0].n })
  // The meter belongs to the server: the provider's permanent delete takes its executions with it.
  await asServer(sql, () => sql.query(`delete from public.assets where id = $1`, [id]))
  return undefined
}

// ---------------------------------------------------------------- versions

export async function listVersions(sql: Sql, id: string) {
  const a = await ownAsset(sql, id)
  if (!a) throw notFound('Asset', id)
  const { rows } = await sql.query<VersionRow>(`select * from public.asset_versions where asset_id = $1`, [id])
  rows.sort((x, y) => compareVersions(y.version, x.version))
  const { rows: perf } = await sql.query<{ version_id: number; avg: number | null; n: number; errors: number }>(
    `select version_id, avg(latency_ms) filter (where status = 'success') as avg, count(*) filter (where status <> 'rejected')::int as n,
            count(*) filter (where status = 'error')::int as errors
       from public.asset_executions where asset_id = $1 group by version_id`,
    [id],
  )
  const facts = await modelFacts(sql, rows.map((r) => r.model_version_id).filter((x): x is number => x !== null))
  return {
    data: rows.map((v) => {
      const p = perf.find((x) => x.version_id === v.id)
      return {
        version: v.version,
        status: v.status,
        created_at: iso(v.created_at),
        performance_metrics: {
          ...(v.model_version_id ? modelPerformance(facts.get(v.model_version_id)?.metrics) : {}),
          avg_response_time: p?.avg === null || p?.avg === undefined ? null : Math.round(Number(p.avg) * 100) / 100,
          requests: p?.n ?? 0,
          error_rate: p?.n ? p.errors / p.n : null,
        },
        changes: v.changes,
        // the share of executions this version takes now
        traffic_share: v.id === a.canary_version_id ? Number(a.canary_share ?? 0) : v.id === a.active_version_id ? 1 - (a.canary_version_id ? Number(a.canary_share ?? 0) : 0) : 0,
        version_notes: v.version_notes,
        requires_retraining: v.requires_retraining,
        deployment_date: v.deployed_at ? iso(v.deployed_at) : null,
      }
    }),
    meta: { current_version: rows.find((v) => v.id === a.active_version_id)?.version ?? null, latest_version: a.version, total_versions: rows.length },
  }
}
