import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { asCaller, type Claims } from '#app/db/db.server.ts'
import { currentBoss } from '#app/jobs/boss.server.ts'
import { cancelJob, defineJob, defineSchedule, enqueueJob, reconcileJobs, startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { pruneExpiredCredentials } from '#app/jobs/maintenance.server.ts'
import { closeThreadPool, getThreadPool, runInThread } from '#app/jobs/thread-pool.server.ts'
import '#app/jobs/maintenance.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

vi.setConfig({ testTimeout: 60_000 })

/*
  The job system end to end on the test database (PGlite, or TEST_DATABASE_URL): pg-boss really polls,
  handlers really run, and the mirror rows in public.jobs are read back through the API as the users see them.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant

// Handlers the tests steer: gates they wait on and what they observed.
const gates = new Map<string, () => void>()
const observed = { aborted: new Set<string>(), cronRuns: 0 }
const gate = (key: string) => new Promise<void>((resolve) => gates.set(key, resolve))

defineJob<{ n: number }>('test.double', async (data, ctx) => {
  await ctx.progress(50, 'halfway')
  return { doubled: data.n * 2, tenant: ctx.tenantId }
})
defineJob<{ key: string }>('test.steps', async (data, ctx) => {
  await ctx.progress(30, 'step 1 of 3')
  await gate(data.key)
  await ctx.progress(90, 'step 3 of 3')
  return { ok: true }
})
defineJob<{ key: string }>('test.until-cancelled', async (data, ctx) => {
  await ctx.progress(10, 'working')
  await new Promise<void>((resolve) => {
    ctx.signal.addEventListener('abort', () => {
      observed.aborted.add(data.key)
      resolve()
    })
  })
  ctx.signal.throwIfAborted()
})
defineJob<{ key: string }>('test.rounds', async (data, ctx) => {
  for (let k = 1; k <= 3; k++) {
    await ctx.step(`training round ${k} of 3`, k * 30)
    if (k === 2) await gate(data.key)
  }
  await ctx.log('validation loss 0.25', 'warn')
  return { rounds: 3 }
})
defineJob('test.fails', async () => {
  throw new Error('the input had no rows')
})
defineJob<{ ms: number }>('test.cpu', async (data, ctx) => {
  await ctx.progress(5, 'training')
  return runInThread('#app/jobs/thread-pool.fixture.ts', 'spin', data.ms, { signal: ctx.signal })
})
const CRON_NAME = `test.cron-${crypto.randomBytes(4).toString('hex')}`
defineSchedule(CRON_NAME, '* * * * *', async () => {
  observed.cronRuns++
  return { ran: true }
})

const claimsOf = (t: TestTenant, role: 'admin' | 'viewer' = 'admin'): Claims => ({
  sub: t[role].userId,
  role: 'authenticated',
  aud: 'authenticated',
  app_metadata: { tenant_id: t.id, roles: [role] },
})

// Generous: on a loaded 2-core CI machine the worker's polling can lag well behind.
async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 25_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const row = async (id: string) => (await app.db.query(`select * from public.jobs where id = $1`, [id])).rows[0]
const waitStatus = (id: string, status: string, timeoutMs?: number) =>
  waitFor(`job ${id} to be ${status}`, async () => ((await row(id))?.status === status ? row(id) : null), timeoutMs)
const bossState = async (id: string) => (await app.db.query(`select state::text from pgboss.job where id = $1`, [id])).rows[0]?.state

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  const t = Date.now()
  await startWorker(app.db, { pollingIntervalSeconds: 0.5, cronMonitorIntervalSeconds: 1 })
  console.info(`[jobs.test] worker started on ${app.engine} in ${Date.now() - t} ms`)
})
afterAll(async () => {
  await stopWorker({ timeoutMs: 1000 })
  await closeThreadPool()
  await app.close()
})

describe('enqueue → worker → mirror row', () => {
  it('runs a job enqueued in a caller transaction and records its result', async () => {
    const t = Date.now()
    const { id } = await asCaller(app.db, claimsOf(a), (tx) =>
      enqueueJob(tx, 'test.double', { n: 21 }, { tenantId: a.id, createdBy: a.admin.userId }),
    )
    const done = await waitStatus(id, 'completed')
    console.info(`[jobs.test] enqueue → completed in ${Date.now() - t} ms`)
    expect(done).toMatchObject({ tenant_id: a.id, name: 'test.double', progress: 100, result: { doubled: 42, tenant: a.id }, error: null })
    expect(done.created_by).toBe(a.admin.userId)
    expect(done.started_at.getTime()).toBeLessThanOrEqual(done.finished_at.getTime())
    // pg-boss marks its job completed once the handler has returned, just after the row.
    await waitFor('pg-boss completed state', async () => (await bossState(id)) === 'completed')

    const api = await json(app.fetch(`/api/v1/jobs/${id}`, { headers: a.viewer.auth }))
    expect(api.status).toBe(200)
    expect(api.body).toMatchObject({ id, status: 'completed', progress: 100, result: { doubled: 42 }, error: null })
  })

  it('leaves no job behind when the request transaction rolls back', async () => {
    let id = ''
    await expect(
      asCaller(app.db, claimsOf(a), async (tx) => {
        id = (await enqueueJob(tx, 'test.double', { n: 1 }, { tenantId: a.id })).id
        throw new Error('request failed later')
      }),
    ).rejects.toThrow('request failed later')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(await row(id)).toBeUndefined()
    expect(await bossState(id)).toBeUndefined()
  })

  it('restores the caller role after enqueueing (RLS still applies in the rest of the transaction)', async () => {
    const seen = await asCaller(app.db, claimsOf(a, 'viewer'), async (tx) => {
      await enqueueJob(tx, 'test.double', { n: 2 }, { tenantId: a.id })
      const who = await tx.query(`select current_user::text as role`)
      const rows = await tx.query(`select distinct tenant_id from public.jobs`)
      return { role: who.rows[0].role, tenants: rows.rows.map((r) => r.tenant_id) }
    })
    expect(seen).toEqual({ role: 'authenticated', tenants: [a.id] })
  })

  it('refuses to enqueue for another tenant than the caller’s', async () => {
    await expect(asCaller(app.db, claimsOf(a), (tx) => enqueueJob(tx, 'test.double', { n: 1 }, { tenantId: b.id }))).rejects.toThrow(
      /cannot manage jobs of tenant/,
    )
  })

  it('returns the queued job for a repeated singleton key instead of adding one', async () => {
    const key = crypto.randomUUID()
    const first = await enqueueJob(app.db, 'test.steps', { key }, { tenantId: a.id, singletonKey: 'nightly' })
    const again = await enqueueJob(app.db, 'test.steps', { key }, { tenantId: a.id, singletonKey: 'nightly' })
    expect(again).toEqual({ id: first.id, existing: true })
    const otherTenant = await enqueueJob(app.db, 'test.double', { n: 1 }, { tenantId: b.id, singletonKey: 'nightly' })
    expect(otherTenant.existing).toBeUndefined()
    await waitStatus(first.id, 'running')
    // 'running' is written before the handler reaches its gate: wait for the gate itself
    ;(await waitFor('the handler at its gate', async () => gates.get(key)))()
    await waitStatus(first.id, 'completed')
    const third = await enqueueJob(app.db, 'test.steps', { key: 'x' }, { tenantId: a.id, singletonKey: 'nightly' })
    expect(third.id).not.toBe(first.id)
    await cancelJob(app.db, third.id)
  })

  it('makes progress visible while the job runs', async () => {
    const key = crypto.randomUUID()
    const { id } = await enqueueJob(app.db, 'test.steps', { key }, { tenantId: a.id })
    await waitFor('progress 30', async () => (await row(id))?.progress === 30)
    const mid = await json(app.fetch(`/api/v1/jobs/${id}`, { headers: a.viewer.auth }))
    expect(mid.body).toMatchObject({ status: 'running', progress: 30, message: 'step 1 of 3' })
    ;(await waitFor('the handler at its gate', async () => gates.get(key)))()
    const done = await waitStatus(id, 'completed')
    expect(done).toMatchObject({ progress: 100, message: 'step 3 of 3', result: { ok: true } })
  })

  it('records a failed job with its error', async () => {
    const { id } = await enqueueJob(app.db, 'test.fails', {}, { tenantId: a.id })
    const failed = await waitStatus(id, 'failed')
    expect(failed.error).toBe('the input had no rows')
    expect(failed.finished_at).toBeInstanceOf(Date)
    await waitFor('pg-boss failed state', async () => (await bossState(id)) === 'failed')
    const api = await json(app.fetch(`/api/v1/jobs/${id}`, { headers: a.viewer.auth }))
    expect(api.body).toMatchObject({ status: 'failed', error: 'the input had no rows' })
  })
})

describe('job log', () => {
  const logsOf = async (id: string, auth: Record<string, string>, q = '') => json(app.fetch(`/api/v1/jobs/${id}/logs${q}`, { headers: auth }))

  it("a handler's steps set the current step and progress and append to the log, read through the API", async () => {
    const key = crypto.randomUUID()
    const { id } = await enqueueJob(app.db, 'test.rounds', { key }, { tenantId: a.id })
    await waitFor('round 2', async () => (await row(id))?.message === 'training round 2 of 3')
    const mid = await json(app.fetch(`/api/v1/jobs/${id}`, { headers: a.viewer.auth }))
    expect(mid.body).toMatchObject({ status: 'running', progress: 60, message: 'training round 2 of 3' })
    const first = await logsOf(id, a.viewer.auth)
    expect(first.status).toBe(200)
    expect(first.body.logs.map((l: any) => l.message)).toEqual(['Started', 'training round 1 of 3', 'training round 2 of 3'])
    gates.get(key)!()
    await waitStatus(id, 'completed')
    // Following the log: only the lines after the last one read.
    const rest = await logsOf(id, a.viewer.auth, `?after=${first.body.next_after}`)
    expect(rest.body.logs.map((l: any) => [l.level, l.message])).toEqual([
      ['info', 'training round 3 of 3'],
      ['warn', 'validation loss 0.25'],
      ['info', 'Completed'],
    ])
    expect(rest.body.job_id).toBe(id)
    const ids = [...first.body.logs, ...rest.body.logs].map((l: any) => l.id)
    expect(ids).toEqual([...ids].sort((p, q) => p - q))
    expect((await logsOf(id, a.viewer.auth, `?after=${rest.body.next_after}`)).body).toMatchObject({ logs: [], next_after: rest.body.next_after })
    const two = await logsOf(id, a.viewer.auth, '?limit=2')
    expect(two.body.logs).toHaveLength(2)
    expect((await logsOf(id, a.viewer.auth, '?limit=0')).body.error.details.fields[0].field).toBe('limit')
    // The log ends with the job's own status: one state.
    expect(await row(id)).toMatchObject({ status: 'completed', progress: 100, message: 'training round 3 of 3', result: { rounds: 3 } })
  })

  it("records failure and cancellation in the log; another tenant's log is a 404", async () => {
    const failed = await enqueueJob(app.db, 'test.fails', {}, { tenantId: a.id })
    await waitStatus(failed.id, 'failed')
    const f = await logsOf(failed.id, a.viewer.auth)
    expect(f.body.logs.map((l: any) => [l.level, l.message])).toEqual([
      ['info', 'Started'],
      ['error', 'Failed: the input had no rows'],
    ])
    const key = crypto.randomUUID()
    const { id } = await enqueueJob(app.db, 'test.until-cancelled', { key }, { tenantId: a.id })
    await waitStatus(id, 'running')
    await cancelJob(app.db, id)
    await waitFor('the cancelled line', async () => (await logsOf(id, a.viewer.auth)).body.logs.some((l: any) => l.message === 'Cancelled'))
    expect((await logsOf(id, a.viewer.auth)).body.logs.map((l: any) => l.message)).toEqual(['Started', 'Cancellation requested', 'Cancelled'])
    expect((await logsOf(id, b.admin.auth)).status).toBe(404)
    expect((await logsOf(crypto.randomUUID(), a.admin.auth)).status).toBe(404)
    expect((await logsOf('not-a-uuid', a.admin.auth)).status).toBe(404)
  })

  it('members read only their tenant’s log lines, cannot write them, and nobody can change one', async () => {
    const { id } = await enqueueJob(app.db, 'test.double', { n: 4 }, { tenantId: b.id })
    await waitStatus(id, 'completed')
    const seen = await asCaller(app.db, claimsOf(a, 'viewer'), async (tx) => (await tx.query(`select 1 from public.job_logs where job_id = $1`, [id])).rows)
    expect(seen).toEqual([])
    await expect(
      asCaller(app.db, claimsOf(b), (tx) => tx.query(`insert into public.job_logs (job_id, tenant_id, message) values ($1, $2, 'forged')`, [id, b.id])),
    ).rejects.toThrow(/permission denied|row-level security/)
    // A line cannot name a job of another tenant, and a line once written stays as written (even for the owner).
    await expect(app.db.query(`insert into public.job_logs (job_id, tenant_id, message) values ($1, $2, 'x')`, [id, a.id])).rejects.toThrow(/foreign key/)
    await expect(app.db.query(`update public.job_logs set message = 'rewritten' where job_id = $1`, [id])).rejects.toThrow(/append-only/)
  })
})

describe('cancellation', () => {
  it('terminate_ray_job aborts the running handler and marks the job cancelled', async () => {
    const key = crypto.randomUUID()
    const { id } = await enqueueJob(app.db, 'test.until-cancelled', { key }, { tenantId: a.id })
    await waitStatus(id, 'running')
    const r = await json(app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=${id}&usage=training`, { method: 'POST', headers: a.data_scientist.auth }))
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ status: 'success', message: `Termination request for Ray job '${id}' has been sent.` })
    await waitFor('the handler to see the abort', async () => observed.aborted.has(key))
    const cancelled = await row(id)
    expect(cancelled).toMatchObject({ status: 'cancelled', error: null })
    expect(cancelled.finished_at).toBeInstanceOf(Date)
    expect(await bossState(id)).toBe('cancelled')
    // Cancelling again is still a success; the job stays cancelled.
    const again = await app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=${id}&usage=training`, { method: 'POST', headers: a.admin.auth })
    expect(again.status).toBe(200)
  })

  it('reaches a handler when another process marks the row cancelled (worker poll)', async () => {
    const key = crypto.randomUUID()
    const { id } = await enqueueJob(app.db, 'test.until-cancelled', { key }, { tenantId: a.id })
    await waitStatus(id, 'running')
    const t = Date.now()
    await app.db.query(`update public.jobs set status = 'cancelled' where id = $1`, [id])
    await waitFor('the poll to abort the handler', async () => observed.aborted.has(key), 5000)
    expect(Date.now() - t).toBeLessThan(2500)
    await waitFor('pg-boss cancelled state', async () => (await bossState(id)) === 'cancelled')
  })

  it('cancels a queued job before it starts', async () => {
    // No worker for this name: the job stays queued until cancelled.
    const { id } = await enqueueJob(app.db, 'test.nobody-works-this', {}, { tenantId: a.id })
    expect(await cancelJob(app.db, id)).toMatchObject({ id, status: 'cancelled', changed: true })
    expect((await row(id)).status).toBe('cancelled')
    expect(await bossState(id)).toBe('cancelled')
  })

  it('terminates CPU work running in a pool thread', async () => {
    const { id } = await enqueueJob(app.db, 'test.cpu', { ms: 20_000 }, { tenantId: a.id })
    await waitFor('progress 5', async () => (await row(id))?.progress === 5)
    await new Promise((r) => setTimeout(r, 200))
    const t = Date.now()
    const r = await app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=${id}&usage=training`, { method: 'POST', headers: a.admin.auth })
    expect(r.status).toBe(200)
    await waitStatus(id, 'cancelled')
    // The handler settled long before the 20 s loop would have: the thread was terminated.
    await waitFor('the pool thread to be freed', async () => getThreadPool().stats().busy === 0, 3000)
    expect(Date.now() - t).toBeLessThan(3000)
    // The pool still works afterwards.
    const { id: next } = await enqueueJob(app.db, 'test.cpu', { ms: 50 }, { tenantId: a.id })
    expect((await waitStatus(next, 'completed')).result).toMatchObject({ threadId: expect.any(Number) })
  })

  it('answers 404 for another tenant’s job, unknown ids and non-ids; 403 without jobs.manage; 400 without usage', async () => {
    const key = crypto.randomUUID()
    const { id } = await enqueueJob(app.db, 'test.steps', { key }, { tenantId: a.id })
    const post = (q: string, auth: Record<string, string>) => json(app.fetch(`/api/v1/ray/terminate_ray_job?${q}`, { method: 'POST', headers: auth }))
    expect((await post(`ray_job_id=${id}&usage=training`, b.admin.auth)).status).toBe(404)
    expect((await post(`ray_job_id=${crypto.randomUUID()}&usage=training`, a.admin.auth)).status).toBe(404)
    const bad = await post(`ray_job_id=ray-job-abc123&usage=training`, a.admin.auth)
    expect(bad.status).toBe(404)
    expect(bad.body.error.code).toBe('NOT_FOUND')
    expect((await post(`ray_job_id=${id}&usage=training`, a.viewer.auth)).status).toBe(403)
    const missing = await post(`ray_job_id=${id}`, a.admin.auth)
    expect(missing.status).toBe(400)
    expect(missing.body.error.details.fields[0].field).toBe('usage')
    expect((await json(app.fetch(`/api/v1/jobs/${id}`, { headers: b.viewer.auth }))).status).toBe(404)
    expect((await json(app.fetch(`/api/v1/jobs/not-a-uuid`, { headers: a.viewer.auth }))).status).toBe(404)
    expect((await row(id)).status).not.toBe('cancelled')
    await cancelJob(app.db, id)
    gates.get(key)?.()
  })

  it('refuses to cancel a finished job with 409', async () => {
    const { id } = await enqueueJob(app.db, 'test.double', { n: 3 }, { tenantId: a.id })
    await waitStatus(id, 'completed')
    const r = await json(app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=${id}&usage=x`, { method: 'POST', headers: a.admin.auth }))
    expect(r.status).toBe(409)
    expect(r.body.error.code).toBe('CONFLICT')
  })
})

describe('recovery', () => {
  it('reconciles rows whose worker died with what pg-boss decided', async () => {
    const lost = await enqueueJob(app.db, 'test.nobody-works-this', {}, { tenantId: a.id })
    const retried = await enqueueJob(app.db, 'test.nobody-works-this', {}, { tenantId: a.id })
    // As a crashed worker leaves them: rows running, pg-boss expired one to failed and one to retry.
    await app.db.query(`update public.jobs set status = 'running', started_at = now() where id = any($1::uuid[])`, [[lost.id, retried.id]])
    await app.db.query(`update pgboss.job set state = 'failed' where id = $1`, [lost.id])
    await app.db.query(`update pgboss.job set state = 'retry' where id = $1`, [retried.id])
    expect(await reconcileJobs(app.db)).toBe(2)
    expect(await row(lost.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/worker lost or timed out/) })
    expect(await row(retried.id)).toMatchObject({ status: 'queued' })
    const lines = async (id: string) => (await app.db.query(`select level, message from public.job_logs where job_id = $1 order by id`, [id])).rows
    expect(await lines(lost.id)).toEqual([{ level: 'error', message: expect.stringMatching(/worker lost or timed out/) }])
    expect(await lines(retried.id)).toEqual([{ level: 'warn', message: expect.stringMatching(/queued again/) }])
    expect(await reconcileJobs(app.db)).toBe(0)
    await cancelJob(app.db, retried.id)
  })
})

describe('row-level security on public.jobs', () => {
  it('members read only their tenant’s jobs and cannot write any', async () => {
    await enqueueJob(app.db, 'test.double', { n: 5 }, { tenantId: b.id })
    const seen = await asCaller(app.db, claimsOf(b, 'viewer'), async (tx) => (await tx.query(`select distinct tenant_id from public.jobs`)).rows)
    expect(seen).toEqual([{ tenant_id: b.id }])
    await expect(
      asCaller(app.db, claimsOf(b), (tx) => tx.query(`insert into public.jobs (id, tenant_id, name) values ($1, $2, 'x')`, [crypto.randomUUID(), b.id])),
    ).rejects.toThrow(/permission denied|row-level security/)
    const updated = await asCaller(app.db, claimsOf(b), async (tx) => {
      try {
        return (await tx.query(`update public.jobs set status = 'completed'`)).rowCount
      } catch (e) {
        return (e as Error).message
      }
    })
    expect(String(updated)).toMatch(/permission denied|^0$/)
  })
})

describe('schedules (cron)', () => {
  it('registers maintenance.prune in pg-boss and runs a schedule when its cron fires', async () => {
    const { rows } = await app.db.query(`select name, cron, timezone from pgboss.schedule order by name`)
    expect(rows).toContainEqual({ name: 'maintenance.prune', cron: '17 * * * *', timezone: 'UTC' })
    expect(rows).toContainEqual({ name: CRON_NAME, cron: '* * * * *', timezone: 'UTC' })
    // '* * * * *' is due every minute; the timekeeper checks every second in tests.
    await waitFor('the cron job to run', async () => observed.cronRuns > 0, 15_000)
  })

  it('maintenance.prune deletes expired refresh tokens and long-dead API keys only', async () => {
    const db = app.db
    const session = (await db.query(`insert into app.auth_sessions (user_id) values ($1) returning id`, [a.admin.userId])).rows[0].id
    const token = (expires: string) =>
      db.query(`insert into app.refresh_tokens (session_id, token_hash, expires_at) values ($1, $2, now() + $3::interval) returning id`, [
        session,
        crypto.randomUUID(),
        expires,
      ])
    const expiredToken = (await token('-1 minute')).rows[0].id
    const liveToken = (await token('1 day')).rows[0].id
    const client = (
      await db.query(`insert into public.api_clients (tenant_id, name, client_id, secret_hash) values ($1, 'c', $2, 'x') returning id`, [
        a.id,
        `cli-${crypto.randomUUID()}`,
      ])
    ).rows[0].id
    const key = (expires: string, revoked: string | null) =>
      db
        .query(
          `insert into public.api_keys (tenant_id, api_client_id, prefix, key_hash, scopes, expires_at, revoked_at)
           values ($1, $2, 'hd_', $3, '{}', now() + $4::interval, now() + $5::interval) returning id`,
          [a.id, client, crypto.randomUUID(), expires, revoked],
        )
        .then((r) => r.rows[0].id as string)
    const oldExpired = await key('-31 days', null)
    const oldRevoked = await key('30 days', '-31 days')
    const recentlyExpired = await key('-2 days', null)
    const recentlyRevoked = await key('30 days', '-1 day')
    const live = await key('30 days', null)

    // Expected counts computed independently of the prune SQL.
    const expected = (
      await db.query(
        `select (select count(*) from app.refresh_tokens where expires_at < now())::int as refresh_tokens,
                (select count(*) from public.api_keys where greatest(expires_at, coalesce(revoked_at, expires_at)) < now() - interval '30 days'
                   or least(expires_at, coalesce(revoked_at, expires_at)) < now() - interval '30 days')::int as api_keys`,
      )
    ).rows[0]
    // Through the real queue: send it as the cron would, and wait for the handler's effect.
    await currentBoss()!.boss.send('maintenance.prune', {})
    await waitFor('prune to run', async () => !(await db.query(`select 1 from app.refresh_tokens where id = $1`, [expiredToken])).rows.length)
    const keys = (await db.query(`select id from public.api_keys where id = any($1::uuid[])`, [[oldExpired, oldRevoked, recentlyExpired, recentlyRevoked, live]])).rows.map((r) => r.id)
    expect(keys.sort()).toEqual([recentlyExpired, recentlyRevoked, live].sort())
    expect((await db.query(`select 1 from app.refresh_tokens where id = $1`, [liveToken])).rows).toHaveLength(1)
    expect(expected.api_keys).toBeGreaterThanOrEqual(2)
    expect(expected.refresh_tokens).toBeGreaterThanOrEqual(1)
    // Nothing left to prune: a second run deletes nothing.
    expect(await pruneExpiredCredentials(db)).toEqual({ refresh_tokens: 0, api_keys: 0 })
  })
})
