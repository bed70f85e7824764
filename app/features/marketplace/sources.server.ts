import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { badRequest, notFound } from '#app/http/errors.server.ts'
import { resolveTarget } from './address.server.ts'
import { dropPool, testSource, type Secret, type SourceRecord, type TestReport } from './connectors.server.ts'
import { SECRET_KEYS, type ConnectionConfig, type CreateSourceInput, type SourceType } from './schemas.ts'
import { newId, seal, unseal } from './secrets.server.ts'
import { asServer } from './session-role.server.ts'

/*
  Data sources (MK spec "Data Source Management"): connect (credentials sealed before the row is written, the target
  checked against the SSRF rules first), test (measured latency, discovered tables, the permission checks), list.
  Everything runs as the caller (RLS: their tenant only); the sealed secret is read and written as the server.
*/

export interface SourceRow extends SourceRecord {
  name: string
  access_level: string
  validation_query: string | null
  status: string
  tables: string[]
  last_test: TestReport | null
  last_validated: Date | null
  created_at: Date
}

const COLUMNS = `id, tenant_id, name, type, config, access_level, validation_query, status, tables, last_test, last_validated, created_at, updated_at`

function splitSecret(config: ConnectionConfig): { config: ConnectionConfig; secret: Secret } {
  const pub: Record<string, unknown> = {}
  const secret: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(config)) ((SECRET_KEYS as readonly string[]).includes(k) ? secret : pub)[k] = v
  return { config: pub as ConnectionConfig, secret: secret as Secret }
}

const NEEDS_HOST: SourceType[] = ['postgres', 'mysql']

export async function loadSource(sql: Sql, id: string): Promise<SourceRow> {
  const { rows } = await sql.query<SourceRow>(`select ${COLUMNS} from public.data_sources where id = $1`, [id])
  if (!rows[0]) throw notFound('Data source', id)
  return rows[0]
}

/** The source's credentials, opened (server side only). */
export async function sourceSecret(sql: Sql, id: string): Promise<Secret> {
  const { rows } = await asServer(sql, () => sql.query<{ secret: string | null }>(`select secret from public.data_sources where id = $1`, [id]))
  return rows[0]?.secret ? unseal<Secret>(rows[0].secret, id) : {}
}

async function runTest(sql: Sql, source: SourceRow): Promise<TestReport> {
  const secret = await sourceSecret(sql, source.id)
  const known = await sql.query<{ tables: string[] }>(`select tables from public.asset_data_sources where source_id = $1`, [source.id])
  const tables = [...new Set(known.rows.flatMap((r) => r.tables))]
  const report = await (source.type === 'datalake' ? asServer(sql, () => testSource(sql, source, secret, null, tables)) : testSource(sql, source, secret, source.validation_query, tables))
  const status = report.connectivity.status === 'passed' ? 'connected' : report.connectivity.status === 'not_installed' ? 'not_installed' : 'error'
  await sql.query(
    `update public.data_sources set status = $2, tables = $3::text::jsonb, last_test = $4::text::jsonb, last_validated = case when $2 = 'connected' then now() else last_validated end where id = $1`,
    [source.id, status, JSON.stringify(report.tables), JSON.stringify(report)],
  )
  return report
}

export async function connectSource(sql: Sql, caller: Caller, input: CreateSourceInput) {
  const { config, secret } = splitSecret(input.connection_config)
  if (NEEDS_HOST.includes(input.type)) {
    if (!config.host) throw badRequest('connection_config.host', `is required for a ${input.type} source`)
    if (!(config.database || input.type === 'postgres')) throw badRequest('connection_config.database', 'is required for a mysql source')
    await resolveTarget(config.host, 'connection_config.host')
  }
  if (input.type === 'datalake' && Object.keys(secret).length) throw badRequest('connection_config', 'a datalake source takes no credentials')
  if (input.validation_query && input.type !== 'postgres' && input.type !== 'mysql') throw badRequest('validation_query', `is not run on a ${input.type} source`)
  const id = newId('src')
  await sql.query(
    `insert into public.data_sources (id, tenant_id, name, type, config, access_level, validation_query, created_by) values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8)`,
    [id, caller.tenantId, input.name, input.type, JSON.stringify(config), input.access_level, input.validation_query ?? null, caller.kind === 'user' ? caller.userId : null],
  )
  if (Object.keys(secret).length) {
    await asServer(sql, () => sql.query(`update public.data_sources set secret = $2 where id = $1`, [id, seal(secret, id)]))
  }
  const source = await loadSource(sql, id)
  const report = await runTest(sql, source)
  const after = await loadSource(sql, id)
  return {
    data: {
      source_id: id,
      name: after.name,
      type: after.type,
      status: after.status,
      connection_test: {
        status: report.connectivity.status,
        latency_ms: report.connectivity.latency_ms,
        tables_discovered: report.tables.length,
        ...(report.connectivity.error ? { error: report.connectivity.error } : {}),
      },
      security: { encrypted: Object.keys(secret).length > 0, access_level: after.access_level, ip_restrictions: 'enabled' },
      created_at: iso(after.created_at),
    },
  }
}

export async function testDataSource(sql: Sql, id: string) {
  const source = await loadSource(sql, id)
  await dropPool(id)
  const r = await runTest(sql, source)
  const recommendations: string[] = []
  if (r.connectivity.status === 'not_installed') recommendations.push(`Install the ${source.type} connector on the server to use this source`)
  else if (r.connectivity.status === 'failed') recommendations.push('Check the host, port, database and credentials; the connection failed')
  else {
    if (r.permissions.write_privileges) recommendations.push('The database user can write to some tables: connections here are read-only, but a read-only user is safer')
    if (r.permissions.read_only_enforced === false) recommendations.push('The server did not refuse a write inside a read-only transaction: use a read-only user')
    if (!r.tables.length) recommendations.push('No tables were found: check the database name and the user\'s grants')
    if (r.data_validation.sample_query_success === false) recommendations.push('The validation query failed')
    if (r.data_validation.schema_consistency === false) recommendations.push('Tables used by your assets are missing from the source')
    if (!recommendations.length) recommendations.push('Connection is healthy and ready for use')
  }
  return {
    data: {
      source_id: id,
      test_results: {
        connectivity: r.connectivity,
        permissions: r.permissions,
        data_validation: r.data_validation,
        tables_discovered: r.tables.length,
      },
      recommendations,
    },
  }
}

export async function listSources(sql: Sql, q: { type?: string; status?: string; asset_id?: string }) {
  const { rows } = await sql.query<SourceRow & { associated_assets: string[] }>(
    `select ${COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')},
            coalesce((select array_agg(l.asset_id order by l.asset_id) from public.asset_data_sources l where l.source_id = s.id), '{}') as associated_assets
       from public.data_sources s
      where ($1::text is null or s.type = $1) and ($2::text is null or s.status = $2)
        and ($3::text is null or exists (select 1 from public.asset_data_sources l where l.source_id = s.id and l.asset_id = $3))
      order by s.created_at desc`,
    [q.type ?? null, q.status ?? null, q.asset_id ?? null],
  )
  const data = rows.map((s) => ({
    source_id: s.id,
    name: s.name,
    type: s.type,
    status: s.status,
    ...(s.config.project_id ? { project_id: s.config.project_id } : {}),
    ...(s.config.dataset ? { dataset: s.config.dataset } : {}),
    tables: s.tables,
    connection_details: {
      ...(s.config.host ? { host: s.config.host, port: s.config.port ?? (s.type === 'mysql' ? 3306 : 5432) } : {}),
      ...(s.config.database ? { database: s.config.database } : {}),
      ...(s.config.username || s.config.user ? { username: s.config.username ?? s.config.user } : {}),
      ...(s.config.region ? { region: s.config.region } : {}),
      last_validated: s.last_validated ? iso(s.last_validated) : null,
      permissions: s.access_level,
    },
    associated_assets: pgArray(s.associated_assets),
    created_at: iso(s.created_at),
  }))
  return {
    data,
    meta: { total: data.length, connected: data.filter((s) => s.status === 'connected').length, disconnected: data.filter((s) => s.status !== 'connected').length },
  }
}

export const iso = (d: Date | string) => (d instanceof Date ? d : new Date(d)).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** Arrays come back as arrays on both engines, or as '{a,b}' text from some paths: normalise. */
export function pgArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String)
  if (typeof v === 'string') return v.replace(/^\{|\}$/g, '').split(',').filter(Boolean)
  return []
}
