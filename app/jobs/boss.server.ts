import type { PGlite } from '@electric-sql/pglite'
import PgBoss from 'pg-boss'
import type postgres from 'postgres'
import type { Db, Sql } from '#app/db/db.server.ts'

export const BOSS_SCHEMA = 'pgboss'

/** pg-boss's whole database contract: run one SQL text with positional values, return its rows. */
export type BossExecutor = PgBoss.Db

/**
 * An executor on the driver itself. pg-boss sends its migrations as parameterless multi-statement scripts
 * (BEGIN; …; COMMIT): those need the simple protocol (PGlite `exec`, postgres.js `.simple()`); everything
 * with parameters goes through the extended protocol (`query` / `unsafe`).
 */
export function driverExecutor(db: Db): BossExecutor {
  if (db.engine === 'pglite') {
    const raw = db.raw as PGlite
    return {
      async executeSql(text, values) {
        if (values?.length) return { rows: (await raw.query(text, values)).rows }
        const results = await raw.exec(text)
        return { rows: results.at(-1)?.rows ?? [] }
      },
    }
  }
  const raw = db.raw as postgres.Sql
  // postgres.js's reserve() never settles on a pool that has no connection open yet when fetch_types is off, as ours
  // is (porsager/postgres#751): `npm run worker` in production starts pg-boss first and hung there. One query opens one.
  let warm: Promise<unknown> | undefined
  return {
    async executeSql(text, values) {
      if (values?.length) return { rows: await raw.unsafe(text, values.map(nullForUndefined) as any[]) }
      // A script that opens its own transaction needs one connection of the pool to itself.
      await (warm ??= raw`select 1`)
      const conn = await raw.reserve()
      try {
        const r: any = await conn.unsafe(text).simple()
        // postgres.js answers a multi-statement script with one result per statement
        const last = Array.isArray(r) && Array.isArray(r.at(-1)) ? r.at(-1) : r
        return { rows: Array.from(last ?? []) }
      } finally {
        conn.release()
      }
    },
  }
}

/**
 * An executor on an open transaction (or any Sql), so a pg-boss send or cancel commits or rolls back with the
 * caller's own writes. Only single statements run here (send, cancel), never pg-boss's migration scripts.
 */
export function sqlExecutor(sql: Sql): BossExecutor {
  return {
    async executeSql(text, values) {
      return { rows: (await sql.query(text, (values ?? []).map(nullForUndefined))).rows }
    },
  }
}

// pg-boss is written for `pg`, which sends undefined as null; postgres.js refuses undefined.
const nullForUndefined = (v: unknown) => (v === undefined ? null : v)

export interface BossOptions {
  /** Run pg-boss maintenance (expiry, archiving) and the cron timekeeper in this process. */
  supervise: boolean
  /** Seconds between fetches when a queue is empty (pg-boss minimum 0.5). */
  pollingIntervalSeconds?: number
  /** Seconds between cron checks (1–45); tests lower it. */
  cronMonitorIntervalSeconds?: number
}

export function bossConfig(db: Db, opts: BossOptions): PgBoss.ConstructorOptions {
  return {
    db: driverExecutor(db),
    schema: BOSS_SCHEMA,
    migrate: true,
    supervise: opts.supervise,
    schedule: opts.supervise,
    pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2,
    cronMonitorIntervalSeconds: opts.cronMonitorIntervalSeconds ?? 30,
    cronWorkerIntervalSeconds: Math.min(5, opts.cronMonitorIntervalSeconds ?? 5),
    // Keep finished jobs a week in pg-boss; the domain row in public.jobs is what users see.
    archiveCompletedAfterSeconds: 60 * 60 * 12,
    deleteAfterDays: 7,
  }
}

/** A pg-boss that only writes (send, cancel) through a caller's transaction: never started, never polls. */
export function senderFor(sql: Sql): PgBoss {
  return new PgBoss({ db: sqlExecutor(sql), schema: BOSS_SCHEMA, migrate: false, supervise: false, schedule: false })
}

/** Creates pg-boss's schema (or migrates it to this pg-boss version), e.g. from `npm run db:migrate`. */
export async function migrateJobSchema(db: Db) {
  const boss = new PgBoss({ ...bossConfig(db, { supervise: false }) })
  boss.on('error', (e) => console.error('[jobs] pg-boss error', e))
  await boss.start()
  await boss.stop({ graceful: false, wait: true })
}

export async function jobSchemaExists(sql: Sql) {
  const { rows } = await sql.query<{ ok: boolean }>(`select to_regclass('${BOSS_SCHEMA}.queue') is not null as ok`)
  return rows[0].ok
}

type Running = { boss: PgBoss; db: Db; started: Promise<PgBoss>; supervise: boolean }
// One pg-boss per process: on globalThis it survives Vite re-running this module after an edit in dev (decision 005).
const g = globalThis as { __hotdashBoss?: Running }

/** Starts (once) the pg-boss of this process on `db`; a later call with another database replaces it (tests). */
export async function startBoss(db: Db, opts: BossOptions): Promise<PgBoss> {
  const current = g.__hotdashBoss
  if (current && current.db === db) return current.started
  if (current) await stopBoss()
  const boss = new PgBoss(bossConfig(db, opts))
  boss.on('error', (err) => logBossError(err))
  const started = boss.start()
  g.__hotdashBoss = { boss, db, started, supervise: opts.supervise }
  try {
    return await started
  } catch (err) {
    g.__hotdashBoss = undefined
    throw err
  }
}

export function currentBoss(): Running | undefined {
  return g.__hotdashBoss
}

export async function stopBoss(opts: { timeoutMs?: number } = {}) {
  const current = g.__hotdashBoss
  g.__hotdashBoss = undefined
  if (!current) return
  await current.started.catch(() => {})
  await current.boss.stop({ graceful: true, wait: true, close: false, timeout: opts.timeoutMs ?? 10_000 })
}

function logBossError(err: unknown) {
  const e = err as Error
  if (process.env.NODE_ENV === 'test' && process.env.LOG_ERRORS !== 'true') return
  process.stderr.write(JSON.stringify({ timestamp: new Date().toISOString(), level: 'error', source: 'pg-boss', message: e?.message, stack_trace: e?.stack }) + '\n')
}
