import { asCaller, type Claims, type Db, type Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { createDataset, serverLoadTx } from '#app/features/datasets/datasets.server.ts'
import { createTraining } from '#app/features/ml/ml.server.ts'
import { trainInput } from '#app/features/ml/schemas.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { CHURN_COLUMNS, churnCsv } from './churn.ts'
import { DEMO_TENANTS, type DemoTenant } from './seed.server.ts'

/*
  Demo models: per tenant a "customer-churn" dataset (the Telco churn shape, app/demo/churn.ts) validated against its
  template (the seed); then, once the job system runs, a churn model's training queued as the tenant's data scientist
  (queueDemoModels, from boot). The worker trains it in seconds after first boot: boot is not slower, and the Models page
  shows a real model. SEED_DEMO_DATA=false (the test suites' switch) skips both.
*/

const ROWS: Record<string, number> = { acme: 3000, globex: 1000 }
const DATASET = 'customer-churn'
const MODEL = 'churn-model'

export async function seedModels(db: Sql, tenants: DemoTenant[]) {
  const store = getFileStore()
  for (const t of tenants) {
    await db.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claimsOf(t.id, t.users.data_scientist))])
    const { rows: tpl } = await db.query<{ id: number }>(
      `insert into public.templates (tenant_id, template_name, template_schema) values ($1, 'Customer Churn', $2::jsonb) returning id`,
      [t.id, JSON.stringify(CHURN_COLUMNS)],
    )
    const key = `tenants/${t.id}/uploads/demo/${DATASET}.csv`
    const { size } = await store.put(key, Buffer.from(churnCsv(ROWS[t.slug] ?? 1000, t.slug === 'acme' ? 7043 : 1043), 'utf8'))
    await createDataset(serverLoadTx(db), t.id, { dataset_name: DATASET, usage: 't', template_id: tpl[0].id }, CHURN_COLUMNS, false, [{ fileName: `${DATASET}.csv`, key, size }])
  }
  await db.query(`select set_config('request.jwt.claims', '', true)`)
}

const claimsOf = (tenantId: string, userId: string): Claims => ({ sub: userId, role: 'authenticated', app_metadata: { tenant_id: tenantId, roles: ['data_scientist'] } })

/**
 * Queues the demo churn models' trainings (once the job system runs: after the seed, at first boot). One per demo
 * tenant that has the churn dataset and no training of that name; returns the training ids.
 */
export async function queueDemoModels(db: Db, log: (m: string) => void = () => {}) {
  const { rows } = await db.query<{ tenant_id: string; dataset_id: number; user_id: string }>(
    `select d.tenant_id, d.id as dataset_id, p.user_id
       from public.datasets d
       join public.tenants t on t.id = d.tenant_id
       join public.profiles p on p.tenant_id = d.tenant_id and p.username = t.slug || '-data-scientist'
      where d.dataset_name = $1 and d.is_valid and t.id = any($2::uuid[])
        and not exists (select 1 from public.training_jobs j where j.tenant_id = d.tenant_id and j.predictor_name = $3)`,
    [DATASET, DEMO_TENANTS.map((t) => t.id), MODEL],
  )
  const ids: number[] = []
  for (const r of rows) {
    const claims = claimsOf(r.tenant_id, r.user_id)
    const caller = { kind: 'user', via: 'cookie', userId: r.user_id, tenantId: r.tenant_id, roles: ['data_scientist'], permissions: new Set(['models.write']), claims } as unknown as Caller
    // As the data scientist (RLS applies: the name check and the rows are the tenant's own).
    const t = await asCaller(db, claims, async (tx) => {
      return createTraining(
        tx,
        caller,
        trainInput.parse({
          dataset_id: r.dataset_id,
          predictor_name: MODEL,
          domain: 'telecom',
          problem_type: 'Classification',
          columns: [
            { column_name: 'customerID', attribute_name: 'Id' },
            { column_name: 'Churn', attribute_name: 'Target' },
          ],
          engine: 'wasm',
          cv_folds: 3,
        }),
      )
    })
    ids.push(t.id)
  }
  if (ids.length) log(`queued the demo churn model's training (${ids.map((i) => `#${i}`).join(', ')}): the worker trains it now`)
  return ids
}
