import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import '#app/features/marketplace/jobs.server.ts'
import '#app/features/ml/jobs.server.ts'
import { transformRecord } from '#app/features/ml/preprocess.ts'
import { loadModel, predict } from '#app/features/ml/scoring.ts'
import { notifyEndedBatches } from '#app/features/marketplace/batch.server.ts'
import { verifyWebhookSignature } from '#app/features/marketplace/webhooks.server.ts'
import { cancelJob, reconcileJobs, startWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { churnRows, trainChurn, uploadChurn, type ChurnRow } from '#tests/support/ml.ts'
import { captureOutput, closeMarketplaceTest, marketplaceEnv, providerPostgresSource, webhookReceiver, type ProviderDb, type ReceivedWebhook } from '#tests/support/marketplace.ts'

// Short webhook backoff for the test (read when the job is defined).
vi.hoisted(() => {
  process.env.HD_WEBHOOK_RETRY_DELAY_SECONDS = '1'
  process.env.HD_WEBHOOK_MAX_ATTEMPTS = '3'
})

/*
  Batch execution through the app's routes on a real database and worker, with the machine's Postgres as the provider's
  source: POST …/batch-execute (202 in the spec's shape), the job running every record through /execute's path (each
  answer checked against the source's own rows and against /execute, one bad record failing alone, the meter tagged
  with the batch, the free tier per record), GET …/status and …/results (progress, pagination, filters), the signed
  callback received by a real HTTP server here (verified, retried after a failing answer, logged), refused callback
  targets, bad input naming the field, and tenant isolation (another tenant, the provider included, reads nothing).
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let c: TestTenant
let pg: ProviderDb
let receiver: Awaited<ReturnType<typeof webhookReceiver>>
let base: string
let output: ReturnType<typeof captureOutput>
let asset: string
let pricedAsset: string
let secretB: string
let received: Record<string, ReceivedWebhook[]>
let script: Record<string, number[]>
const seen: string[] = []
let env: ReturnType<typeof marketplaceEnv>
const V1 = '/api/v1/analytics'

async function call(user: TestUser, p: string, init: RequestInit & { json?: unknown } = {}) {
  const r = await json(app.fetch(p, { ...init, headers: { ...user.auth, ...(init.headers as Record<string, string>) } }))
  seen.push(JSON.stringify(r.body ?? ''))
  return r
}

beforeAll(async () => {
  env = marketplaceEnv({ logJobs: true })
  output = captureOutput()
  receiver = await webhookReceiver()
  ;({ base, received, script } = receiver)
  app = await setupTestApp()
  ;[a, b, c] = await Promise.all([app.createTenant(), app.createTenant(), app.createTenant()])
  const source = await providerPostgresSource(app, a.admin)
  pg = source.pg
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  const body = (name: string, pricing: unknown) => ({
    name,
    category: 'reporting',
    pricing,
    data_sources: [{ source_id: source.sourceId, tables: ['orders'] }],
    configuration: {
      query: 'select region, count(*) as orders, sum(total) as revenue from orders where region = :region and day >= :since group by region',
      parameters: [
        { name: 'region', type: 'string', enum: ['north', 'south', 'east'] },
        { name: 'since', type: 'date', default: '2025-01-01' },
      ],
    },
  })
  for (const [name, pricing] of [
    ['Revenue by region', { model: 'free' }],
    ['Revenue by region (priced)', { model: 'per_request', price: 0.5, currency: 'USD', free_tier: { requests: 3, period: 'monthly' } }],
  ] as const) {
    const r = await call(a.admin, `${V1}/assets`, { method: 'POST', json: body(name, pricing) })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect((await call(a.admin, `${V1}/assets/${r.body.data.asset_id}`, { method: 'PATCH', json: { status: 'published' } })).status).toBe(200)
    if (name.includes('priced')) pricedAsset = r.body.data.asset_id
    else asset = r.body.data.asset_id
  }
  const sub = await json(app.fetch(`${V1}/assets/${asset}/subscription`, { method: 'POST', headers: b.admin.auth, json: {} }))
  expect(sub.status).toBe(200)
  secretB = sub.body.data.webhook_secret
  expect(secretB).toMatch(/^whsec_/)
}, 180_000)

afterAll(() => closeMarketplaceTest({ output, env, worker: true, app, pg, receiver }))

async function finished(user: TestUser, batchId: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const r = await call(user, `${V1}/batches/${batchId}/status`)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    if (r.body.data.status !== 'processing') return r.body.data
    if (Date.now() > until) throw new Error(`batch ${batchId} still processing: ${JSON.stringify(r.body.data.progress)}`)
    await new Promise((res) => setTimeout(res, 250))
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((res) => setTimeout(res, 250))
  }
}

const expected = (region: string, since = '2025-01-01') => {
  const mine = pg.orders.filter((o) => o.region === region && o.day >= since)
  return { region, orders: mine.length, revenue: mine.reduce((s, o) => s + o.total, 0) }
}

let batchId: string
const records = [
  { id: 'batch_001', customer_id: 'cust_1', input_data: { region: 'north' } },
  { id: 'batch_002', customer_id: 'cust_2', input_data: { region: 'south', since: '2025-01-10' } },
  { id: 'batch_003', input_data: { region: 'east', since: '2025-01-20' } },
  { id: 'batch_004', input_data: { region: 'west' } },
  { id: 'batch_005', input_data: { region: 'north', since: '2025-01-05' } },
  { id: 'batch_006', input_data: { region: 'south', limit: 3 } },
  { id: 'batch_007', input_data: { region: 'east' } },
]

describe('batch-execute', () => {
  it("answers 202 in the spec's shape; every record runs as /execute would; one bad record fails alone", async () => {
    script['/batch-complete'] = [500, 200]
    const r = await call(b.operator, `${V1}/assets/${asset}/batch-execute`, {
      method: 'POST',
      json: { batch_data: records, parameters: { prediction_horizon: 90, parallel_processing: true }, callback_url: `${base}/batch-complete` },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    batchId = r.body.data.batch_id
    expect(r.body.data).toEqual({
      batch_id: expect.stringMatching(/^batch_[0-9a-z]{12,32}$/),
      asset_id: asset,
      status: 'processing',
      total_records: 7,
      estimated_completion: null, // the asset has not run yet: no latency to estimate from
      callback_url: `${base}/batch-complete`,
      progress_url: expect.stringMatching(new RegExp(`^https?://[^/]+/api/v1/analytics/batches/${batchId}/status$`)),
    })
    const status = await finished(b.viewer, batchId)
    expect(status).toMatchObject({
      batch_id: batchId,
      asset_id: asset,
      status: 'completed',
      progress: { total_records: 7, processed_records: 7, successful_records: 5, failed_records: 2, percentage_complete: 100 },
      started_at: expect.stringMatching(/Z$/),
      completed_at: expect.stringMatching(/Z$/),
      results_url: expect.stringMatching(new RegExp(`/api/v1/analytics/batches/${batchId}/results$`)),
    })
    expect(Date.parse(status.completed_at)).toBeGreaterThanOrEqual(Date.parse(status.started_at))

    const res = await call(b.viewer, `${V1}/batches/${batchId}/results`)
    expect(res.status).toBe(200)
    expect(res.body.data.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([
      ['batch_001', 'success'],
      ['batch_002', 'success'],
      ['batch_003', 'success'],
      ['batch_004', 'error'],
      ['batch_005', 'success'],
      ['batch_006', 'error'],
      ['batch_007', 'success'],
    ])
    for (const [i, x] of res.body.data.entries()) {
      expect(x.index).toBe(i)
      if (x.status !== 'success') continue
      const input = records[i].input_data as { region: string; since?: string }
      const want = expected(input.region, input.since)
      // against the source's own rows
      expect(x.results.rows).toEqual([{ ...want, revenue: expect.closeTo(want.revenue, 6) }])
      expect(x).toMatchObject({ execution_id: expect.stringMatching(/^exec_/), metadata: { model_version: '1.0.0', data_points_used: 1 }, processed_at: expect.any(String) })
      // and against /execute on the same input
      const one = await call(b.operator, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: input } })
      expect(x.results).toEqual(one.body.data.results)
    }
    expect(res.body.data[0].customer_id).toBe('cust_1')
    expect(res.body.data[3].error).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'batch_data.3.input_data.region' } })
    expect(res.body.data[5].error).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'batch_data.5.input_data.limit' } })
    expect(res.body.data[3].error.message).toContain('batch_data.3.input_data.region')

    // the meter: one row per record, tagged with the batch; bad input is rejected, not billed
    const { rows: meter } = await app.db.query(
      `select status, count(*)::int as n, bool_or(billable) as billed from public.asset_executions where batch_id = $1 group by status order by status`,
      [batchId],
    )
    expect(meter).toEqual([
      { status: 'rejected', n: 2, billed: false },
      { status: 'success', n: 5, billed: false },
    ])
  })

  it('sends the signed batch.completed callback, retried after a failing answer, in the delivery log', async () => {
    const got = await until('two callback attempts', async () => (received['/batch-complete']?.length === 2 ? received['/batch-complete'] : undefined))
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(950)
    for (const g of got) {
      expect(g.headers['hotdash-event']).toBe('batch.completed')
      const v = verifyWebhookSignature(secretB, g.headers['hotdash-signature'] as string, g.body)
      expect(v.ok).toBe(true)
      // another tenant's secret does not verify it
      expect(verifyWebhookSignature('whsec_someone_else', g.headers['hotdash-signature'] as string, g.body).ok).toBe(false)
    }
    const event = JSON.parse(got[1].body)
    expect(event).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      event: 'batch.completed',
      data: { batch_id: batchId, asset_id: asset, status: 'completed', progress: { total_records: 7, processed_records: 7, successful_records: 5, failed_records: 2, percentage_complete: 100 } },
    })
    expect(event.data.results_url).toMatch(new RegExp(`/batches/${batchId}/results$`))
    const s = await until('the delivery recorded', async () => {
      const r = await call(b.viewer, `${V1}/batches/${batchId}/status`)
      return r.body.data.callback?.status === 'delivered' ? r.body.data : undefined
    })
    expect(s.callback).toMatchObject({ status: 'delivered', attempts: 2, last_status_code: 200 })
    const { rows } = await app.db.query(
      `select a.attempt, a.status_code from public.webhook_attempts a join public.webhook_deliveries d on d.id = a.delivery_id where d.subject = $1 order by a.attempt`,
      [batchId],
    )
    expect(rows).toEqual([
      { attempt: 1, status_code: 500 },
      { attempt: 2, status_code: 200 },
    ])
  })

  it('pages the results, filters by status, and names bad query fields', async () => {
    const p1 = await call(b.viewer, `${V1}/batches/${batchId}/results?limit=3`)
    expect(p1.body.data.map((x: { index: number }) => x.index)).toEqual([0, 1, 2])
    expect(p1.body.meta).toMatchObject({ batch_id: batchId, status: 'completed', total: 7, successful_records: 5, failed_records: 2, pending_records: 0, limit: 3, offset: 0 })
    expect(p1.body.meta.next).toMatch(/\/results\?limit=3&offset=3$/)
    const p3 = await call(b.viewer, `${V1}/batches/${batchId}/results?limit=3&offset=6`)
    expect(p3.body.data.map((x: { index: number }) => x.index)).toEqual([6])
    expect(p3.body.meta.next).toBeUndefined()
    const errs = await call(b.viewer, `${V1}/batches/${batchId}/results?status=error`)
    expect(errs.body.data.map((x: { id: string }) => x.id)).toEqual(['batch_004', 'batch_006'])
    expect(errs.body.meta.total).toBe(2)
    expect((await call(b.viewer, `${V1}/batches/${batchId}/results?offset=50`)).body.data).toEqual([])
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=5000', 'limit'],
      ['offset=-1', 'offset'],
      ['status=done', 'status'],
    ]) {
      const r = await call(b.viewer, `${V1}/batches/${batchId}/results?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.body.error.details.fields[0].field).toBe(field)
    }
  })

  it('refuses bad bodies naming the field, refused callback targets, unknown assets and missing permissions; writes nothing', async () => {
    const count = async () => (await app.db.query(`select (select count(*) from public.asset_batches)::int as b, (select count(*) from public.asset_batch_records)::int as r`)).rows[0]
    const before = await count()
    const one = [{ input_data: { region: 'north' } }]
    for (const [body, field] of [
      [{}, 'batch_data'],
      [{ batch_data: [] }, 'batch_data'],
      [{ batch_data: [{ id: 'x' }] }, 'batch_data.0.input_data'],
      [{ batch_data: [{ input_data: 'north' }] }, 'batch_data.0.input_data'],
      [{ batch_data: one, extra: 1 }, 'extra'],
      [{ batch_data: one, parameters: { prediction_horizon: 0 } }, 'parameters.prediction_horizon'],
      [{ batch_data: one, callback_url: 'not a url' }, 'callback_url'],
    ] as const) {
      const r = await call(b.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: body })
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error.code).toBe('VALIDATION_ERROR')
      // an unknown key is named in the message (zod reports it at the object's level)
      expect(JSON.stringify(r.body.error.details.fields), JSON.stringify(body)).toContain(field)
    }
    for (const url of ['http://169.254.169.254/latest/meta-data/iam/', 'http://[::ffff:a9fe:a9fe]/', 'http://10.1.2.3/hook', 'ftp://example.com/hook', `http://u:p@127.0.0.1/hook`]) {
      const r = await call(b.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: one, callback_url: url } })
      expect(r.status, url).toBe(400)
      expect(r.body.error.details.field, url).toBe('callback_url')
    }
    expect(received['/latest/meta-data/iam/']).toBeUndefined()
    // the provider has no subscriber's secret to sign with
    const own = await call(a.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: one, callback_url: `${base}/own` } })
    expect(own.status).toBe(400)
    expect(own.body.error.details.field).toBe('callback_url')
    expect((await call(b.operator, `${V1}/assets/asset_000000000000000000/batch-execute`, { method: 'POST', json: { batch_data: one } })).status).toBe(404)
    expect((await call(b.operator, `${V1}/assets/not-an-asset/batch-execute`, { method: 'POST', json: { batch_data: one } })).status).toBe(400)
    expect((await call(b.viewer, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: one } })).status).toBe(403)
    expect(await count()).toEqual(before)
  })

  it('the provider runs a batch of its own asset (not metered), without a callback', async () => {
    const r = await call(a.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: [{ input_data: { region: 'east' } }], parameters: { parallel_processing: false } } })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    // the asset has run now: the estimate comes from its recorded latency
    expect(Date.parse(r.body.data.estimated_completion)).toBeGreaterThan(Date.now() - 1000)
    const s = await finished(a.viewer, r.body.data.batch_id)
    expect(s.progress).toMatchObject({ successful_records: 1, failed_records: 0 })
    expect(s.callback_url).toBeNull()
    const x = await call(a.viewer, `${V1}/batches/${r.body.data.batch_id}/results`)
    expect(x.body.data[0].results.rows[0]).toMatchObject({ region: 'east', orders: expected('east').orders })
  })
})

describe('cancel', () => {
  it("stops a running batch through its job: the status says cancelled, the rest of the records stay pending", async () => {
    const batch = Array.from({ length: 1500 }, (_, i) => ({ input_data: { region: ['north', 'south', 'east'][i % 3] } }))
    const r = await call(b.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: batch, parameters: { parallel_processing: false } } })
    expect(r.status).toBe(202)
    const id = r.body.data.batch_id
    const running = await until('some records done', async () => {
      const s = (await call(b.viewer, `${V1}/batches/${id}/status`)).body.data
      return s.progress.processed_records > 0 ? s : undefined
    })
    expect(running.status).toBe('processing')
    expect(running.job_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(Date.parse(running.estimated_completion)).toBeGreaterThan(Date.now())
    const stop = await call(b.admin, `/api/v1/ray/terminate_ray_job?ray_job_id=${running.job_id}&usage=batch`, { method: 'POST' })
    expect(stop.status, JSON.stringify(stop.body)).toBe(200)
    const s1 = await until('cancelled', async () => {
      const s = (await call(b.viewer, `${V1}/batches/${id}/status`)).body.data
      return s.status === 'cancelled' ? s : undefined
    })
    await new Promise((res) => setTimeout(res, 1000))
    const s2 = (await call(b.viewer, `${V1}/batches/${id}/status`)).body.data
    expect(s2.progress.processed_records).toBeLessThan(1500)
    // at most the record in flight when the signal came is finished afterwards
    expect(s2.progress.processed_records - s1.progress.processed_records).toBeLessThanOrEqual(1)
    const pending = await call(b.viewer, `${V1}/batches/${id}/results?status=pending&limit=1`)
    expect(pending.body.meta.total).toBe(1500 - s2.progress.processed_records)
    // another tenant cannot cancel it
    expect((await call(c.admin, `/api/v1/ray/terminate_ray_job?ray_job_id=${running.job_id}&usage=batch`, { method: 'POST' })).status).toBe(404)
  })
})

describe('a batch that does not complete', () => {
  const event = async (path: string) => {
    const [got] = await until(`the callback at ${path}`, async () => received[path])
    expect(verifyWebhookSignature(secretB, got.headers['hotdash-signature'] as string, got.body).ok).toBe(true)
    return { name: got.headers['hotdash-event'], body: JSON.parse(got.body) }
  }
  const post = async (path: string, batch: unknown[]) => {
    const r = await call(b.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: batch, parameters: { parallel_processing: false }, callback_url: `${base}${path}` } })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    return (await call(b.viewer, `${V1}/batches/${r.body.data.batch_id}/status`)).body.data as { batch_id: string; job_id: string; status: string }
  }

  it('a job that throws after 3 records, retries exhausted: failed, the 3 done stay done, the callback says failed', async () => {
    // the job itself crashes (not a record): writing the 4th record's result fails, on the first attempt and the retry
    await app.db.exec(`
      create function public.test_crash_batch() returns trigger language plpgsql as $$
      begin raise exception 'disk on fire at record %', new.idx; end $$;
      create trigger test_crash_batch before update on public.asset_batch_records
        for each row when (new.record_id like 'crash%' and new.status <> 'pending') execute function public.test_crash_batch();`)
    try {
      const batch = Array.from({ length: 6 }, (_, i) => ({ id: i < 3 ? `ok_${i}` : `crash_${i}`, input_data: { region: ['north', 'south', 'east'][i % 3] } }))
      const started = await post('/batch-crashed', batch)
      const s = await finished(b.viewer, started.batch_id, 60_000)
      expect(s).toMatchObject({ status: 'failed', error: expect.stringContaining('disk on fire at record 3'), completed_at: expect.stringMatching(/Z$/) })
      expect(s.progress).toMatchObject({ total_records: 6, processed_records: 3, successful_records: 3, failed_records: 0 })
      const res = await call(b.viewer, `${V1}/batches/${started.batch_id}/results`)
      expect(res.body.data.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([
        ['ok_0', 'success'], ['ok_1', 'success'], ['ok_2', 'success'], ['crash_3', 'pending'], ['crash_4', 'pending'], ['crash_5', 'pending'],
      ])
      expect(res.body.data[0].results.rows[0]).toMatchObject(expected('north'))
      // the job ran twice (pg-boss's retry resumed at the first pending record) before failing for good
      const { rows: log } = await app.db.query(`select message from public.job_logs where job_id = $1 and message like 'Failed%' order by id`, [started.job_id])
      expect(log.map((l) => l.message.replace(/:.*/, ''))).toEqual(['Failed, will retry', 'Failed'])
      const e = await event('/batch-crashed')
      expect(e.name).toBe('batch.failed')
      expect(e.body.data).toMatchObject({ batch_id: started.batch_id, status: 'failed', error: expect.stringContaining('disk on fire'), progress: s.progress })
      expect(e.body.data.results_url).toMatch(new RegExp(`^https?://[^/]+/api/v1/analytics/batches/${started.batch_id}/results$`))
      expect(received['/batch-crashed']).toHaveLength(1)
    } finally {
      await app.db.exec(`drop trigger test_crash_batch on public.asset_batch_records; drop function public.test_crash_batch();`)
    }
  }, 90_000)

  it('cancelled while running or queued, or its worker lost: the status and one callback say so', async () => {
    // one batch job runs at a time: the long one keeps the others queued
    const long = await post('/cancel-running', Array.from({ length: 1500 }, (_, i) => ({ input_data: { region: ['north', 'south', 'east'][i % 3] } })))
    const queued = await post('/cancel-queued', [{ input_data: { region: 'north' } }])
    const lost = await post('/worker-lost', [{ input_data: { region: 'south' } }])
    const unseen = await post('/cancel-unseen', [{ input_data: { region: 'east' } }])
    await until('the long batch running', async () => ((await call(b.viewer, `${V1}/batches/${long.batch_id}/status`)).body.data.progress.processed_records > 0 ? true : undefined))

    // queued: cancelJob tells it (no worker will), in the cancel's transaction
    expect((await call(b.admin, `/api/v1/ray/terminate_ray_job?ray_job_id=${queued.job_id}&usage=batch`, { method: 'POST' })).status).toBe(200)
    const q = await event('/cancel-queued')
    expect(q.name).toBe('batch.cancelled')
    expect(q.body.data).toMatchObject({ batch_id: queued.batch_id, status: 'cancelled', progress: { total_records: 1, processed_records: 0 } })

    // its worker lost: pg-boss expired the job to failed while the row said running; reconciliation tells it
    await app.db.query(`update public.jobs set status = 'running', started_at = now() where id = $1`, [lost.job_id])
    await app.db.query(`update pgboss.job set state = 'failed' where id = $1`, [lost.job_id])
    expect(await reconcileJobs(app.db)).toBeGreaterThanOrEqual(1)
    const l = await event('/worker-lost')
    expect(l.name).toBe('batch.failed')
    expect(l.body.data).toMatchObject({ status: 'failed', error: expect.stringMatching(/worker lost or timed out/) })
    expect((await call(b.viewer, `${V1}/batches/${lost.batch_id}/status`)).body.data.status).toBe('failed')

    // ended where no process told it (cancelled from a process without the marketplace's jobs): the sweep does, once
    await app.db.query(`update public.jobs set status = 'cancelled', finished_at = now() - interval '2 minutes' where id = $1`, [unseen.job_id])
    await app.db.query(`update pgboss.job set state = 'cancelled' where id = $1`, [unseen.job_id])
    expect(await notifyEndedBatches(app.db)).toEqual({ told: 1 })
    expect(await notifyEndedBatches(app.db)).toEqual({ told: 0 })
    expect((await event('/cancel-unseen')).body.data).toMatchObject({ batch_id: unseen.batch_id, status: 'cancelled' })

    // running: the worker tells it once the handler stopped, with the final counts
    expect((await cancelJob(app.db, long.job_id))?.changed).toBe(true)
    const r = await event('/cancel-running')
    expect(r.name).toBe('batch.cancelled')
    await new Promise((res) => setTimeout(res, 500))
    const s = (await call(b.viewer, `${V1}/batches/${long.batch_id}/status`)).body.data
    expect(s.status).toBe('cancelled')
    expect(s.progress.processed_records).toBeLessThan(1500)
    expect(r.body.data).toMatchObject({ status: 'cancelled', progress: s.progress, completed_at: expect.stringMatching(/Z$/) })
    for (const p of ['/cancel-queued', '/worker-lost', '/cancel-unseen', '/cancel-running']) expect(received[p], p).toHaveLength(1)
  }, 60_000)
})

describe('size', () => {
  it('takes the 10,000 records the schema allows (a body past 2 MiB), refuses one more naming batch_data', async () => {
    const padding = 'x'.repeat(200)
    const big = Array.from({ length: 10_000 }, (_, i) => ({ id: `big_${i}_${padding}`.slice(0, 200), customer_id: `cust_${i}`, input_data: { region: 'north' } }))
    expect(JSON.stringify({ batch_data: big }).length).toBeGreaterThan(2 * 1024 * 1024)
    const r = await call(b.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: big } })
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(202)
    expect(r.body.data.total_records).toBe(10_000)
    const s = (await call(b.viewer, `${V1}/batches/${r.body.data.batch_id}/status`)).body.data
    expect(s.progress.total_records).toBe(10_000)
    expect((await call(b.admin, `/api/v1/ray/terminate_ray_job?ray_job_id=${s.job_id}&usage=batch`, { method: 'POST' })).status).toBe(200)
    const over = await call(b.operator, `${V1}/assets/${asset}/batch-execute`, { method: 'POST', json: { batch_data: [...big, big[0]] } })
    expect(over.status).toBe(400)
    expect(over.body.error.details.fields[0].field).toBe('batch_data')
  })
})

describe('the free tier per record', () => {
  it('records past the free tier fail with 402 alone; a batch that cannot succeed at all is refused whole', async () => {
    const batch = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, input_data: { region: ['north', 'south', 'east'][i % 3] } }))
    const r = await call(c.operator, `${V1}/assets/${pricedAsset}/batch-execute`, { method: 'POST', json: { batch_data: batch, parameters: { parallel_processing: true } } })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    const s = await finished(c.viewer, r.body.data.batch_id)
    expect(s.progress).toMatchObject({ total_records: 5, successful_records: 3, failed_records: 2 })
    const errs = await call(c.viewer, `${V1}/batches/${r.body.data.batch_id}/results?status=error`)
    for (const e of errs.body.data) {
      expect(e.error).toMatchObject({ code: 'PAYMENT_REQUIRED', details: { asset_id: pricedAsset, free_tier: { requests: 3, used: 3 }, price: 0.5, currency: 'USD' } })
    }
    const before = (await app.db.query(`select count(*)::int as n from public.asset_batches`)).rows[0].n
    const refused = await call(c.operator, `${V1}/assets/${pricedAsset}/batch-execute`, { method: 'POST', json: { batch_data: batch } })
    expect(refused.status).toBe(402)
    expect(refused.body.error).toMatchObject({ code: 'PAYMENT_REQUIRED', details: { free_tier: { requests: 3, used: 3 } } })
    expect((await app.db.query(`select count(*)::int as n from public.asset_batches`)).rows[0].n).toBe(before)
    // after accepting the pricing the records are billed
    expect((await call(c.admin, `${V1}/assets/${pricedAsset}/subscription`, { method: 'POST', json: { accept_pricing: true } })).status).toBe(200)
    const paid = await call(c.operator, `${V1}/assets/${pricedAsset}/batch-execute`, { method: 'POST', json: { batch_data: batch.slice(0, 2) } })
    expect(paid.status).toBe(202)
    expect((await finished(c.viewer, paid.body.data.batch_id)).progress).toMatchObject({ successful_records: 2, failed_records: 0 })
    const { rows } = await app.db.query(`select count(*)::int as n, sum(price)::float8 as amount from public.asset_executions where batch_id = $1 and billable`, [paid.body.data.batch_id])
    expect(rows[0]).toEqual({ n: 2, amount: 1 })
  })
})

describe('a model asset', () => {
  let modelAsset: string
  let rows: ChurnRow[]
  let trainId: number
  const churnInput = (r: ChurnRow) => ({
    CustomerID: r.CustomerID,
    account: { Plan: r.Plan, Tenure: r.Tenure, SignupDate: r.SignupDate, Paperless: r.Paperless },
    billing: { MonthlyCharges: r.MonthlyCharges, SupportCalls: r.SupportCalls },
  })

  beforeAll(async () => {
    rows = churnRows(600)
    const datasetId = await uploadChurn(app, a.admin, 'mkb_churn', rows)
    trainId = await trainChurn(app, a.data_scientist, a.viewer, datasetId, 'mkb_churn_model')
    const r = await call(a.data_scientist, `${V1}/assets`, { method: 'POST', json: { name: 'Churn (batch)', category: 'machine_learning', configuration: { train_id: trainId } } })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    modelAsset = r.body.data.asset_id
    expect((await call(a.admin, `${V1}/assets/${modelAsset}`, { method: 'PATCH', json: { status: 'published' } })).status).toBe(200)
  }, 180_000)

  it("scores each record with the downloaded model, as /execute does; a record of the wrong type fails alone", async () => {
    const { rows: s } = await app.db.query(`select p.spec from public.training_jobs t join public.preprocesses p on p.id = t.preprocess_id where t.id = $1`, [trainId])
    const dl = await app.fetch(`/api/v1/train/download-model/${trainId}`, { headers: a.viewer.auth })
    const model = loadModel(dl.headers.get('x-model-format') as 'xgboost-binary', new Uint8Array(await dl.arrayBuffer()))
    const picked = [rows[3], rows[10], rows[42], rows[77], rows[99]]
    const batch = picked.map((r, i) => ({ id: `m${i}`, customer_id: r.CustomerID, input_data: churnInput(r) }))
    batch.splice(2, 0, { id: 'bad', customer_id: 'x', input_data: { ...churnInput(rows[5]), account: { ...churnInput(rows[5]).account, Tenure: 'long' as unknown as number } } })
    const r = await call(b.operator, `${V1}/assets/${modelAsset}/batch-execute`, { method: 'POST', json: { batch_data: batch, parameters: { top_factors: 3 } } })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    const st = await finished(b.viewer, r.body.data.batch_id)
    expect(st.progress).toMatchObject({ total_records: 6, successful_records: 5, failed_records: 1 })
    const res = await call(b.viewer, `${V1}/batches/${r.body.data.batch_id}/results`)
    expect(res.body.data[2]).toMatchObject({ id: 'bad', status: 'error', error: { code: 'VALIDATION_ERROR', details: { field: 'batch_data.2.input_data.account.Tenure' } } })
    const ok = res.body.data.filter((x: { status: string }) => x.status === 'success')
    expect(ok.map((x: { id: string }) => x.id)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    for (const [i, x] of ok.entries()) {
      const row = picked[i]
      // an independent computation: the downloaded model on the preprocessed row
      expect(x.results.churn_probability).toBeCloseTo(predict(model, transformRecord(s[0].spec, row as unknown as Record<string, unknown>), 1)[0], 12)
      expect(x.results.key_factors).toHaveLength(3)
      expect(x).toMatchObject({ CustomerID: row.CustomerID, customer_id: row.CustomerID, metadata: { model_version: '1.0.0' } })
      const one = await call(b.operator, `${V1}/assets/${modelAsset}/execute`, { method: 'POST', json: { input_data: churnInput(row), parameters: { top_factors: 3 } } })
      expect(x.results).toEqual(one.body.data.results)
    }
  })
})

describe('isolation', () => {
  it("another tenant — the provider included — reads neither the batch's status nor its results", async () => {
    for (const u of [c.admin, a.admin, a.data_scientist]) {
      expect((await call(u, `${V1}/batches/${batchId}/status`)).status).toBe(404)
      expect((await call(u, `${V1}/batches/${batchId}/results`)).status).toBe(404)
    }
    expect((await call(b.viewer, `${V1}/batches/batch_000000000000000000/status`)).status).toBe(404)
    expect((await call(b.viewer, `${V1}/batches/nope/status`)).status).toBe(400)
    // in the database, as the provider's admin: none of the consumer's records, inputs or callback deliveries
    const claims = { sub: a.admin.userId, role: 'authenticated' as const, app_metadata: { tenant_id: a.id } }
    const seenByProvider = await asCaller(app.db, claims, async (tx) => ({
      batches: (await tx.query(`select id from public.asset_batches where id = $1`, [batchId])).rows,
      records: (await tx.query(`select input from public.asset_batch_records where batch_id = $1`, [batchId])).rows,
      deliveries: (await tx.query(`select id from public.webhook_deliveries where subject = $1`, [batchId])).rows,
    }))
    expect(seenByProvider).toEqual({ batches: [], records: [], deliveries: [] })
  })

  it("the webhook secret appears in no response of these endpoints and in no log line", () => {
    for (const s of seen) expect(s).not.toContain(secretB)
    expect(output.lines.some((l) => l.includes('marketplace.batch'))).toBe(true)
    for (const l of output.lines) expect(l).not.toContain(secretB)
  })
})
