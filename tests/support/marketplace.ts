import crypto from 'node:crypto'
import postgres from 'postgres'
import { expect } from 'vitest'
import { stopWorker } from '#app/jobs/jobs.server.ts'
import { json, type TestApp, type TestUser } from './app.ts'

/*
  Provider databases for marketplace tests: a scratch database on the machine's Postgres and one on MariaDB, each with
  an `orders` table and a read-only user with a password (the credential the tests look for in every response and log
  line). Dropped at the end.
*/

export const PG_ADMIN = process.env.MARKETPLACE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root' }

export interface ProviderDb {
  database: string
  user: string
  password: string
  orders: { region: string; day: string; total: number }[]
  drop(): Promise<void>
}

export function orderRows(n = 60) {
  const regions = ['north', 'south', 'east']
  return Array.from({ length: n }, (_, i) => ({
    region: regions[i % 3],
    day: new Date(Date.UTC(2025, 0, 1 + (i % 28))).toISOString().slice(0, 10),
    total: Math.round(((i * 37) % 500) + 10.25 * (i % 7)) / 1,
  }))
}

export async function providerPostgres(): Promise<ProviderDb> {
  const tag = crypto.randomBytes(4).toString('hex')
  const database = `hd_mk_${tag}`
  const user = `hd_mk_reader_${tag}`
  const password = `pg-secret-${crypto.randomBytes(12).toString('hex')}`
  const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${database}`)
  await admin.unsafe(`create role ${user} login password '${password}'`)
  await admin.end()
  const db = postgres(PG_ADMIN.replace(/\/[^/]*$/, `/${database}`), { max: 1, onnotice: () => {} })
  const orders = orderRows()
  await db.unsafe(`create table public.orders (id serial primary key, region text not null, day date not null, total numeric(10,2) not null)`)
  for (const o of orders) await db`insert into public.orders (region, day, total) values (${o.region}, ${o.day}, ${o.total})`
  await db.unsafe(`grant select on public.orders to ${user}`)
  await db.end()
  return {
    database,
    user,
    password,
    orders,
    async drop() {
      const a = postgres(PG_ADMIN, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists ${database} with (force)`)
      await a.unsafe(`drop role if exists ${user}`)
      await a.end()
    },
  }
}

/**
 * A provider Postgres database (providerPostgres) registered as a data source by `user` through the API (201 checked);
 * the database is dropped again if the registration fails.
 */
export async function providerPostgresSource(app: TestApp, user: TestUser, name = 'Provider Postgres') {
  const pg = await providerPostgres()
  const src = await json(
    app.fetch('/api/v1/analytics/data-sources', {
      method: 'POST',
      headers: user.auth,
      json: { name, type: 'postgres', connection_config: { host: '127.0.0.1', port: 5432, database: pg.database, username: pg.user, password: pg.password } },
    }),
  )
  if (src.status !== 201) await pg.drop()
  expect(src.status, JSON.stringify(src.body)).toBe(201)
  return { pg, sourceId: src.body.data.source_id as string }
}

/**
 * The environment marketplace tests run in: loopback sources and callback receivers allowed (HD_ALLOW_PRIVATE_TARGETS),
 * and with `logJobs` the job lines printed (tests search them for secrets). `restore()` puts both back.
 */
export function marketplaceEnv(opts: { logJobs?: boolean } = {}) {
  const saved = { allow: process.env.HD_ALLOW_PRIVATE_TARGETS, log: process.env.LOG_JOBS }
  process.env.HD_ALLOW_PRIVATE_TARGETS = '127.0.0.1/32'
  if (opts.logJobs) process.env.LOG_JOBS = 'true'
  const put = (k: string, v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v))
  return {
    restore() {
      put('HD_ALLOW_PRIVATE_TARGETS', saved.allow)
      put('LOG_JOBS', saved.log)
    },
  }
}

/** A marketplace test file's afterAll, in order: output and environment back, the worker stopped, app, database and receiver closed. */
export async function closeMarketplaceTest(r: {
  output?: { restore(): void }
  env?: { restore(): void }
  worker?: boolean
  app?: TestApp
  pg?: ProviderDb
  receiver?: { close(): Promise<void> }
}) {
  r.output?.restore()
  r.env?.restore()
  if (r.worker) await stopWorker({ timeoutMs: 2000 })
  await r.app?.close()
  await r.pg?.drop()
  await r.receiver?.close()
}

export async function providerMysql(): Promise<ProviderDb> {
  const mysql = (await import('mysql2/promise')).default
  const tag = crypto.randomBytes(4).toString('hex')
  const database = `hd_mk_${tag}`
  const user = `hd_mk_${tag}`
  const password = `my-secret-${crypto.randomBytes(12).toString('hex')}`
  const c = await mysql.createConnection(MYSQL)
  const orders = orderRows()
  await c.query(`create database ${database}`)
  await c.query(`create table ${database}.orders (id int auto_increment primary key, region varchar(20) not null, day date not null, total decimal(10,2) not null)`)
  for (const o of orders) await c.query(`insert into ${database}.orders (region, day, total) values (?, ?, ?)`, [o.region, o.day, o.total])
  await c.query(`create user '${user}'@'%' identified by '${password}'`)
  await c.query(`grant select on ${database}.* to '${user}'@'%'`)
  await c.end()
  return {
    database,
    user,
    password,
    orders,
    async drop() {
      const d = await mysql.createConnection(MYSQL)
      await d.query(`drop database if exists ${database}`)
      await d.query(`drop user if exists '${user}'@'%'`)
      await d.end()
    },
  }
}

/** Copies every stdout/stderr line into `lines` (still printed) until `restore()`: tests search them for secrets. */
export function captureOutput() {
  const lines: string[] = []
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) }
  const tee = (write: typeof writes.out) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      lines.push(String(chunk))
      return write(chunk as string, ...(rest as []))
    }) as typeof process.stdout.write
  process.stdout.write = tee(writes.out)
  process.stderr.write = tee(writes.err)
  return {
    lines,
    restore() {
      process.stdout.write = writes.out
      process.stderr.write = writes.err
    },
  }
}

export interface ReceivedWebhook {
  at: number
  headers: import('node:http').IncomingHttpHeaders
  body: string
}

/**
 * A webhook receiver on 127.0.0.1: records every request by path (raw body, headers, time) and answers the status
 * codes `script[path]` lists in turn (the last one repeats; 200 when none).
 */
export async function webhookReceiver() {
  const http = await import('node:http')
  const received: Record<string, ReceivedWebhook[]> = {}
  const script: Record<string, number[]> = {}
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (ch: Buffer) => chunks.push(ch))
    req.on('end', () => {
      const path = req.url ?? '/'
      ;(received[path] ??= []).push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      const codes = script[path] ?? [200]
      res.writeHead(codes.length > 1 ? codes.shift()! : codes[0]).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as import('node:net').AddressInfo
  return { base: `http://127.0.0.1:${port}`, received, script, close: () => new Promise<void>((r) => server.close(() => r())) }
}
