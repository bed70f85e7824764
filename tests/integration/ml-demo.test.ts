import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { churnCsv } from '#app/demo/churn.ts'
import { queueDemoModels, seedModels } from '#app/demo/models.server.ts'
import { DEMO_TENANTS, seedDemo } from '#app/demo/seed.server.ts'
import '#app/features/ml/jobs.server.ts'
import { startWorker, stopWorker } from '#app/jobs/jobs.server.ts'
import { setupTestApp, type TestApp } from '#tests/support/app.ts'

/*
  The demo churn model: the seed writes the Telco-shaped churn dataset per demo tenant; once the job system runs, one
  training per tenant is queued (as its data scientist) and the worker trains it. Queued once: a second call adds none.
*/

let app: TestApp

beforeAll(async () => {
  app = await setupTestApp()
  await seedDemo(app.db, { seeders: [['seedModels', seedModels]] })
  await startWorker(app.db)
}, 120_000)

afterAll(async () => {
  await stopWorker({ timeoutMs: 5000 })
  await app?.close()
})

describe('demo churn model', () => {
  it('the churn table is deterministic and churn-shaped (about a quarter churn, month-to-month churns most)', () => {
    expect(churnCsv(500, 3)).toBe(churnCsv(500, 3))
    const rows = churnCsv(7043).trim().split('\n').slice(1).map((l) => l.split(','))
    const rate = (rs: string[][]) => rs.filter((r) => r[14] === 'Yes').length / rs.length
    expect(rate(rows)).toBeGreaterThan(0.22)
    expect(rate(rows)).toBeLessThan(0.32)
    expect(rate(rows.filter((r) => r[9] === 'Month-to-month'))).toBeGreaterThan(2 * rate(rows.filter((r) => r[9] === 'Two year')))
  })

  it('is queued once after the seed, trained by the worker, and registered with real metrics and importance', async () => {
    const ids = await queueDemoModels(app.db)
    expect(ids).toHaveLength(DEMO_TENANTS.length)
    expect(await queueDemoModels(app.db)).toEqual([])
    const until = Date.now() + 240_000
    let rows: { id: number; tenant_id: string; status: string; error: string | null; created_by_name: string | null; metrics: { roc_auc: number; rows: number } | null; importance: Record<string, number> | null }[] = []
    for (;;) {
      ;({ rows } = await app.db.query(
        `select t.id, t.tenant_id, j.status, j.error, t.created_by_name, m.metrics, f.result->'feature_importance' as importance
           from public.training_jobs t join public.jobs j on j.id = t.job_id
           left join public.model_versions m on m.id = t.model_id left join public.feature_importance f on f.training_id = t.id
          where t.id = any($1::bigint[]) order by t.id`,
        [ids],
      ))
      if (rows.every((r) => r.status !== 'queued' && r.status !== 'running')) break
      if (Date.now() > until) throw new Error(`demo trainings still running: ${JSON.stringify(rows.map((r) => r.status))}`)
      await new Promise((r) => setTimeout(r, 250))
    }
    for (const r of rows) {
      expect(r.status, r.error ?? '').toBe('completed')
      expect(r.created_by_name).toMatch(/data-scientist/)
      // Realistic: as separable as the real Telco data (AUC ≈ 0.85), not a toy.
      expect(r.metrics!.roc_auc).toBeGreaterThan(0.75)
      expect(r.metrics!.roc_auc).toBeLessThan(0.95)
      const top = Object.entries(r.importance!).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([c]) => c)
      expect(top).toEqual(expect.arrayContaining(['Contract']))
    }
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set(DEMO_TENANTS.map((t) => t.id)))
  }, 300_000)
})
