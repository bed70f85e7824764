/**
 * Marketplace batch benchmark: `npm run bench:marketplace-batch [-- --records 2000] [--floor 300]`.
 *
 * A published SQL asset over a scratch database on the machine's Postgres (as in the tests), executed by a consumer of
 * another tenant:
 *  1. the floor: `--floor` single executions through executeAsset one after another (what POST …/execute does, minus
 *     HTTP) — records/s and ms per execution;
 *  2. batches of `--records` through POST …/batch-execute's feature function and the `marketplace.batch` job, with
 *     parallel_processing false (one lane) and true (4 lanes): records/s from the job's start to its finish, and from
 *     the request to the last record.
 * Uses DATABASE_URL when set (Postgres), else an in-memory PGlite. Prints the load average (a shared machine).
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'

const args = process.argv.slice(2)
const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def)
const RECORDS = Number(arg('--records', '2000'))
const FLOOR = Number(arg('--floor', '300'))
process.env.LOG_REQUESTS = 'false'
process.env.NODE_ENV ??= 'test' // quiet job logs; a generated marketplace key
process.env.JWT_SECRET ??= 'hot-dash-bench-secret-0123456789abcdef0123456789'
process.env.HD_ALLOW_PRIVATE_TARGETS = '127.0.0.1/32'

const { openPostgres, openPglite, asCaller } = await import('../app/db/db.server.ts')
const { installDb } = await import('../app/db/index.server.ts')
const { migrate } = await import('../app/db/migrate.server.ts')
const { createTenant, provisionUser, builtinProvider, authenticateRequest } = await import('../app/features/auth/auth.server.ts')
await import('../app/features/marketplace/jobs.server.ts')
const mk = await import('../app/features/marketplace/marketplace.server.ts')
const { executeAsset } = await import('../app/features/marketplace/execute.server.ts')
const schemas = await import('../app/features/marketplace/schemas.ts')
const { startWorker, stopWorker } = await import('../app/jobs/jobs.server.ts')
const { providerPostgres } = await import('../tests/support/marketplace.ts')

const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ')
const engine = process.env.DATABASE_URL ? 'postgres' : 'pglite'
console.log(`bench:marketplace-batch — ${engine}, ${os.cpus().length} cores, load average ${load()} (1/5/15 min); batches of ${RECORDS}, floor ${FLOOR}`)

const db = process.env.DATABASE_URL ? openPostgres(process.env.DATABASE_URL, { max: 6 }) : await openPglite(undefined)
installDb(db)
await migrate(db)
await startWorker(db, { pollingIntervalSeconds: 0.5 })
const provider = await providerPostgres()

async function callerOf(slug: string, role: string) {
  const tenantId = (await createTenant(db, { name: slug, slug })).id
  await provisionUser(db, { tenantId, email: `${slug}@bench.example`, username: slug, password: `${slug}-pw-0123`, roles: [role] })
  const tokens = (await builtinProvider.signIn(db, slug, `${slug}-pw-0123`))!
  return (await authenticateRequest(new Request('http://bench/', { headers: { authorization: `Bearer ${tokens.access_token}` } }), db))!
}
const tag = Date.now().toString(36)
const providerAdmin = await callerOf(`bench-mk-provider-${tag}`, 'admin')
const consumer = await callerOf(`bench-mk-consumer-${tag}`, 'operator')

const asset = await asCaller(db, providerAdmin.claims, async (tx) => {
  const source = await mk.connectSource(
    tx,
    providerAdmin,
    schemas.createSourceBody.parse({
      name: 'bench source',
      type: 'postgres',
      connection_config: { host: '127.0.0.1', port: 5432, database: provider.database, username: provider.user, password: provider.password },
    }),
  )
  const created = await mk.createAsset(
    tx,
    providerAdmin,
    schemas.createAssetBody.parse({
      name: 'bench revenue by region',
      category: 'reporting',
      pricing: { model: 'free' },
      data_sources: [{ source_id: source.data.source_id, tables: ['orders'] }],
      configuration: {
        query: 'select region, count(*) as orders, sum(total) as revenue from orders where region = :region and day >= :since group by region',
        parameters: [
          { name: 'region', type: 'string', enum: ['north', 'south', 'east'] },
          { name: 'since', type: 'date', default: '2025-01-01' },
        ],
      },
    }),
  )
  await mk.patchAsset(tx, providerAdmin, created.data.asset_id, schemas.patchAssetBody.parse({ status: 'published' }))
  return created.data.asset_id as string
})

const inputOf = (i: number) => ({ region: ['north', 'south', 'east'][i % 3], since: `2025-01-${String(1 + (i % 28)).padStart(2, '0')}` })

// 1. the floor: one execution after another
const one = schemas.executeBody.parse({ input_data: inputOf(0) })
await executeAsset(db, consumer, asset, one) // warm: subscription, plans, the source's pool
let t = performance.now()
for (let i = 0; i < FLOOR; i++) await executeAsset(db, consumer, asset, { ...one, input_data: inputOf(i) })
const floorMs = performance.now() - t
console.log(`single executions (executeAsset, sequential)   ${(FLOOR / (floorMs / 1000)).toFixed(0).padStart(6)} records/s   ${(floorMs / FLOOR).toFixed(2)} ms each`)

// 2. batches
for (const parallel of [false, true]) {
  const body = schemas.batchBody.parse({ batch_data: Array.from({ length: RECORDS }, (_, i) => ({ id: `r${i}`, input_data: inputOf(i) })), parameters: { parallel_processing: parallel } })
  t = performance.now()
  const started = await mk.startBatch(consumer, asset, body, 'http://bench')
  const accepted = performance.now() - t
  const id = started.data.batch_id
  for (;;) {
    const { rows } = await db.query<{ status: string }>(`select j.status from public.asset_batches b join public.jobs j on j.id = b.job_id where b.id = $1`, [id])
    if (rows[0].status !== 'queued' && rows[0].status !== 'running') break
    await new Promise((r) => setTimeout(r, 100))
  }
  const total = performance.now() - t
  const { rows } = await db.query<{ status: string; job_ms: number; ok: number; failed: number }>(
    `select j.status, extract(epoch from (j.finished_at - j.started_at)) * 1000 as job_ms,
            (select count(*) from public.asset_batch_records r where r.batch_id = b.id and r.status = 'success')::int as ok,
            (select count(*) from public.asset_batch_records r where r.batch_id = b.id and r.status = 'error')::int as failed
       from public.asset_batches b join public.jobs j on j.id = b.job_id where b.id = $1`,
    [id],
  )
  const r = rows[0]
  console.log(
    `batch of ${RECORDS}, parallel_processing ${String(parallel).padEnd(5)}        ${(RECORDS / (Number(r.job_ms) / 1000)).toFixed(0).padStart(6)} records/s in the job (${(Number(r.job_ms) / 1000).toFixed(2)} s), ` +
      `${(RECORDS / (total / 1000)).toFixed(0)} records/s request → done (${(total / 1000).toFixed(2)} s; POST ${accepted.toFixed(0)} ms); ${r.status}, ${r.ok} ok, ${r.failed} failed`,
  )
}
console.log(`load average after: ${load()}`)

await stopWorker({ timeoutMs: 2000 })
await provider.drop()
await db.close()
process.exit(0)
