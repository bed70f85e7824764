import { spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/env.server.ts'
import '#app/features/ml/jobs.server.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { getThreadPool } from '#app/jobs/thread-pool.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { churnRows, uploadChurn, waitForTraining } from '#tests/support/ml.ts'

/*
  A training job's life beyond the happy path: cancelled through terminate_ray_job while its pool thread is in
  XGBoost (stopped within a second, nothing registered); a worker that dies mid-training (simulated on both engines
  from the state a dead worker leaves; on Postgres also a real worker process killed with SIGKILL): retried once,
  then failed with a reason — never left "running".
*/

let app: TestApp
let a: TestTenant
let datasetId: number

// Slow on purpose: thousands of rounds that keep improving a little, so the job is busy when we act on it.
const SLOW = { n_estimators: 2000, learning_rate: 0.001, early_stopping_rounds: 500, max_depth: 8 }

async function start(over: Record<string, unknown> = {}) {
  const r = await json(
    app.fetch('/api/v1/train/', {
      method: 'POST',
      headers: a.data_scientist.auth,
      json: { dataset_id: datasetId, predictor_name: `p-${Math.random().toString(36).slice(2, 8)}`, domain: 'Churn', problem_type: 'Classification', columns: [{ column_name: 'Churn', attribute_name: 'Target' }, { column_name: 'CustomerID', attribute_name: 'Id' }], algorithm: 'xgboost', shap_enabled: false, ...over },
    }),
  )
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body as { id: number; job_id: string }
}

async function jobRow(jobId: string) {
  return (await app.db.query<{ status: string; message: string | null; error: string | null; progress: number }>(`select status, message, error, progress from public.jobs where id = $1`, [jobId])).rows[0]
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const setEnv = (vars: Record<string, string | undefined>) => {
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]
  else process.env[k] = v
  resetEnvCache()
}

beforeAll(async () => {
  app = await setupTestApp()
  a = await app.createTenant()
  datasetId = await uploadChurn(app, a.admin, 'churn_jobs', churnRows(1200, 9))
  await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
})
afterAll(async () => {
  setEnv({ HD_TRAIN_STALE_SECONDS: undefined, HD_TRAIN_HEARTBEAT_SECONDS: undefined })
  await stopWorker({ timeoutMs: 2000 })
  await app.close()
})

describe('cancellation', () => {
  it('terminate_ray_job?usage=training stops the pool thread within a second; the row says cancelled; nothing is registered', async () => {
    const t = await start({ hyperparameters: SLOW })
    await until('the training step', async () => (await jobRow(t.job_id)).message?.startsWith('Training: XGBoost'))
    expect(getThreadPool().stats().busy).toBe(1)
    const r = await json(app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=${t.job_id}&usage=training`, { method: 'POST', headers: a.data_scientist.auth }))
    // From the committed cancel to the thread gone (the request itself waits for the database like any other).
    const asked = Date.now()
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body).toMatchObject({ status: 'success', train_id: t.id, message: expect.stringContaining(t.job_id) })
    await until('the thread to stop', async () => getThreadPool().stats().busy === 0, 1000)
    expect(Date.now() - asked).toBeLessThan(1000)
    const list = await json(app.fetch('/api/v1/train/list', { headers: a.viewer.auth }))
    expect(list.body.data.find((x: { id: number }) => x.id === t.id)).toMatchObject({ status: 'cancelled', training_status: 'Cancelled', ml_model_status: 'cancelled' })
    await new Promise((r) => setTimeout(r, 500))
    expect((await app.db.query(`select 1 from public.model_versions where training_id = $1`, [t.id])).rows).toHaveLength(0)
    // Terminating a finished job is a conflict; a viewer may not; by training id works too.
    expect((await json(app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=${t.id}&usage=training`, { method: 'POST', headers: a.data_scientist.auth }))).status).toBe(200)
    expect((await json(app.fetch(`/api/v1/ray/terminate_ray_job?ray_job_id=${t.job_id}&usage=training`, { method: 'POST', headers: a.viewer.auth }))).status).toBe(403)
  })

  it('deleting a running training cancels its job first', async () => {
    const t = await start({ hyperparameters: SLOW })
    await until('running', async () => (await jobRow(t.job_id)).status === 'running')
    const d = await json(app.fetch(`/api/v1/train/delete/${t.id}`, { method: 'DELETE', headers: a.data_scientist.auth }))
    expect(d.status).toBe(200)
    await until('the thread to stop', async () => getThreadPool().stats().busy === 0, 3000)
    expect((await jobRow(t.job_id)).status).toBe('cancelled')
  })
})

describe('a worker lost mid-training', () => {
  /** What a worker that fetched the job and then died leaves behind: pg-boss active, the row running, no heartbeat. */
  async function orphan(jobId: string) {
    await app.db.query(`update pgboss.job set state = 'active', started_on = now() where id = $1`, [jobId])
    await app.db.query(`update public.jobs set status = 'running', started_at = now(), message = 'Training: XGBoost: round 5 of 40' where id = $1`, [jobId])
  }

  it('is retried once (refresh finds no heartbeat), then completes on a live worker', async () => {
    await stopWorker({ timeoutMs: 2000 })
    const t = await start({ hyperparameters: { n_estimators: 20 } })
    await orphan(t.job_id)
    setEnv({ HD_TRAIN_STALE_SECONDS: '1' })
    // Not stale yet: nothing happens.
    expect((await json(app.fetch('/api/v1/train/refresh', { headers: a.viewer.auth }))).body.refreshed.retried).toEqual([])
    await new Promise((r) => setTimeout(r, 1300))
    const r = await json(app.fetch('/api/v1/train/refresh', { headers: a.viewer.auth }))
    expect(r.status).toBe(200)
    expect(r.body.refreshed.retried).toEqual([t.id])
    expect(r.body.data.find((x: { id: number }) => x.id === t.id)).toMatchObject({ status: 'submitted' })
    expect((await app.db.query(`select state from pgboss.job where id = $1`, [t.job_id])).rows[0].state).toBe('retry')
    setEnv({ HD_TRAIN_STALE_SECONDS: undefined })
    await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
    const done = await waitForTraining(app, a.viewer, t.id)
    expect(done.status, JSON.stringify(done)).toBe('completed')
    const log = (await app.db.query<{ message: string }>(`select message from public.job_logs where job_id = $1 order by id`, [t.job_id])).rows.map((x) => x.message)
    expect(log.some((m) => /worker was lost; queued again/.test(m))).toBe(true)
    expect(log.some((m) => /Attempt 2/.test(m))).toBe(true)
  })

  it('lost a second time it fails with the reason, and stays failed', async () => {
    await stopWorker({ timeoutMs: 2000 })
    const t = await start({ hyperparameters: { n_estimators: 20 } })
    await app.db.query(`update public.training_jobs set lost_workers = 1 where id = $1`, [t.id])
    await orphan(t.job_id)
    setEnv({ HD_TRAIN_STALE_SECONDS: '1' })
    await new Promise((r) => setTimeout(r, 1300))
    const r = await json(app.fetch('/api/v1/train/refresh', { headers: a.viewer.auth }))
    expect(r.body.refreshed.failed).toEqual([t.id])
    const row = r.body.data.find((x: { id: number }) => x.id === t.id)
    expect(row).toMatchObject({ status: 'failed', training_status: 'Failed', error: expect.stringMatching(/lost twice/) })
    setEnv({ HD_TRAIN_STALE_SECONDS: undefined })
    await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
    await new Promise((r) => setTimeout(r, 1500))
    expect((await jobRow(t.job_id)).status).toBe('failed')
  })

  it.runIf(!!process.env.TEST_DATABASE_URL)('Postgres: a real worker process killed with SIGKILL mid-training; the job is retried and completes', async () => {
    await stopWorker({ timeoutMs: 2000 })
    const root = path.resolve(import.meta.dirname, '../..')
    // The production worker (npm run worker) on this test's database.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/worker.ts')], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: app.url!, HD_TRAIN_HEARTBEAT_SECONDS: '0.5', NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready in') && resolve())
        child.on('exit', (code) => reject(new Error(`worker exited ${code}`)))
      })
      const t = await start({ hyperparameters: { n_estimators: 300, learning_rate: 0.001, early_stopping_rounds: 300, max_depth: 8 } })
      await until('the child to train', async () => (await jobRow(t.job_id)).message?.startsWith('Training: XGBoost'), 60_000)
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      expect((await jobRow(t.job_id)).status).toBe('running')
      setEnv({ HD_TRAIN_STALE_SECONDS: '1.5' })
      await new Promise((r) => setTimeout(r, 1800))
      const r = await json(app.fetch('/api/v1/train/refresh', { headers: a.viewer.auth }))
      expect(r.body.refreshed.retried).toEqual([t.id])
      setEnv({ HD_TRAIN_STALE_SECONDS: undefined })
      await startWorker(app.db, { pollingIntervalSeconds: 0.5 })
      const done = await waitForTraining(app, a.viewer, t.id, 120_000)
      expect(done.status, JSON.stringify(done)).toBe('completed')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }, 240_000)
})
