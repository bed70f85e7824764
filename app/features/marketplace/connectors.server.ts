import postgres from 'postgres'
import type { Sql } from '#app/db/db.server.ts'
import { resolveTarget } from './address.server.ts'
import type { ConnectionConfig, SourceType } from './schemas.ts'

/*
  Connectors of data sources. postgres (postgres.js) and mysql (mysql2; MariaDB or MySQL) connect to the address
  resolveTarget checked (no second DNS lookup), with the session read-only and a statement timeout, read through a
  read-only transaction, and fetch at most max_rows + 1 rows (one more to say the result was cut). `datalake` is our
  own silver/gold tables registered to the provider's tenant. bigquery and snowflake load their SDK only when the
  package is installed; otherwise `test` says so (no fake "passed").
  Secrets arrive decrypted in `secret` and never appear in an error, a result or a log line from here.
*/

export interface SourceRecord {
  id: string
  tenant_id: string
  type: SourceType
  config: ConnectionConfig
  updated_at: Date | string
}
export interface Secret {
  password?: string
  credentials?: string
}

export interface QueryOptions {
  timeoutMs: number
  maxRows: number
}
export interface QueryOutput {
  columns: { name: string; type: string }[]
  rows: Record<string, unknown>[]
  truncated: boolean
}

export interface TestReport {
  connectivity: { status: 'passed' | 'failed' | 'not_installed'; latency_ms: number | null; timestamp: string; error?: string }
  permissions: { read_access: boolean; table_discovery: boolean; schema_access: boolean; read_only_enforced: boolean | null; write_privileges: boolean | null }
  data_validation: { sample_query_success: boolean | null; row_count_available: boolean; schema_consistency: boolean | null }
  tables: string[]
}

export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'query' | 'connect' | 'not_installed',
  ) {
    super(message)
  }
}

const SDK: Partial<Record<SourceType, string>> = { bigquery: '@google-cloud/bigquery', snowflake: 'snowflake-sdk' }

export async function sdkInstalled(type: SourceType): Promise<boolean> {
  const name = SDK[type]
  if (!name) return true
  try {
    await import(/* @vite-ignore */ name)
    return true
  } catch {
    return false
  }
}

/** A driver's message without anything the source's config holds (host names stay: the provider knows them). */
function safeMessage(e: unknown, secret: Secret): string {
  let m = e instanceof Error ? e.message : String(e)
  for (const s of [secret.password, secret.credentials]) if (s) m = m.split(s).join('***')
  return m.slice(0, 500)
}

// ---------------------------------------------------------------- postgres

const PG_TYPES: Record<number, string> = { 16: 'boolean', 20: 'integer', 21: 'integer', 23: 'integer', 700: 'float', 701: 'float', 1700: 'float', 1082: 'date', 1114: 'datetime', 1184: 'datetime', 114: 'object', 3802: 'object' }

interface Pooled {
  key: string
  close(): Promise<void>
}
const pools = ((globalThis as { __hotdashSourcePools?: Map<string, Pooled & { client: unknown }> }).__hotdashSourcePools ??= new Map())

async function pgClient(source: SourceRecord, secret: Secret, timeoutMs: number): Promise<postgres.Sql> {
  const key = `${source.updated_at}`
  const hit = pools.get(source.id)
  if (hit && hit.key === key) return hit.client as postgres.Sql
  if (hit) await hit.close().catch(() => {})
  const c = source.config
  if (!c.host) throw new ConnectorError('connection_config.host is required', 'connect')
  const target = await resolveTarget(c.host, 'connection_config.host')
  const options: postgres.Options<Record<string, never>> = {
    host: target.address,
    port: c.port ?? 5432,
    database: c.database ?? 'postgres',
    username: c.username ?? c.user ?? 'postgres',
    password: secret.password,
    ssl: c.ssl ? ({ servername: c.host, rejectUnauthorized: true } as unknown as true) : false,
    max: 4,
    idle_timeout: 30,
    connect_timeout: 10,
    prepare: false,
    onnotice: () => {},
    connection: { application_name: 'hotdash-marketplace', default_transaction_read_only: true, statement_timeout: timeoutMs },
  }
  const client = postgres(options)
  pools.set(source.id, { key, client, close: () => client.end({ timeout: 2 }) })
  return client
}

function pgColumns(cols: readonly { name: string; type: number }[] | undefined) {
  return (cols ?? []).map((c) => ({ name: c.name, type: PG_TYPES[c.type] ?? 'string' }))
}

function normaliseRow(row: Record<string, unknown>, columns: { name: string; type: string }[]) {
  const out: Record<string, unknown> = {}
  for (const c of columns) {
    const v = row[c.name]
    if (v === null || v === undefined) out[c.name] = null
    else if ((c.type === 'integer' || c.type === 'float') && typeof v !== 'number') out[c.name] = Number(v)
    else if (v instanceof Date) out[c.name] = c.type === 'date' ? v.toISOString().slice(0, 10) : v.toISOString()
    else if (typeof v === 'bigint') out[c.name] = Number(v)
    else out[c.name] = v
  }
  return out
}

async function pgQuery(source: SourceRecord, secret: Secret, text: string, values: unknown[], o: QueryOptions): Promise<QueryOutput> {
  const client = await pgClient(source, secret, o.timeoutMs)
  try {
    return await client.begin('read only', async (tx) => {
      await tx.unsafe(`set local statement_timeout = ${Math.round(o.timeoutMs)}`)
      const res = await tx.unsafe(`select * from (${text}) as hd_asset_query limit ${o.maxRows + 1}`, values as postgres.ParameterOrJSON<never>[])
      const columns = pgColumns(res.columns as never)
      const rows = [...res].slice(0, o.maxRows).map((r) => normaliseRow(r as Record<string, unknown>, columns))
      return { columns, rows, truncated: res.length > o.maxRows }
    })
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === '57014') throw new ConnectorError(`the query ran past its ${o.timeoutMs} ms timeout`, 'timeout')
    if (code === 'ECONNREFUSED' || code === 'CONNECT_TIMEOUT' || code === 'ENOTFOUND' || code === '28P01' || code === '28000' || code === '3D000') {
      throw new ConnectorError(safeMessage(e, secret), 'connect')
    }
    throw new ConnectorError(safeMessage(e, secret), 'query')
  }
}

async function pgTest(source: SourceRecord, secret: Secret, validationQuery: string | null, known: string[]): Promise<TestReport> {
  const timestamp = new Date().toISOString()
  const report = emptyReport(timestamp)
  let client: postgres.Sql
  try {
    client = await pgClient(source, secret, 10_000)
    const t0 = performance.now()
    await client.unsafe('select 1')
    report.connectivity = { status: 'passed', latency_ms: round(performance.now() - t0), timestamp }
  } catch (e) {
    report.connectivity = { status: 'failed', latency_ms: null, timestamp, error: safeMessage(e, secret) }
    await dropPool(source.id)
    return report
  }
  try {
    const tables = await client.unsafe<{ name: string; readable: boolean; writable: boolean }[]>(
      `select format('%s.%s', table_schema, table_name) as name,
              has_table_privilege(format('%I.%I', table_schema, table_name), 'SELECT') as readable,
              has_table_privilege(format('%I.%I', table_schema, table_name), 'INSERT') or has_table_privilege(format('%I.%I', table_schema, table_name), 'UPDATE')
                or has_table_privilege(format('%I.%I', table_schema, table_name), 'DELETE') as writable
         from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema') and table_schema not like 'pg_toast%' and table_schema not like 'pg_temp%'
        order by 1 limit 1000`,
    )
    report.tables = tables.map((t) => t.name)
    report.permissions.table_discovery = true
    report.permissions.read_access = tables.some((t) => t.readable)
    report.permissions.write_privileges = tables.some((t) => t.writable)
    const cols = await client.unsafe(`select count(*)::int as n from information_schema.columns where table_schema not in ('pg_catalog', 'information_schema')`)
    report.permissions.schema_access = (cols[0] as unknown as { n: number }).n > 0 || tables.length === 0
    report.data_validation.row_count_available = true
    // In a read-only transaction a write must be refused by the server itself.
    try {
      await client.begin('read only', async (tx) => {
        await tx.unsafe('create temp table hd_read_only_probe (x int)')
      })
      report.permissions.read_only_enforced = false
    } catch (e) {
      report.permissions.read_only_enforced = (e as { code?: string }).code === '25006'
    }
    if (validationQuery) {
      report.data_validation.sample_query_success = await pgQuery(source, secret, validationQuery, [], { timeoutMs: 10_000, maxRows: 1 }).then(
        () => true,
        () => false,
      )
    }
    report.data_validation.schema_consistency = known.length ? known.every((t) => report.tables.includes(t) || report.tables.includes(`public.${t}`)) : null
  } catch (e) {
    report.connectivity.error = safeMessage(e, secret)
  }
  return report
}

// ---------------------------------------------------------------- mysql / mariadb

type MysqlPool = import('mysql2/promise').Pool
const MYSQL_TYPES: Record<number, string> = { 1: 'integer', 2: 'integer', 3: 'integer', 8: 'integer', 9: 'integer', 13: 'integer', 16: 'integer', 0: 'float', 4: 'float', 5: 'float', 246: 'float', 10: 'date', 14: 'date', 7: 'datetime', 12: 'datetime', 245: 'object' }

async function mysqlPool(source: SourceRecord, secret: Secret): Promise<{ pool: MysqlPool; mariadb: boolean }> {
  const key = `${source.updated_at}`
  const hit = pools.get(source.id)
  if (hit && hit.key === key) return hit.client as { pool: MysqlPool; mariadb: boolean }
  if (hit) await hit.close().catch(() => {})
  const c = source.config
  if (!c.host) throw new ConnectorError('connection_config.host is required', 'connect')
  const target = await resolveTarget(c.host, 'connection_config.host')
  const mysql = (await import('mysql2/promise')).default
  const pool = mysql.createPool({
    host: target.address,
    port: c.port ?? 3306,
    user: c.username ?? c.user ?? 'root',
    password: secret.password ?? '',
    database: c.database,
    connectTimeout: 10_000,
    connectionLimit: 4,
    dateStrings: true,
    decimalNumbers: true,
    supportBigNumbers: true,
    ssl: c.ssl ? { rejectUnauthorized: true } : undefined,
  })
  let mariadb = false
  try {
    const [rows] = await pool.query('select version() as v')
    mariadb = /mariadb/i.test(String((rows as { v: string }[])[0]?.v))
  } catch (e) {
    await pool.end().catch(() => {})
    throw e
  }
  const client = { pool, mariadb }
  pools.set(source.id, { key, client, close: () => pool.end() })
  return client
}

async function mysqlQuery(source: SourceRecord, secret: Secret, text: string, values: unknown[], o: QueryOptions): Promise<QueryOutput> {
  let conn: import('mysql2/promise').PoolConnection | undefined
  try {
    const { pool, mariadb } = await mysqlPool(source, secret)
    conn = await pool.getConnection()
    await conn.query(mariadb ? `set session max_statement_time = ${o.timeoutMs / 1000}` : `set session max_execution_time = ${Math.round(o.timeoutMs)}`)
    await conn.query('start transaction read only')
    try {
      const [rows, fields] = await conn.execute({ sql: `select * from (${text}) as hd_asset_query limit ${o.maxRows + 1}`, timeout: o.timeoutMs + 1000 }, values as never[])
      const columns = (fields ?? []).map((f) => ({ name: f.name, type: MYSQL_TYPES[f.type ?? -1] ?? 'string' }))
      const list = rows as Record<string, unknown>[]
      return { columns, rows: list.slice(0, o.maxRows).map((r) => normaliseRow(r, columns)), truncated: list.length > o.maxRows }
    } finally {
      await conn.query('rollback').catch(() => {})
    }
  } catch (e) {
    const errno = (e as { errno?: number; code?: string }).errno
    const code = (e as { code?: string }).code
    if (errno === 1969 || errno === 3024 || code === 'PROTOCOL_SEQUENCE_TIMEOUT') throw new ConnectorError(`the query ran past its ${o.timeoutMs} ms timeout`, 'timeout')
    if (e instanceof ConnectorError) throw e
    if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || errno === 1045 || errno === 1049) throw new ConnectorError(safeMessage(e, secret), 'connect')
    throw new ConnectorError(safeMessage(e, secret), 'query')
  } finally {
    conn?.release()
  }
}

async function mysqlTest(source: SourceRecord, secret: Secret, validationQuery: string | null, known: string[]): Promise<TestReport> {
  const timestamp = new Date().toISOString()
  const report = emptyReport(timestamp)
  let pool: MysqlPool
  try {
    pool = (await mysqlPool(source, secret)).pool
    const t0 = performance.now()
    await pool.query('select 1')
    report.connectivity = { status: 'passed', latency_ms: round(performance.now() - t0), timestamp }
  } catch (e) {
    report.connectivity = { status: 'failed', latency_ms: null, timestamp, error: safeMessage(e, secret) }
    await dropPool(source.id)
    return report
  }
  try {
    const [tables] = await pool.query(
      `select concat(table_schema, '.', table_name) as name, table_schema as s, table_name as t, table_rows as n from information_schema.tables
        where table_schema not in ('mysql', 'information_schema', 'performance_schema', 'sys') and (? is null or table_schema = ?)
        order by 1 limit 1000`,
      [source.config.database ?? null, source.config.database ?? null],
    )
    const list = tables as { name: string; s: string; t: string; n: number | null }[]
    report.tables = list.map((t) => t.name)
    report.permissions.table_discovery = true
    report.permissions.read_access = list.length > 0
    const [cols] = await pool.query(`select count(*) as n from information_schema.columns where table_schema not in ('mysql', 'information_schema', 'performance_schema', 'sys')`)
    report.permissions.schema_access = Number((cols as { n: number }[])[0].n) > 0 || list.length === 0
    report.data_validation.row_count_available = list.every((t) => t.n !== null)
    const [grants] = await pool.query('show grants')
    report.permissions.write_privileges = (grants as Record<string, string>[]).some((g) => /\b(ALL PRIVILEGES|INSERT|UPDATE|DELETE|DROP|CREATE|ALTER)\b/i.test(Object.values(g)[0]))
    // A write in a read-only transaction must be refused by the server (errno 1792), whatever the user may do.
    if (list.length) {
      const conn = await pool.getConnection()
      try {
        await conn.query('start transaction read only')
        try {
          await conn.query(`delete from \`${list[0].s.replaceAll('`', '``')}\`.\`${list[0].t.replaceAll('`', '``')}\` where 1 = 0`)
          report.permissions.read_only_enforced = false
        } catch (e) {
          // 1792: refused by the read-only transaction; 1142: the user holds no write grant (refused either way)
          report.permissions.read_only_enforced = [1792, 1142].includes((e as { errno?: number }).errno ?? 0)
        } finally {
          await conn.query('rollback').catch(() => {})
        }
      } finally {
        conn.release()
      }
    }
    if (validationQuery) {
      report.data_validation.sample_query_success = await mysqlQuery(source, secret, validationQuery, [], { timeoutMs: 10_000, maxRows: 1 }).then(
        () => true,
        () => false,
      )
    }
    report.data_validation.schema_consistency = known.length ? known.every((t) => report.tables.some((x) => x === t || x.endsWith(`.${t}`))) : null
  } catch (e) {
    report.connectivity.error = safeMessage(e, secret)
  }
  return report
}

// ---------------------------------------------------------------- datalake

async function datalakeTest(db: Sql, source: SourceRecord, known: string[]): Promise<TestReport> {
  const timestamp = new Date().toISOString()
  const report = emptyReport(timestamp)
  const t0 = performance.now()
  const { rows } = await db.query<{ name: string; readable: boolean }>(
    `select r.schema_name || '.' || r.display_name as name, to_regclass(format('%I.%I', r.schema_name, r.table_name)) is not null as readable
       from public.dataset_tables r where r.tenant_id = $1 and r.schema_name in ('silver', 'gold') order by 1`,
    [source.tenant_id],
  )
  report.connectivity = { status: 'passed', latency_ms: round(performance.now() - t0), timestamp }
  const limit = source.config.tables
  report.tables = rows.filter((r) => !limit?.length || limit.includes(r.name) || limit.includes(r.name.split('.')[1])).map((r) => r.name)
  report.permissions = { read_access: rows.every((r) => r.readable), table_discovery: true, schema_access: true, read_only_enforced: true, write_privileges: false }
  report.data_validation = { sample_query_success: null, row_count_available: true, schema_consistency: known.length ? known.every((t) => report.tables.some((x) => x === t || x.endsWith(`.${t}`))) : null }
  return report
}

// ---------------------------------------------------------------- dispatch

function emptyReport(timestamp: string): TestReport {
  return {
    connectivity: { status: 'failed', latency_ms: null, timestamp },
    permissions: { read_access: false, table_discovery: false, schema_access: false, read_only_enforced: null, write_privileges: null },
    data_validation: { sample_query_success: null, row_count_available: false, schema_consistency: null },
    tables: [],
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100

export async function dropPool(sourceId: string) {
  const hit = pools.get(sourceId)
  pools.delete(sourceId)
  await hit?.close().catch(() => {})
}

/** `db` reads our own datalake (as the server) for a datalake source. */
export async function testSource(db: Sql, source: SourceRecord, secret: Secret, validationQuery: string | null, known: string[] = []): Promise<TestReport> {
  if (source.type === 'postgres') return pgTest(source, secret, validationQuery, known)
  if (source.type === 'mysql') return mysqlTest(source, secret, validationQuery, known)
  if (source.type === 'datalake') return datalakeTest(db, source, known)
  const report = emptyReport(new Date().toISOString())
  report.connectivity.status = 'not_installed'
  report.connectivity.error = (await sdkInstalled(source.type))
    ? `the ${source.type} connector is installed but not enabled in this build`
    : `the ${source.type} connector is not installed on this server (npm package ${SDK[source.type]})`
  return report
}

export async function runQuery(source: SourceRecord, secret: Secret, text: string, values: unknown[], o: QueryOptions): Promise<QueryOutput> {
  if (source.type === 'postgres') return pgQuery(source, secret, text, values, o)
  if (source.type === 'mysql') return mysqlQuery(source, secret, text, values, o)
  throw new ConnectorError(`queries over a ${source.type} source are not offered`, source.type === 'datalake' ? 'query' : 'not_installed')
}
