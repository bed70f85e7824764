/**
 * Analytics service benchmark: `npm run bench:analytics [-- --rows 1000000] [--repeat 5] [--cluster-rows 100000]`.
 *
 * Needs DATABASE_URL (e.g. `createdb -h 127.0.0.1 -U postgres hd_analytics`, then
 * DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_analytics). Creates once a tenant with a dataset of --rows
 * rows (generated in SQL straight into its silver table), then times each endpoint's feature function as an admin
 * of that tenant (the path the API route takes, minus HTTP), median of --repeat runs, each beside a reference
 * measured in the same run: the bare SQL aggregate a hand-written query would use over the same table.
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'

const args = process.argv.slice(2)
const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def)
const ROWS = Number(arg('--rows', '1000000'))
const REPEAT = Number(arg('--repeat', '5'))
const CLUSTER_ROWS = Number(arg('--cluster-rows', '100000'))
const DATABASE_URL = process.env.DATABASE_URL
if (!DATABASE_URL) {
  console.error('Set DATABASE_URL to the Postgres to benchmark against (e.g. postgres://postgres@127.0.0.1:5432/hd_analytics)')
  process.exit(1)
}
process.env.LOG_REQUESTS = 'false'
process.env.JWT_SECRET ??= 'hot-dash-bench-secret-0123456789abcdef0123456789'

const { openPostgres, asCaller } = await import('../app/db/db.server.ts')
const { installDb } = await import('../app/db/index.server.ts')
const { migrate } = await import('../app/db/migrate.server.ts')
const { createTenant, provisionUser } = await import('../app/features/auth/auth.server.ts')
const { builtinProvider } = await import('../app/features/auth/auth.server.ts')
const { authenticateRequest } = await import('../app/features/auth/auth.server.ts')
const { physicalTable } = await import('../app/features/datasets/model.ts')
const a = await import('../app/features/analytics/analytics.server.ts')
const schemas = await import('../app/features/analytics/schemas.ts')
const { closeThreadPool } = await import('../app/jobs/thread-pool.server.ts')

const db = openPostgres(DATABASE_URL, { max: 4 })
installDb(db)
await migrate(db)

// ------------------------------------------------------------------ data
const SLUG = 'bench-analytics'
const NAME = `bench_${ROWS}`
let tenantId = (await db.query<{ id: string }>(`select id from public.tenants where slug = $1`, [SLUG])).rows[0]?.id
if (!tenantId) {
  tenantId = (await createTenant(db, { name: 'Bench analytics', slug: SLUG })).id
  await provisionUser(db, { tenantId, email: 'bench-analytics@bench.example', username: 'bench-analytics', password: 'bench-analytics-pw', roles: ['admin'] })
}
const COLUMNS = [
  { column_name: 'day', data_type: 'Date', default_value: null },
  { column_name: 'region', data_type: 'String', default_value: null },
  { column_name: 'marketing_spend', data_type: 'Float', default_value: null },
  { column_name: 'price', data_type: 'Float', default_value: null },
  { column_name: 'visits', data_type: 'Integer', default_value: null },
  { column_name: 'revenue', data_type: 'Float', default_value: null },
]
let datasetId = (await db.query<{ id: number }>(`select id from public.datasets where tenant_id = $1 and dataset_name = $2`, [tenantId, NAME])).rows[0]?.id
const table = physicalTable(tenantId, NAME)
if (!datasetId) {
  const started = performance.now()
  datasetId = await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: number }>(
      `insert into public.datasets (tenant_id, dataset_name, usage, iceberg_table_name, columns, total_records, valid_records, is_valid)
       values ($1, $2, 't', $2, $3::jsonb, $4, $4, true) returning id`,
      [tenantId, NAME, JSON.stringify(COLUMNS), ROWS],
    )
    await tx.exec(`
      create table silver.${table} (_hd_file_id bigint not null, _hd_row bigint not null, day date, region text,
        marketing_spend double precision, price double precision, visits bigint, revenue double precision);
      select setseed(0.42);
      insert into silver.${table}
      select 1, g, date '2021-01-01' + (g % 1460)::int,
             (array['north','south','east','west'])[1 + floor(random() * random() * 4)::int],
             s, p, v, 5000 + 900 * sqrt(s) - 6 * (p - 100) ^ 2 + 3 * v + (random() - 0.5) * 3000
        from (select g, 2000 + random() * 8000 as s, 80 + random() * 40 as p, (200 + random() * 800)::bigint as v
                from generate_series(1, ${ROWS}) g) x;
      analyze silver.${table};`)
    await tx.query(`insert into public.dataset_tables (tenant_id, dataset_id, schema_name, table_name, display_name) values ($1, $2, 'silver', $3, $4)`, [
      tenantId, rows[0].id, table, NAME,
    ])
    return rows[0].id
  })
  console.log(`generated ${ROWS.toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
const tokens = (await builtinProvider.signIn(db, 'bench-analytics', 'bench-analytics-pw'))!
const caller = (await authenticateRequest(new Request('http://bench/', { headers: { authorization: `Bearer ${tokens.access_token}` } }), db))!
const T = `silver.${table}`

// ------------------------------------------------------------------ timing
async function time(fn: () => Promise<unknown>) {
  await fn() // warm (plans, caches)
  const ms: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now()
    await fn()
    ms.push(performance.now() - t)
  }
  ms.sort((x, y) => x - y)
  return { median: ms[Math.floor(ms.length / 2)], min: ms[0], max: ms[ms.length - 1] }
}
const asAdmin = <T>(fn: (tx: Parameters<Parameters<typeof asCaller>[2]>[0]) => Promise<T>) => asCaller(db, caller.claims, fn)
const sql = (text: string) => () => db.query(text)

const rowsOut: { what: string; ours: Awaited<ReturnType<typeof time>>; ref: Awaited<ReturnType<typeof time>>; refWhat: string }[] = []
async function compare(what: string, ours: () => Promise<unknown>, refWhat: string, ref: () => Promise<unknown>) {
  const o = await time(ours)
  const r = await time(ref)
  rowsOut.push({ what, ours: o, ref: r, refWhat })
  console.log(`${what.padEnd(58)} ${o.median.toFixed(0).padStart(7)} ms   ${refWhat.padEnd(52)} ${r.median.toFixed(0).padStart(7)} ms   ×${(o.median / r.median).toFixed(2)}`)
}

console.log(`\nanalytics bench: ${ROWS.toLocaleString('en-US')} rows, median of ${REPEAT} runs (after one warm-up), Postgres ${(await db.query<{ server_version: string }>(`show server_version`)).rows[0].server_version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (a shared machine: compare the ratios)\n`)
console.log(`${'ours (feature function as the caller)'.padEnd(58)} ${'ms'.padStart(10)}   ${'reference (bare SQL, same table)'.padEnd(52)} ${'ms'.padStart(10)}   ratio`)

const descr = (body: object) => () => asAdmin((tx) => a.describeDataset(tx, caller, schemas.descriptiveBody.parse({ dataset_id: datasetId, ...body })))
await compare(
  'descriptive: mean, median, std, quartiles of revenue',
  descr({ column: 'revenue' }),
  'count, avg, stddev_samp, percentile_cont ×3',
  sql(`select count(revenue), avg(revenue), stddev_samp(revenue), percentile_cont(array[0.25,0.5,0.75]) within group (order by revenue) from ${T}`),
)
await compare(
  'descriptive: same, 1 year of dates, by region',
  descr({ column: 'revenue', group_by: ['region'], filters: { date_range: { start: '2022-01-01', end: '2022-12-31' } } }),
  'same aggregates, where day in 2022, grouping sets',
  sql(`select region, count(revenue), avg(revenue), stddev_samp(revenue), percentile_cont(array[0.25,0.5,0.75]) within group (order by revenue) from ${T}
        where day >= '2022-01-01' and day <= '2022-12-31' group by grouping sets ((), (region))`),
)
await compare(
  'descriptive: count, sum, mean, std, min, max of 4 columns',
  descr({ columns: ['marketing_spend', 'price', 'visits', 'revenue'], metrics: ['count', 'sum', 'mean', 'std', 'min', 'max'] }),
  'the same 24 aggregates',
  sql(`select ${['marketing_spend', 'price', 'visits', 'revenue'].map((c) => `count(${c}), sum(${c}::float8), avg(${c}::float8), stddev_samp(${c}::float8), min(${c}), max(${c})`).join(', ')} from ${T}`),
)
await compare(
  'descriptive: all 14 metrics of revenue (skew/kurt: 2 passes)',
  descr({ column: 'revenue', metrics: ['count', 'sum', 'mean', 'median', 'std', 'var', 'min', 'max', 'quartiles', 'percentiles', 'skewness', 'kurtosis', 'missing', 'distinct'] }),
  'count, avg, percentile_cont ×7, count(distinct)',
  sql(`select count(revenue), avg(revenue), percentile_cont(array[0.05,0.25,0.5,0.75,0.95]) within group (order by revenue), count(distinct revenue) from ${T}`),
)
await compare(
  'predictive: OLS revenue ~ spend + price + trend, 5 days',
  () => asAdmin((tx) => a.predictDataset(tx, caller, schemas.predictiveBody.parse({ training_data: { dataset_id: datasetId, features: ['marketing_spend', 'price', 'trend'], target: 'revenue' }, prediction_config: { horizon: 5 } }))),
  'regr_slope/intercept of revenue on spend (1 pass)',
  sql(`select regr_slope(revenue, marketing_spend), regr_intercept(revenue, marketing_spend), count(*) from ${T}`),
)
await compare(
  'diagnostic: 4 factors, Pearson + Spearman + Shapley',
  () => asAdmin((tx) => a.diagnoseDataset(tx, caller, schemas.diagnosticBody.parse({ dataset_id: datasetId, target_metric: 'revenue', potential_factors: ['marketing_spend', 'price', 'visits', 'region'] }))),
  'corr() of revenue with 3 columns (Pearson only)',
  sql(`select corr(revenue, marketing_spend), corr(revenue, price), corr(revenue, visits) from ${T}`),
)
await compare(
  'prescriptive: 2 quadratic curves + budget, HiGHS LP',
  () => asAdmin((tx) => a.prescribeDataset(tx, caller, schemas.prescriptiveBody.parse({ dataset_id: datasetId, objective: 'maximize_revenue', variables: ['marketing_spend', 'price'], constraints: { budget: 7000, budget_variables: ['marketing_spend'] } }))),
  'avg/min/max of the 2 variables (the pre-pass alone)',
  sql(`select avg(marketing_spend), min(marketing_spend), max(marketing_spend), avg(price), min(price), max(price) from ${T}`),
)
const clusterFilter = { range: { day: { min: '2021-01-01', max: new Date(Date.UTC(2021, 0, 1) + Math.max(0, Math.round((CLUSTER_ROWS / ROWS) * 1460) - 1) * 86_400_000).toISOString().slice(0, 10) } } }
await compare(
  `segmentation: k=4 on ~${CLUSTER_ROWS.toLocaleString('en-US')} rows × 3, n_init 3 (no gold table)`,
  () => asAdmin((tx) => a.clusterDataset(tx, caller, schemas.clusterBody.parse({ dataset_id: datasetId, n_clusters: 4, features: ['marketing_spend', 'price', 'visits'], n_init: 3, save_assignments: false, filters: clusterFilter }))),
  'reading those rows (select of the 3 columns)',
  sql(`select marketing_spend, price, visits from ${T} where day <= '${clusterFilter.range.day.max}'`),
)

console.log(`\ntarget: descriptive on ${ROWS.toLocaleString('en-US')} rows under 1 s — ${rowsOut[0].ours.median < 1000 ? 'met' : 'NOT met'} (${rowsOut[0].ours.median.toFixed(0)} ms; the bare SQL floor ${rowsOut[0].ref.median.toFixed(0)} ms)`)
await closeThreadPool()
await db.close()
