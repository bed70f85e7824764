import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import '#app/features/marketplace/jobs.server.ts'
import { verifyWebhookSignature } from '#app/features/marketplace/webhooks.server.ts'
import { startWorker } from '#app/jobs/jobs.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { closeMarketplaceTest, marketplaceEnv, providerPostgresSource, type ProviderDb } from '#tests/support/marketplace.ts'

vi.hoisted(() => {
  // a deployment job looks at its live window every 0.2 s (default 5 s)
  process.env.HD_DEPLOY_TICK_SECONDS = '0.2'
})

/*
  Deploying asset versions on a real database and worker (decision 063), through real executions of a SQL asset over
  the machine's Postgres: version 1.0.0 answers `100 / d`; later versions are written so that some inputs fail in
  the source itself (`100 / (d - 3)`: division by zero at d = 3) — a real error of the new version, metered as one.
  - blue_green: the health check runs the candidate on the recorded inputs; failing ones keep the old version active;
    a healthy one takes all traffic at once and is watched for monitor_seconds.
  - canary: a share of live executions, growing step by step; a version whose executions breach the error-rate
    threshold is removed automatically; the window it was judged on is recounted from the meter.
  - notification webhooks, received by a local server, verified against the secret the deploy answer returned.
  - the failure paths: unknown version, bad body naming the field, another tenant, a viewer, a busy asset.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let pg: ProviderDb
let asset: string
let receiver: http.Server
let hookBase: string
const received: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = []
let env: ReturnType<typeof marketplaceEnv>
const V1 = '/api/v1/analytics'

async function call(user: TestUser, p: string, init: RequestInit & { json?: unknown } = {}) {
  return json(app.fetch(p, { ...init, headers: { ...user.auth, ...(init.headers as Record<string, string>) } }))
}
const exec = (user: TestUser, d: number) => call(user, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: { d } } })
const patchQuery = (query: string) =>
  call(a.admin, `${V1}/assets/${asset}`, { method: 'PATCH', json: { configuration: { query, parameters: [{ name: 'd', type: 'integer', default: 1 }] } } })
const deploy = (version: string, body: unknown, user = a.admin) => call(user, `${V1}/assets/${asset}/versions/${version}/deploy`, { method: 'POST', json: body })

async function until<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await get()
    if (done(v)) return v
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v).slice(0, 2000)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const deployment = async (id: string) => (await call(a.viewer, `${V1}/deployments/${id}`)).body.data
const ended = (id: string) => until(`deployment ${id}`, () => deployment(id), (d) => ['completed', 'failed', 'rolled_back'].includes(d.status))
const versions = async () => Object.fromEntries((await call(a.viewer, `${V1}/assets/${asset}/versions`)).body.data.map((v: { version: string; status: string }) => [v.version, v.status]))

beforeAll(async () => {
  env = marketplaceEnv()
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  const source = await providerPostgresSource(app, a.admin)
  pg = source.pg
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
  const r = await call(a.admin, `${V1}/assets`, {
    method: 'POST',
    json: {
      name: 'Hundred over d',
      category: 'reporting',
      data_sources: [{ source_id: source.sourceId }],
      configuration: { query: 'select 100 / :d as q', parameters: [{ name: 'd', type: 'integer', default: 1 }], timeout_ms: 30_000 },
    },
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  asset = r.body.data.asset_id
  expect((await call(a.admin, `${V1}/assets/${asset}`, { method: 'PATCH', json: { status: 'published' } })).status).toBe(200)
}, 120_000)

afterAll(() => closeMarketplaceTest({ env, worker: true, app, pg, receiver: receiver && { close: () => new Promise<void>((r) => receiver.close(() => r())) } }))

describe('blue_green', () => {
  it('a version that fails on the recorded inputs is not switched to: the old version keeps all traffic', async () => {
    // consumers' executions of 1.0.0 are the recorded inputs (d = 3 among them)
    for (const d of [3, 1, 3, 2, 4, 3]) {
      const r = await exec(b.operator, d)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      expect(r.body.data.results.rows).toEqual([{ q: Math.trunc(100 / d) }])
    }
    const p = await patchQuery('select 100 / (:d - 3) as q')
    expect(p.body.data).toMatchObject({ version: '1.1.0', version_status: 'candidate' })
    const r = await deploy('1.1.0', { deployment_strategy: 'blue_green', rollback_threshold: { error_rate: 0.05 } })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    expect(r.body.data).toMatchObject({ asset_id: asset, version: '1.1.0', from_version: '1.0.0', status: 'deploying', strategy: 'blue_green', deployment_id: expect.stringMatching(/^deploy_/) })
    expect(Date.parse(r.body.data.estimated_completion)).toBeGreaterThan(Date.parse(r.body.data.started_at))
    const d = await ended(r.body.data.deployment_id)
    expect(d.status).toBe('failed')
    // independently: which of the recorded inputs divide by zero under the new query
    const { rows: samples } = await app.db.query<{ input: { d: number } }>(`select input from public.asset_sample_inputs where asset_id = $1`, [asset])
    expect(samples.length).toBeGreaterThan(0)
    const zero = samples.filter((s) => s.input.d === 3).length
    expect(d.health_check).toMatchObject({ samples: samples.length, failed: zero, passed: samples.length - zero, ok: zero === 0 })
    expect(d.health_check.failures[0]).toMatchObject({ code: 'DATABASE_ERROR' })
    expect(d.reason).toMatch(/^health check failed/)
    expect(d.switched_at).toBeNull()
    expect(await versions()).toMatchObject({ '1.0.0': 'active', '1.1.0': 'failed' })
    const e = await exec(b.operator, 3)
    expect(e.body.data.metadata.model_version).toBe('1.0.0')
  }, 120_000)

  it('a healthy version takes all traffic at once, is watched, and completes', async () => {
    const p = await patchQuery('select 200 / :d as q')
    expect(p.body.data).toMatchObject({ version: '1.2.0', version_status: 'candidate' })
    const r = await deploy('1.2.0', { rollback_threshold: { error_rate: 0.5, response_time: 5000 }, monitor_seconds: 1, notification_webhooks: [`${hookBase}/bg`] })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    expect(r.body.data.strategy).toBe('blue_green')
    const d = await ended(r.body.data.deployment_id)
    expect(d.status, JSON.stringify(d)).toBe('completed')
    expect(d.health_check).toMatchObject({ ok: true, failed: 0 })
    expect(d.log.map((l: { event: string }) => l.event)).toEqual(['requested', 'health_check_passed', 'switched', 'completed'])
    expect(await versions()).toMatchObject({ '1.0.0': 'deprecated', '1.1.0': 'failed', '1.2.0': 'active' })
    for (const x of [1, 3, 7]) {
      const e = await exec(b.operator, x)
      expect(e.body.data.metadata.model_version).toBe('1.2.0')
      expect(e.body.data.results.rows).toEqual([{ q: Math.trunc(200 / x) }])
    }
    // each step told to the webhook, signed with the secret the deploy answer returned
    const secret = r.body.data.notifications.webhook_secret
    expect(secret).toMatch(/^whsec_/)
    const hooks = await until('bg notifications', async () => received.filter((h) => h.path === '/bg'), (h) => h.length >= 3)
    for (const h of hooks) expect(verifyWebhookSignature(secret, h.headers['hotdash-signature'] as string, h.body)).toMatchObject({ ok: true })
    expect(hooks.map((h) => JSON.parse(h.body).event).sort()).toEqual(['deployment.completed', 'deployment.health_check_passed', 'deployment.switched'])
    expect(JSON.parse(hooks.find((h) => JSON.parse(h.body).event === 'deployment.switched')!.body).data).toMatchObject({ deployment_id: d.deployment_id, version: '1.2.0', from_version: '1.0.0' })
  }, 120_000)
})

describe('canary', () => {
  it('a canary whose live executions breach the error-rate threshold is rolled back automatically', async () => {
    const p = await patchQuery('select 100 / (:d - 3) as q')
    expect(p.body.data.version).toBe('1.3.0')
    const r = await deploy('1.3.0', { deployment_strategy: 'canary', canary: { steps: [0.5], step_interval_seconds: 600 }, min_executions: 4, rollback_threshold: { error_rate: 0.1 } })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    const id = r.body.data.deployment_id
    await until('canary', () => deployment(id), (d) => d.status === 'canary')
    expect((await call(a.viewer, `${V1}/assets/${asset}`)).body.data.canary).toEqual({ version: '1.3.0', share: 0.5 })
    expect(await versions()).toMatchObject({ '1.2.0': 'active', '1.3.0': 'canary' })
    // real consumer executions at d = 3: the canary's fail in the source (502), the active version's answer
    const seen = { canary: 0, active: 0 }
    let d = await deployment(id)
    for (let i = 0; i < 300 && d.status === 'canary'; i++) {
      const e = await exec(b.operator, 3)
      if (e.status === 200) {
        expect(e.body.data.metadata.model_version).toBe('1.2.0')
        seen.active++
      } else {
        expect(e.status).toBe(502)
        expect(e.body.error.code).toBe('DATABASE_ERROR')
        seen.canary++
      }
      d = await deployment(id)
    }
    d = await ended(id)
    expect(d.status).toBe('rolled_back')
    expect(seen.canary).toBeGreaterThanOrEqual(4)
    expect(seen.active).toBeGreaterThan(0)
    // the window it was judged on, recounted from the meter
    const judged = d.log.find((l: { event: string }) => l.event === 'rolled_back').window
    const { rows: m } = await app.db.query(
      `select count(*) filter (where e.status <> 'rejected')::int as ran, count(*) filter (where e.status = 'error')::int as errors
         from public.asset_executions e join public.asset_versions v on v.id = e.version_id
        where e.asset_id = $1 and v.version = '1.3.0' and e.created_at >= $2::timestamptz and e.created_at <= $3::timestamptz`,
      [asset, judged.from, judged.to],
    )
    expect(judged).toMatchObject({ executions: m[0].ran, errors: m[0].errors, error_rate: m[0].errors / m[0].ran })
    expect(judged.executions).toBeGreaterThanOrEqual(4)
    expect(judged.error_rate).toBe(1)
    expect(d.reason).toMatch(/error rate 100% .* above the threshold 10%/)
    expect((await call(a.viewer, `${V1}/assets/${asset}`)).body.data.canary).toBeNull()
    expect(await versions()).toMatchObject({ '1.2.0': 'active', '1.3.0': 'rolled_back' })
    for (let i = 0; i < 5; i++) expect((await exec(b.operator, 3)).body.data.metadata.model_version).toBe('1.2.0')
    const list = await call(a.viewer, `${V1}/assets/${asset}/versions`)
    expect(list.body.meta.deployment).toMatchObject({ deployment_id: id, status: 'rolled_back', version: '1.3.0' })
  }, 150_000)

  it('a healthy canary grows step by step, then takes all traffic; each step is notified', async () => {
    const r = await deploy('1.3.0', {
      deployment_strategy: 'canary',
      canary: { steps: [0.3, 0.6], step_interval_seconds: 1 },
      min_executions: 3,
      rollback_threshold: { error_rate: 0.2 },
      notification_webhooks: [`${hookBase}/canary`],
    })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    expect(r.body.data.canary).toEqual({ steps: [0.3, 0.6], step_interval_seconds: 1, min_executions: 3 })
    const id = r.body.data.deployment_id
    const shares: number[] = []
    let d = await until('canary', () => deployment(id), (x) => x.status === 'canary')
    for (let i = 0; i < 400 && d.status === 'canary'; i++) {
      const e = await exec(b.operator, 1)
      expect(e.status).toBe(200)
      expect(e.body.data.results.rows).toEqual([{ q: e.body.data.metadata.model_version === '1.3.0' ? Math.trunc(100 / (1 - 3)) : 200 }])
      d = await deployment(id)
      if (d.canary?.traffic_share !== null && !shares.includes(d.canary.traffic_share)) shares.push(d.canary.traffic_share)
    }
    d = await ended(id)
    expect(d.status, JSON.stringify(d)).toBe('completed')
    expect(shares.slice(0, 2)).toEqual([0.3, 0.6])
    expect(d.log.map((l: { event: string; share?: number }) => [l.event, l.share ?? null])).toEqual([
      ['requested', null],
      ['canary_step', 0.3],
      ['canary_step', 0.6],
      ['completed', null],
    ])
    expect(await versions()).toMatchObject({ '1.2.0': 'deprecated', '1.3.0': 'active' })
    const hooks = await until('canary notifications', async () => received.filter((h) => h.path === '/canary'), (h) => h.length >= 3)
    const secret = r.body.data.notifications.webhook_secret
    for (const h of hooks) expect(verifyWebhookSignature(secret, h.headers['hotdash-signature'] as string, h.body).ok).toBe(true)
    expect(hooks.map((h) => [JSON.parse(h.body).event, JSON.parse(h.body).data.traffic_share]).sort()).toEqual([
      ['deployment.canary_step', 0.3],
      ['deployment.canary_step', 0.6],
      ['deployment.completed', 1],
    ])
    // the deliveries are in the deployment's view
    const view = await deployment(id)
    expect(view.notifications.deliveries.length).toBe(3)
  }, 150_000)
})

describe('failure paths', () => {
  it('unknown version 404; bad bodies 400 naming the field; nothing written', async () => {
    const before = (await app.db.query(`select count(*)::int as n from public.asset_deployments`)).rows[0].n
    const nf = await deploy('9.9.9', {})
    expect(nf.status).toBe(404)
    expect(nf.body.error.code).toBe('NOT_FOUND')
    const cases: [string, unknown, string][] = [
      ['1.x', {}, 'version'],
      ['1.0.0', { deployment_strategy: 'rolling' }, 'deployment_strategy'],
      ['1.0.0', { deployment_strategy: 'blue_green', canary: { steps: [0.5] } }, 'canary'],
      ['1.0.0', { deployment_strategy: 'canary', canary: { steps: [0.5, 0.2] } }, 'canary.steps'],
      ['1.0.0', { deployment_strategy: 'canary', canary: { steps: [1] } }, 'canary.steps.0'],
      ['1.0.0', { rollback_threshold: {} }, 'rollback_threshold'],
      ['1.0.0', { rollback_threshold: { error_rate: 2 } }, 'rollback_threshold.error_rate'],
      ['1.0.0', { rollback_threshold: { latency: 5 } }, 'rollback_threshold'],
      ['1.0.0', { notification_webhooks: ['not a url'] }, 'notification_webhooks.0'],
      ['1.0.0', { notification_webhooks: ['http://169.254.169.254/latest'] }, 'notification_webhooks.0'],
      ['1.0.0', { min_executions: 0 }, 'min_executions'],
    ]
    for (const [version, body, field] of cases) {
      const r = await deploy(version, body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error.details.fields?.[0]?.field ?? r.body.error.details.field, JSON.stringify(body)).toBe(field)
    }
    expect((await app.db.query(`select count(*)::int as n from public.asset_deployments`)).rows[0].n).toBe(before)
  })

  it('the active version 409; another deployment in flight 409', async () => {
    const active = await deploy('1.3.0', {})
    expect(active.status).toBe(409)
    expect(active.body.error.details.field).toBe('version')
    const first = await deploy('1.2.0', { deployment_strategy: 'canary', canary: { steps: [0.1], step_interval_seconds: 3600 } })
    expect(first.status).toBe(202)
    const second = await deploy('1.0.0', {})
    expect(second.status).toBe(409)
    expect(second.body.error.details.deployment_id).toBe(first.body.data.deployment_id)
    // stopping it removes the canary
    await until('canary', () => deployment(first.body.data.deployment_id), (x) => x.status === 'canary')
    expect((await call(a.viewer, `${V1}/deployments/${first.body.data.deployment_id}`, { method: 'DELETE' })).status).toBe(403)
    expect((await call(a.admin, `${V1}/deployments/${first.body.data.deployment_id}`, { method: 'DELETE' })).status).toBe(202)
    const d = await ended(first.body.data.deployment_id)
    expect(d.status).toBe('rolled_back')
    expect(d.reason).toBe('the deployment was cancelled')
    expect((await call(a.viewer, `${V1}/assets/${asset}`)).body.data.canary).toBeNull()
    expect((await call(a.admin, `${V1}/deployments/${first.body.data.deployment_id}`, { method: 'DELETE' })).status).toBe(409)
  }, 120_000)

  it("another tenant cannot deploy the provider's asset or read its deployments; a viewer cannot deploy", async () => {
    const foreign = await deploy('1.2.0', {}, b.admin)
    expect(foreign.status).toBe(403)
    const { rows } = await app.db.query<{ id: string }>(`select id from public.asset_deployments where asset_id = $1 limit 1`, [asset])
    expect((await call(b.admin, `${V1}/deployments/${rows[0].id}`)).status).toBe(404)
    expect((await call(b.admin, `${V1}/assets/${asset}/versions`)).status).toBe(404)
    expect((await deploy('1.2.0', {}, a.viewer)).status).toBe(403)
    // a draft of tenant A does not exist for tenant B
    const draft = await call(a.admin, `${V1}/assets`, { method: 'POST', json: { name: 'draft', category: 'reporting', data_sources: (await call(a.admin, `${V1}/assets/${asset}`)).body.data.data_sources.map((s: { source_id: string }) => ({ source_id: s.source_id })), configuration: { query: 'select 1 as one' } } })
    expect((await call(b.admin, `${V1}/assets/${draft.body.data.asset_id}/versions/1.0.0/deploy`, { method: 'POST', json: {} })).status).toBe(404)
    // consumers' recorded inputs are readable by no API role
    await expect(
      asCaller(app.db, { sub: a.admin.userId, role: 'authenticated', app_metadata: { tenant_id: a.id } }, (tx) => tx.query(`select input from public.asset_sample_inputs`)),
    ).rejects.toThrow(/permission denied/)
    await expect(
      asCaller(app.db, { sub: a.admin.userId, role: 'authenticated', app_metadata: { tenant_id: a.id } }, (tx) => tx.query(`select secret from public.asset_notification_secrets`)),
    ).rejects.toThrow(/permission denied/)
  })
})

describe('blue_green watch', () => {
  it('a switched version whose live executions breach the threshold is switched back', async () => {
    // fails at d = 11 only: no recorded input has it, so the health check passes
    const p = await patchQuery('select 100 / (:d - 11) as q')
    expect(p.body.data).toMatchObject({ version: '1.4.0', version_status: 'candidate' })
    const r = await deploy('1.4.0', { rollback_threshold: { error_rate: 0.2 }, min_executions: 4, monitor_seconds: 120 })
    expect(r.status, JSON.stringify(r.body)).toBe(202)
    const id = r.body.data.deployment_id
    let d = await until('monitoring', () => deployment(id), (x) => x.status !== 'deploying' && x.status !== 'health_check')
    expect(d.status, JSON.stringify(d)).toBe('monitoring')
    expect(await versions()).toMatchObject({ '1.3.0': 'deprecated', '1.4.0': 'active' })
    for (let i = 0; i < 50 && d.status === 'monitoring'; i++) {
      const e = await exec(b.operator, 11)
      expect([200, 502]).toContain(e.status)
      d = await deployment(id)
    }
    d = await ended(id)
    expect(d.status).toBe('rolled_back')
    const judged = d.log.find((l: { event: string }) => l.event === 'rolled_back').window
    expect(judged.executions).toBeGreaterThanOrEqual(4)
    expect(judged.error_rate).toBe(1)
    expect(await versions()).toMatchObject({ '1.3.0': 'active', '1.4.0': 'rolled_back' })
    const e = await exec(b.operator, 11)
    expect(e.body.data).toMatchObject({ metadata: { model_version: '1.3.0' }, results: { rows: [{ q: Math.trunc(100 / (11 - 3)) }] } })
  }, 120_000)
})
