import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import { openCopyStream, type CopyStream } from './copy.server.ts'
import { acquireDataDirLock, displayPath, type DataDirLock } from './data-dir-lock.server.ts'

export type Row = Record<string, any>
export interface QueryResult<T> {
  rows: T[]
  rowCount: number
}

/** Anything that runs parameterised SQL: the database itself or an open transaction. */
export interface Sql {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<QueryResult<T>>
  /** A script of several statements, no parameters (migrations, DDL). */
  exec(script: string): Promise<void>
  /** `copy <target> from … <options>` with the data given whole (both engines). */
  copyFrom(target: string, options: string, chunks: Uint8Array[]): Promise<void>
  /** The same COPY left open while the caller writes to it (Postgres only; PGlite takes whole blobs). */
  copyStream?(target: string, options: string): Promise<CopyStream>
}

export interface Db extends Sql {
  readonly engine: 'pglite' | 'postgres'
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>
  close(): Promise<void>
  /** Connections in the pool (Postgres); PGlite has one. */
  readonly poolSize: number
  /** The driver itself, for what the interface does not cover (COPY, pg-boss). */
  readonly raw: PGlite | postgres.Sql
}

// int8 and numeric become numbers on both engines (postgres.js would give strings, PGlite bigint).
const INT8 = 20
const NUMERIC = 1700
const JSON_OID = 114
const JSONB = 3802

/**
 * The embedded database. On a directory it first takes the directory's lock (a second process is refused with
 * DataDirLockedError) and checks the files open (DataDirDamagedError, readable, instead of PGlite's WASM abort).
 */
export async function openPglite(
  dataDir: string | undefined,
  opts: { loadDataDir?: Blob | File; log?: (msg: string) => void; /** the directory's lock, already held by the caller (who releases it) */ lock?: DataDirLock } = {},
): Promise<Db> {
  const onDisk = !!dataDir && !dataDir.startsWith('memory://')
  let lock: DataDirLock | null = null
  if (onDisk && !opts.lock) {
    fs.mkdirSync(path.dirname(path.resolve(dataDir)), { recursive: true })
    lock = acquireDataDirLock(dataDir, {
      onTakeover: (h) => opts.log?.(`took over the lock of "${h.command}" (pid ${h.pid}, since ${h.started_at}), which is no longer running`),
    })
  }
  let pg: PGlite
  try {
    pg = await PGlite.create(dataDir ?? 'memory://', {
      parsers: { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v) },
      loadDataDir: opts.loadDataDir,
    })
    if (onDisk) await pg.query('select count(*) from pg_catalog.pg_class')
  } catch (e) {
    lock?.release()
    throw onDisk ? new DataDirDamagedError(dataDir!, e) : e
  }
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Sql => ({
    async query<T extends Row>(text: string, params?: unknown[]) {
      const r = await q.query<T>(text, params as any[])
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length }
    },
    async exec(script: string) {
      await q.exec(script)
    },
    async copyFrom(target, options, chunks) {
      if (!chunks.length) return
      await q.query(`copy ${target} from '/dev/blob' ${options}`, [], { blob: new Blob(chunks as BlobPart[]) })
    },
  })
  const base = wrap(pg)
  return {
    engine: 'pglite',
    raw: pg,
    poolSize: 1,
    query: base.query,
    exec: base.exec,
    copyFrom: base.copyFrom,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async close() {
      try {
        await pg.close()
      } finally {
        lock?.release()
      }
    },
  }
}

/** The embedded database's files cannot be read: what failed, where, and how to recover, in words. */
export class DataDirDamagedError extends Error {
  readonly dir: string
  constructor(dir: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause)
    super(
      `the embedded database in ${displayPath(dir)} could not be opened (${why}): its files are damaged or are not a database ` +
        `(two processes writing it at once does this). To recover: restore a backup (npm run db:restore -- <file>), ` +
        `or start afresh with npm run db:reset (deletes everything in it).`,
      { cause },
    )
    this.name = 'DataDirDamagedError'
    this.dir = dir
  }
}

/** A failure inside PGlite's WASM (an abort, a trap): the files under it are not what Postgres expects. */
export const isWasmFailure = (e: unknown) => e instanceof WebAssembly.RuntimeError || (e instanceof Error && /^Aborted\(/.test(e.message))

export function openPostgres(url: string, opts: { max?: number } = {}): Db {
  const sql = postgres(url, {
    prepare: false, // safe behind Supabase's transaction pooler
    max: opts.max ?? 10,
    onnotice: () => {},
    types: {
      int8: { to: INT8, from: [INT8], serialize: (v: unknown) => String(v), parse: (v: string) => Number(v) },
      numeric: { to: NUMERIC, from: [NUMERIC], serialize: (v: unknown) => String(v), parse: (v: string) => Number(v) },
      // JSON parameters are passed as strings (as PGlite takes them); postgres.js would JSON-encode them a second time.
      json: { to: JSONB, from: [JSON_OID, JSONB], serialize: (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v)), parse: (v: string) => JSON.parse(v) },
      ...arrayTypes,
    },
    // postgres.js's own array parsing turns NULL elements into "NULL"/false; arrays are parsed by pgArrayParse below.
    fetch_types: false,
    // Nagle's algorithm held the end of every COPY for ~40 ms (measured: 400 COPYs 17.8 s → 0.66 s without it).
    ...({ socket: noDelaySocket } as object),
  })
  const wrap = (q: postgres.Sql | postgres.TransactionSql): Sql => ({
    async query<T extends Row>(text: string, params?: unknown[]) {
      const r = await q.unsafe(text, (params ?? []).map((p) => (Array.isArray(p) ? pgArrayLiteral(p) : p)) as any[])
      return { rows: r as unknown as T[], rowCount: r.count ?? r.length }
    },
    async exec(script: string) {
      await q.unsafe(script).simple()
    },
    async copyFrom(target, options, chunks) {
      if (!chunks.length) return
      const s = await openCopyStream(q, target, options)
      for (const c of chunks) await s.write(c)
      await s.end()
    },
    copyStream: (target, options) => openCopyStream(q, target, options),
  })
  const base = wrap(sql)
  return {
    engine: 'postgres',
    raw: sql,
    poolSize: opts.max ?? 10,
    query: base.query,
    exec: base.exec,
    copyFrom: base.copyFrom,
    transaction: (fn) => sql.begin((tx) => fn(wrap(tx))) as Promise<any>,
    close: () => sql.end({ timeout: 5 }),
  }
}

/** Who a query runs as: the JWT claims Supabase would put in `request.jwt.claims`. */
export interface Claims {
  sub: string
  role: 'authenticated' | 'service_role' | 'anon'
  email?: string
  aud?: string
  app_metadata: { tenant_id?: string; roles?: string[]; scopes?: string[]; api_key_id?: string; [k: string]: unknown }
  user_metadata?: Record<string, unknown>
  session_id?: string
  [k: string]: unknown
}

/**
 * Runs fn in a transaction as the caller: role and claims are set locally, so RLS and
 * auth.uid()/auth.jwt() behave as they do on Supabase.
 */
export function asCaller<T>(db: Db, claims: Claims | null, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await setCaller(tx, claims)
    return fn(tx)
  })
}

/**
 * A Sql whose every statement is its own short transaction as the caller (null: `anon`), for work that must not
 * hold one transaction open (long handlers) or whose statements must commit on their own (credential steps).
 */
export function scopedTo(db: Db, claims: Claims | null): Sql {
  return {
    query: (text, params) => asCaller(db, claims, (tx) => tx.query(text, params)),
    exec: (script) => asCaller(db, claims, (tx) => tx.exec(script)),
    copyFrom: (target, options, chunks) => asCaller(db, claims, (tx) => tx.copyFrom(target, options, chunks)),
  }
}

export async function setCaller(tx: Sql, claims: Claims | null) {
  // A service_role caller acting for a tenant keeps its claims (all permissions) but not the database role's
  // BYPASSRLS: it sees that tenant's rows only.
  const role = claims?.role === 'service_role' && claims.app_metadata?.tenant_id ? 'authenticated' : (claims?.role ?? 'anon')
  await tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [
    role,
    JSON.stringify(claims ?? { role: 'anon' }),
  ])
}

/**
 * A JS array as a Postgres array literal ('{"a",NULL,"b"}'). postgres.js's own array parameters mistype booleans and
 * dates and turn null into the string "NULL"; as a literal the `$n::type[]` cast in the SQL decides the type.
 */
export function pgArrayLiteral(values: readonly unknown[]): string {
  const item = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL'
    if (Array.isArray(v)) return pgArrayLiteral(v)
    if (typeof v === 'boolean') return v ? 't' : 'f'
    if (typeof v === 'number' || typeof v === 'bigint') return String(v)
    const s = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v)
    return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
  }
  return `{${values.map(item).join(',')}}`
}

/** Parses a Postgres array literal ('{a,NULL,"b c"}', nested too) with an element parser. */
export function pgArrayParse<T>(text: string, parse: (s: string) => T): unknown[] {
  let i = 0
  const readArray = (): unknown[] => {
    const out: unknown[] = []
    i++ // '{'
    while (i < text.length) {
      const ch = text[i]
      if (ch === '}') {
        i++
        return out
      }
      if (ch === ',') {
        i++
        continue
      }
      if (ch === '{') {
        out.push(readArray())
        continue
      }
      if (ch === '"') {
        let s = ''
        i++
        while (text[i] !== '"') {
          if (text[i] === '\\') i++
          s += text[i++]
        }
        i++
        out.push(parse(s))
        continue
      }
      let j = i
      while (text[j] !== ',' && text[j] !== '}') j++
      const raw = text.slice(i, j)
      i = j
      out.push(raw === 'NULL' ? null : parse(raw))
    }
    return out
  }
  // Arrays with non-default bounds start with '[1:2]='.
  if (text[0] === '[') i = text.indexOf('=') + 1
  return readArray()
}

const asIs = (s: string) => s
const ARRAY_ELEMENT_PARSERS: Record<number, (s: string) => unknown> = {
  1000: (s) => s === 't', // bool[]
  1005: Number, // int2[]
  1007: Number, // int4[]
  1016: Number, // int8[]
  1021: Number, // float4[]
  1022: Number, // float8[]
  1231: Number, // numeric[]
  1009: asIs, // text[]
  1015: asIs, // varchar[]
  1014: asIs, // bpchar[]
  2951: asIs, // uuid[]
  1182: asIs, // date[]
  1115: (s) => new Date(s + 'Z'), // timestamp[]
  1185: (s) => new Date(s), // timestamptz[]
  199: (s) => JSON.parse(s), // json[]
  3807: (s) => JSON.parse(s), // jsonb[]
}
const arrayTypes = Object.fromEntries(
  Object.entries(ARRAY_ELEMENT_PARSERS).map(([oid, parse]) => [
    `array_${oid}`,
    { to: Number(oid), from: [Number(oid)], serialize: (v: unknown) => (Array.isArray(v) ? pgArrayLiteral(v) : String(v)), parse: (v: string) => pgArrayParse(v, parse) },
  ]),
)

/** A connected TCP (or unix) socket with Nagle off, for postgres.js's `socket` option (TLS is layered on by postgres.js). */
function noDelaySocket(o: { host: string[]; port: number[]; path?: string | false }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = o.path ? net.connect(o.path) : net.connect(o.port[0], o.host[0])
    s.setNoDelay(true)
    s.once('error', reject)
    s.once('connect', () => {
      s.off('error', reject)
      resolve(s)
    })
  })
}
