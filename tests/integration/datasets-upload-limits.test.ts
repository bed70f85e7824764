import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type postgres from 'postgres'
import { openPostgres, type Claims } from '#app/db/db.server.ts'
import { withLoadTx } from '#app/features/datasets/load/load-tx.server.ts'
import { admissionStats } from '#app/features/datasets/upload/admission.server.ts'
import { MAX_FILE_BYTES } from '#app/features/datasets/datasets.server.ts'
import { httpTimeouts } from '#app/http/server-timeouts.server.ts'
import { dedicatedThreadPool } from '#app/jobs/thread-pool.server.ts'
import { createTemplate, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { gate, multipartBody, sendMultipart, uploadLeftovers } from '#tests/support/multipart.ts'

/**
 * What an upload may hold, and for how long, on both engines: uploads side by side keep their own state
 * (datasets/upload/run.server.ts); a stalled client is cut off and everything it held is released; a slow but steady
 * one is not; a tenant has a cap on concurrent uploads (datasets/upload/admission.server.ts). On Postgres these
 * uploads are loaded while they arrive (their parameters are in the query string); on PGlite they are stored first.
 */

let app: TestApp
let t: TestTenant
let templateId: number

beforeAll(async () => {
  app = await setupTestApp()
  t = await app.createTenant()
  templateId = await createTemplate(app, t.admin, 'L', [
    { column_name: 'id', data_type: 'Integer' },
    { column_name: 'x', data_type: 'Float' },
  ])
  // Loads the upload route's modules, so a test's first upload is not timed with them.
  expect((await sendMultipart(app, t.admin, qs('warm-up'), multipartBody('w', [rows(10)]), 'w')).status).toBe(201)
})
afterAll(() => app.close())

const rows = (n: number, from = 1) => 'id,x\n' + Array.from({ length: n }, (_, i) => `${from + i},${(from + i) / 4}`).join('\n') + '\n'
const qs = (name: string) => `dataset_name=${name}&usage=t&template_id=${templateId}`

describe('two uploads at once', () => {
  it("keep their own timings: neither's phases are measured from the other's start", async () => {
    const saved = process.env.HD_UPLOAD_TIMING
    process.env.HD_UPLOAD_TIMING = '1'
    const lines: string[] = []
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')))
    try {
      // A: ~2.4 MB whose client pauses after 1 MiB; B starts 4 s after A and finishes while A waits.
      const paused = gate()
      const aStart = performance.now()
      const a = sendMultipart(app, t.admin, qs('timing-a'), multipartBody('ta', [rows(150_000)], { pauseAt: 1024 * 1024, resume: paused.opened }), 'ta')
      await new Promise((r) => setTimeout(r, 4000))
      const bStart = performance.now()
      const b = await sendMultipart(app, t.admin, qs('timing-b'), multipartBody('tb', [rows(2_000, 1_000_000)]), 'tb')
      const bElapsed = performance.now() - bStart
      expect(b.status).toBe(201)
      paused.release()
      const ra = await a
      const aElapsed = performance.now() - aStart
      expect(ra.status).toBe(201)

      const byUpload = new Map<string, Map<string, number>>()
      for (const l of lines) {
        const m = /^\[upload ([0-9a-f]{8})\] (.+) after (\d+) ms$/.exec(l)
        if (!m) continue
        if (!byUpload.has(m[1])) byUpload.set(m[1], new Map())
        byUpload.get(m[1])!.set(m[2], Number(m[3]))
      }
      expect(byUpload.size).toBe(2)
      const [first, second] = [...byUpload.values()].sort((p, q) => q.get('committed')! - p.get('committed')!)
      for (const phases of [first, second]) {
        const order = ['received', 'loaded', 'committed'].map((p) => phases.get(p))
        expect(order.every((v) => v !== undefined)).toBe(true)
        expect(order).toEqual([...order].sort((p, q) => p! - q!))
      }
      // Each upload's 'committed' is its own elapsed time: A's is not short by the 4 s between the two starts
      // (what a start time shared by all uploads gave). The margin is the request's work before the upload starts
      // (authentication, routing), which a loaded CI machine stretches.
      expect(first.get('committed')!).toBeGreaterThan(aElapsed - 2500)
      expect(first.get('committed')!).toBeLessThanOrEqual(aElapsed + 50)
      expect(second.get('committed')!).toBeLessThanOrEqual(bElapsed + 50)
    } finally {
      log.mockRestore()
      if (saved === undefined) delete process.env.HD_UPLOAD_TIMING
      else process.env.HD_UPLOAD_TIMING = saved
    }
  }, 60_000)
})

/** Sets environment variables for one test and puts them back. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  Object.assign(process.env, vars)
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, ms = 10_000) {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const leftovers = () => uploadLeftovers(app, t.id)

/** Sessions of this database other than ours holding a transaction open or running a COPY (Postgres). */
async function busySessions() {
  if (app.db.engine !== 'postgres') return 0
  const { rows } = await app.db.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and (state like 'idle in transaction%' or (state = 'active' and query ilike 'copy%'))`,
  )
  return rows[0].n
}

const livePool = () => dedicatedThreadPool('datasets.upload-live', 2)

describe('a stalled client', () => {
  it.each([
    ['mid-file', 512 * 1024, 1],
    ['between two files', 0, 2],
  ])('%s is cut off with a 408; its transaction, connection and thread are released and nothing is kept', async (_, pauseIn, fileCount) => {
    await withEnv({ HD_UPLOAD_IDLE_SECONDS: '1' }, async () => {
      const before = await leftovers()
      const first = rows(60_000)
      const files = fileCount === 1 ? [first] : [first, rows(1_000, 500_000)]
      // Stops for good (until the test ends) at pauseIn bytes into the body, or just after the first file.
      const stop = gate(30_000)
      const pauseAt = pauseIn || Buffer.byteLength(first) + 1024
      const t0 = performance.now()
      const r = await sendMultipart(app, t.admin, qs(`stalled-${fileCount}`), multipartBody(`s${fileCount}`, files, { pauseAt, resume: stop.opened }), `s${fileCount}`)
      const took = performance.now() - t0
      stop.release()
      expect(r.status, JSON.stringify(r.body)).toBe(408)
      expect(r.body.error).toMatchObject({ code: 'REQUEST_TIMEOUT', details: { fields: [{ field: 'files' }] } })
      expect(took).toBeLessThan(10_000)
      expect(await leftovers()).toEqual(before)
      expect(admissionStats()).toEqual({ uploads: {}, live: 0, side: 0 })
      await waitFor('the live thread to be free', () => livePool().stats().busy === 0)
      await waitFor('no session to hold a transaction', async () => (await busySessions()) === 0)
    })
  }, 60_000)

  it('a slow but steady client is not cut off, even waiting longer than the limits in all', async () => {
    await withEnv({ HD_UPLOAD_IDLE_SECONDS: '1' }, async () => {
      const first = rows(30_000)
      const second = rows(40_000, 700_000)
      // The second file comes at 64 KiB per 0.4 s: ~3.5 s of the live load's transaction waiting for it (its idle
      // limit here is 2 s: it is kept alive while bytes come), each pause under the 1 s client limit.
      const r = await sendMultipart(app, t.admin, qs('steady'), multipartBody('st', [first, second], { pace: { from: Buffer.byteLength(first) + 512, everyMs: 400 } }), 'st')
      expect(r.status, JSON.stringify(r.body)).toBe(201)
      expect(r.body.files.map((f: any) => f.total_records)).toEqual([30_000, 40_000])
    })
  }, 60_000)

  it.runIf(process.env.TEST_DATABASE_URL)('Postgres ends an upload transaction the process stopped driving', async () => {
    await withEnv({ HD_UPLOAD_IDLE_SECONDS: '0.5' }, async () => {
      // A pool of its own: the session Postgres ends is never used again (postgres.js 3.4.9 must not write to a
      // connection the server closed: porsager/postgres#1208), as a wedged load would never resume.
      const db = openPostgres(app.url!, { max: 1 })
      const claims: Claims = { sub: t.admin.userId, role: 'authenticated', aud: 'authenticated', app_metadata: { tenant_id: t.id, roles: ['admin'] } }
      let pid = 0
      const wedged = withLoadTx(db, claims, async (tx) => {
        pid = (await tx.query<{ pid: number }>(`select pg_backend_pid() as pid`)).rows[0].pid
        expect((await tx.query<{ v: string }>(`select current_setting('idle_in_transaction_session_timeout') as v`)).rows[0].v).toBe('1s')
        await new Promise(() => {}) // the load stops here for good
      })
      wedged.catch(() => {})
      await waitFor('the session to start', () => pid > 0)
      await waitFor('Postgres to end the idle session', async () => !(await app.db.query(`select 1 from pg_stat_activity where pid = $1`, [pid])).rows.length, 5000)
      await (db.raw as postgres.Sql).end({ timeout: 0.1 })
    })
  }, 30_000)
})

describe('the HTTP server', () => {
  it('lets the largest upload through at a modest rate (its limits: app/http/server-timeouts.server.test.ts)', () => {
    // One file of MAX_FILE_BYTES at 0.6 MB/s (about 5 Mbit/s) is received within the server's request timeout.
    expect(httpTimeouts({}).requestTimeoutMs).toBeGreaterThanOrEqual((MAX_FILE_BYTES / 600_000) * 1000)
  })
})

describe('concurrent uploads per tenant', () => {
  it('over HD_UPLOAD_TENANT_MAX is a 429 naming concurrent_uploads; other tenants and later uploads go through', async () => {
    await withEnv({ HD_UPLOAD_TENANT_MAX: '2' }, async () => {
      const other = await app.createTenant()
      const otherTemplate = await createTemplate(app, other.admin, 'O', [{ column_name: 'id', data_type: 'Integer' }, { column_name: 'x', data_type: 'Float' }])
      const held = gate()
      const slow = [1, 2].map((i) => sendMultipart(app, t.admin, qs(`held-${i}`), multipartBody(`h${i}`, [rows(20_000)], { pauseAt: 64 * 1024, resume: held.opened }), `h${i}`))
      await waitFor('two uploads to be admitted', () => admissionStats().uploads[t.id] === 2)
      const refused = await sendMultipart(app, t.admin, qs('third'), multipartBody('h3', [rows(10)]), 'h3')
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toBe('10')
      expect(refused.body.error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { limit: 'concurrent_uploads', max: 2, retry_after: 10 } })
      const elsewhere = await sendMultipart(app, other.admin, `dataset_name=o&usage=t&template_id=${otherTemplate}`, multipartBody('h4', [rows(10)]), 'h4')
      expect(elsewhere.status).toBe(201)
      held.release()
      expect((await Promise.all(slow)).map((r) => r.status)).toEqual([201, 201])
      expect(admissionStats().uploads).toEqual({})
      expect((await sendMultipart(app, t.admin, qs('third'), multipartBody('h5', [rows(10)]), 'h5')).status).toBe(201)
    })
  }, 60_000)
})
