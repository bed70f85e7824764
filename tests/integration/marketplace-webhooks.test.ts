import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import '#app/features/marketplace/jobs.server.ts'
import { enqueueWebhook, signWebhook, verifyWebhookSignature, webhookDeliveries, WEBHOOK_MAX_ATTEMPTS } from '#app/features/marketplace/webhooks.server.ts'
import { startWorker } from '#app/jobs/jobs.server.ts'
import { setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { captureOutput, closeMarketplaceTest, marketplaceEnv, webhookReceiver, type ReceivedWebhook } from '#tests/support/marketplace.ts'

// Short backoff for the test (read when the job is defined): retries after ≈1–2 s, then ≈2–4 s.
vi.hoisted(() => {
  process.env.HD_WEBHOOK_RETRY_DELAY_SECONDS = '1'
  process.env.HD_WEBHOOK_MAX_ATTEMPTS = '3'
})

/*
  Signed webhooks on a real database and worker, received by a real HTTP server in this process: the signature
  verified over the raw bytes, retries with growing gaps after failing answers, every attempt in the delivery log, the
  replay window, refused (SSRF) targets, and the secret in no readable column, response or log line.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let receiver: Awaited<ReturnType<typeof webhookReceiver>>
let base: string
let received: Record<string, ReceivedWebhook[]>
let script: Record<string, number[]>
let output: ReturnType<typeof captureOutput>
let env: ReturnType<typeof marketplaceEnv>
const SECRET = 'whsec_test_0123456789abcdefghijklmnopqrstuv'

const claims = (t: TestTenant) => ({ sub: t.admin.userId, role: 'authenticated' as const, app_metadata: { tenant_id: t.id } })

beforeAll(async () => {
  env = marketplaceEnv({ logJobs: true })
  output = captureOutput()
  receiver = await webhookReceiver()
  ;({ base, received, script } = receiver)
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
}, 120_000)

afterAll(() => closeMarketplaceTest({ output, env, worker: true, app, receiver }))

async function settled(deliveryId: number, timeoutMs = 25_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const { rows } = await app.db.query(`select status, attempts from public.webhook_deliveries where id = $1`, [deliveryId])
    if (rows[0].status !== 'pending') return rows[0] as { status: string; attempts: number }
    if (Date.now() > until) throw new Error(`delivery ${deliveryId} still ${rows[0].status} after ${rows[0].attempts} attempts`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function jobStatus(jobId: string, want: string, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const { rows } = await app.db.query(`select status from public.jobs where id = $1`, [jobId])
    if (rows[0]?.status === want || Date.now() > until) return rows[0]?.status
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('signatures', () => {
  it('signs t.body with HMAC-SHA256, the way a receiver recomputes it; refuses tampering, other secrets and stale timestamps', async () => {
    const body = JSON.stringify({ id: 'evt_x', event: 'batch.completed', data: { n: 1 } })
    const t = 1_760_000_000
    const header = signWebhook(SECRET, body, t)
    // an independent computation of the same HMAC
    const { createHmac } = await import('node:crypto')
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`)
    expect(verifyWebhookSignature(SECRET, header, body, { now: t + 10 })).toEqual({ ok: true, timestamp: t })
    expect(verifyWebhookSignature(SECRET, header, Buffer.from(body), { now: t - 299 })).toEqual({ ok: true, timestamp: t })
    expect(verifyWebhookSignature(SECRET, header, body.replace('1', '2'), { now: t })).toEqual({ ok: false, reason: 'signature' })
    expect(verifyWebhookSignature('whsec_other', header, body, { now: t })).toEqual({ ok: false, reason: 'signature' })
    // the replay window: a correctly signed request whose timestamp is too old (or too far ahead)
    expect(verifyWebhookSignature(SECRET, header, body, { now: t + 301 })).toEqual({ ok: false, reason: 'replay' })
    expect(verifyWebhookSignature(SECRET, header, body, { now: t + 3600, toleranceSec: 7200 })).toEqual({ ok: true, timestamp: t })
    expect(verifyWebhookSignature(SECRET, header, body, { now: t - 400 })).toEqual({ ok: false, reason: 'replay' })
    // a replayed signature on a changed timestamp does not verify
    expect(verifyWebhookSignature(SECRET, header.replace(`t=${t}`, `t=${t + 5}`), body, { now: t + 5 })).toEqual({ ok: false, reason: 'signature' })
    for (const bad of [null, '', 'v1=abc', `t=${t}`, `t=soon,v1=${'0'.repeat(64)}`, `t=${t},v1=zz`]) {
      expect(verifyWebhookSignature(SECRET, bad, body, { now: t })).toEqual({ ok: false, reason: 'malformed' })
    }
    // a rotated secret: either v1 may match
    const two = `${header},v1=${signWebhook('whsec_new', body, t).split('v1=')[1]}`
    expect(verifyWebhookSignature('whsec_new', two, body, { now: t }).ok).toBe(true)
  })
})

describe('delivery', () => {
  it('delivers once to a receiver that answers 200: signed, headers, the delivery log', async () => {
    const w = await enqueueWebhook(app.db, { tenantId: a.id, url: `${base}/ok`, secret: SECRET, event: 'batch.completed', payload: { batch_id: 'batch_x', n: 2 }, subject: 'batch_okokokokokok' })
    expect(await settled(w.delivery_id)).toEqual({ status: 'delivered', attempts: 1 })
    const [got] = received['/ok']
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers['hotdash-event']).toBe('batch.completed')
    expect(got.headers['hotdash-delivery']).toBe(w.event_id)
    const verdict = verifyWebhookSignature(SECRET, got.headers['hotdash-signature'] as string, got.body)
    expect(verdict.ok).toBe(true)
    if (verdict.ok) expect(Math.abs(verdict.timestamp - got.at / 1000)).toBeLessThan(5)
    expect(JSON.parse(got.body)).toMatchObject({ id: w.event_id, event: 'batch.completed', data: { batch_id: 'batch_x', n: 2 } })
    const { rows } = await app.db.query(`select attempt, status_code, error, duration_ms from public.webhook_attempts where delivery_id = $1`, [w.delivery_id])
    expect(rows).toEqual([{ attempt: 1, status_code: 200, error: null, duration_ms: expect.any(Number) }])
    expect(rows[0].duration_ms).toBeGreaterThan(0)
    expect(await jobStatus(w.job_id, 'completed')).toBe('completed')
  })

  it('retries failing answers with growing gaps, each attempt signed afresh, each logged', async () => {
    script['/flaky'] = [500, 503, 200]
    const w = await enqueueWebhook(app.db, { tenantId: a.id, url: `${base}/flaky`, secret: SECRET, event: 'batch.completed', payload: { ok: true }, subject: 'batch_flakyflakyfla' })
    expect(await settled(w.delivery_id)).toEqual({ status: 'delivered', attempts: 3 })
    const got = received['/flaky']
    expect(got).toHaveLength(3)
    // the same event (body and id) every time; every attempt verifies on its own
    expect(new Set(got.map((g) => g.body)).size).toBe(1)
    expect(new Set(got.map((g) => g.headers['hotdash-delivery'])).size).toBe(1)
    for (const g of got) expect(verifyWebhookSignature(SECRET, g.headers['hotdash-signature'] as string, g.body).ok).toBe(true)
    // backoff: the retry delay is 1 s, then 2 s (pg-boss adds up to as much again)
    const gap1 = got[1].at - got[0].at
    const gap2 = got[2].at - got[1].at
    expect(gap1).toBeGreaterThanOrEqual(950)
    expect(gap2).toBeGreaterThanOrEqual(1950)
    const { rows } = await app.db.query(`select attempt, status_code, error from public.webhook_attempts where delivery_id = $1 order by attempt`, [w.delivery_id])
    expect(rows).toEqual([
      { attempt: 1, status_code: 500, error: 'the receiver answered 500' },
      { attempt: 2, status_code: 503, error: 'the receiver answered 503' },
      { attempt: 3, status_code: 200, error: null },
    ])
    // the tenant reads its delivery log through RLS; another tenant sees nothing of it
    const mine = await asCaller(app.db, claims(a), (tx) => webhookDeliveries(tx, 'batch_flakyflakyfla'))
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatchObject({ status: 'delivered', event_id: w.event_id, last_status_code: 200 })
    expect(mine[0].attempts.map((x) => x.status_code)).toEqual([500, 503, 200])
    expect(JSON.stringify(mine)).not.toContain(SECRET)
    expect(await asCaller(app.db, claims(b), (tx) => webhookDeliveries(tx, 'batch_flakyflakyfla'))).toEqual([])
  })

  it('gives up after the last attempt: the delivery and its job fail', async () => {
    script['/down'] = [500]
    const w = await enqueueWebhook(app.db, { tenantId: a.id, url: `${base}/down`, secret: SECRET, event: 'batch.completed', payload: {}, subject: 'batch_downdowndown' })
    expect(await settled(w.delivery_id)).toEqual({ status: 'failed', attempts: WEBHOOK_MAX_ATTEMPTS })
    expect(received['/down']).toHaveLength(WEBHOOK_MAX_ATTEMPTS)
    expect(await jobStatus(w.job_id, 'failed')).toBe('failed')
    const { rows } = await app.db.query(`select count(*)::int as n, max(attempt) as last from public.webhook_attempts where delivery_id = $1`, [w.delivery_id])
    expect(rows[0]).toEqual({ n: WEBHOOK_MAX_ATTEMPTS, last: WEBHOOK_MAX_ATTEMPTS })
  })

  it('counts a receiver that is not there as a failed attempt with the reason', async () => {
    const closed = http.createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    const w = await enqueueWebhook(app.db, { tenantId: a.id, url: `http://127.0.0.1:${port}/gone`, secret: SECRET, event: 'batch.completed', payload: {}, subject: 'batch_gonegonegone' })
    expect(await settled(w.delivery_id)).toEqual({ status: 'failed', attempts: WEBHOOK_MAX_ATTEMPTS })
    const { rows } = await app.db.query(`select status_code, error from public.webhook_attempts where delivery_id = $1 and attempt = 1`, [w.delivery_id])
    expect(rows[0].status_code).toBeNull()
    expect(rows[0].error).toMatch(/^no answer: .*ECONNREFUSED/)
  })
})

describe('refused targets', () => {
  it('refuses metadata, link-local, unlisted private and non-http targets with a 400 naming the field; nothing is written', async () => {
    const before = await app.db.query(`select count(*)::int as n from public.webhook_deliveries`)
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:169.254.169.254]/', 'http://10.0.0.7/hook', 'ftp://example.com/x', 'http://user:pw@127.0.0.1/x', 'not a url']) {
      const err = await enqueueWebhook(app.db, { tenantId: a.id, url, secret: SECRET, event: 'batch.completed', payload: {}, subject: 'batch_refusedrefused', field: 'callback_url' }).catch((e) => e)
      expect(err?.status, url).toBe(400)
      expect(err.code).toBe('VALIDATION_ERROR')
      expect(JSON.stringify(err.details)).toContain('callback_url')
    }
    const after = await app.db.query(`select count(*)::int as n from public.webhook_deliveries`)
    expect(after.rows[0].n).toBe(before.rows[0].n)
  })
})

describe('the secret', () => {
  it('is sealed at rest, in a column no API role may read, and in no log line', async () => {
    const { rows } = await app.db.query(`select secret, body from public.webhook_deliveries where tenant_id = $1`, [a.id])
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) {
      expect(r.secret).toMatch(/^v1:/)
      expect(r.secret).not.toContain(SECRET)
      expect(r.body).not.toContain(SECRET)
    }
    await expect(asCaller(app.db, claims(a), (tx) => tx.query(`select secret from public.webhook_deliveries`))).rejects.toThrow(/permission denied/)
    const { rows: visible } = await asCaller(app.db, claims(a), (tx) => tx.query(`select id, status from public.webhook_deliveries`))
    expect(visible.length).toBe(rows.length)
    const { rows: other } = await asCaller(app.db, claims(b), (tx) => tx.query(`select id from public.webhook_deliveries`))
    expect(other).toEqual([])
    expect(output.lines.some((l) => l.includes('marketplace.webhook'))).toBe(true)
    for (const line of output.lines) expect(line).not.toContain(SECRET)
  })
})
