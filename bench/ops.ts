/**
 * Operations analytics benchmark:
 * `npm run bench:ops [-- --url http://host:port] [--skip-build] [--duration 30] [--only dashboard/summary,…] [--no-reference]`.
 *
 * 1. Seeds ≈1M orders over 90 days for two tenants (plus sessions, agent queries, queue items, annotations) on the
 *    Postgres named by DATABASE_URL, with generate_series SQL, then refreshes the materialized views (timed).
 * 2. Starts the production build of the app on that database (unless --url points at a running one, which must use
 *    the same JWT_SECRET as this script: BENCH_JWT_SECRET below).
 * 3. For each HD endpoint: (a) latency percentiles at the spec's load, a fixed offered rate of 100 req/s for 30 s
 *    (open model: evenly spaced arrivals, 100 users in turn; the export endpoint at 1 req/s, its own limit being
 *    10/hour per caller), after a 5 s warm-up; (b) maximum throughput with 100 connections for 10 s, rotating over a pool of
 *    users so the per-caller limits (60/min) do not turn it into a 429 benchmark; (c) the
 *    endpoint's SQL function called directly through the driver as the caller (the floor).
 * 4. (a) and (b) again on the same build with READ_CACHE=off (decision 018): the uncached path, the reference.
 * Prints everything beside the spec's P50/P95/P99 targets, the headroom target (P99 ≤ half the spec's, summary ≥ 1,500
 * req/s) and the machine's load average (a shared machine's figures are only as quiet as it is).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { openLoad, pct } from './open-load.ts'

const args = process.argv.slice(2)
const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const DATABASE_URL = process.env.DATABASE_URL
if (!DATABASE_URL) {
  console.error('Set DATABASE_URL to the Postgres to benchmark against (e.g. postgres://postgres@127.0.0.1:5432/hd_bench)')
  process.exit(1)
}
const BENCH_JWT_SECRET = process.env.JWT_SECRET ?? 'hot-dash-bench-secret-0123456789abcdef0123456789'
process.env.JWT_SECRET = BENCH_JWT_SECRET
process.env.LOG_REQUESTS = 'false'
const DURATION = Number(arg('--duration') ?? 30)
const PORT = Number(process.env.BENCH_PORT ?? 3791)
const ROOT = path.resolve(import.meta.dirname, '..')

const { openPostgres, asCaller } = await import('../app/db/db.server.ts')
const { migrate } = await import('../app/db/migrate.server.ts')
const { createTenant } = await import('../app/features/auth/auth.server.ts')
const { signAccessToken } = await import('../app/features/auth/auth.server.ts')

const TARGETS: Record<string, [number, number, number]> = {
  'dashboard/summary': [15, 30, 50],
  'dashboard/trends': [25, 50, 100],
  'dashboard/anomalies': [15, 30, 50],
  'agent/queue': [30, 60, 100],
  'agent/accuracy': [30, 60, 100],
  'agent/quality': [30, 60, 100],
  'agent/summary': [20, 40, 80],
  'export/training-data': [2000, 5000, 10000],
}
const ENDPOINTS = arg('--only')?.split(',') ?? Object.keys(TARGETS)
const SQL: Record<string, string> = {
  'dashboard/summary': `select analytics.get_dashboard_summary()`,
  'dashboard/trends': `select * from analytics.get_hourly_trends(24)`,
  'dashboard/anomalies': `select * from analytics.get_active_anomalies()`,
  'agent/queue': `select * from analytics.get_queue_metrics('day', 7)`,
  'agent/accuracy': `select * from analytics.get_agent_accuracy(7)`,
  'agent/quality': `select * from analytics.get_training_quality(7)`,
  'agent/summary': `select analytics.get_agent_summary()`,
  'export/training-data': `select * from analytics.export_training_dataset(false, now() - interval '14 days', now(), null, 0, 1000)`,
}

const db = openPostgres(DATABASE_URL, { max: 4 })
await migrate(db)

// ------------------------------------------------------------------ 1. data
const TENANTS = [
  { slug: 'bench-a', name: 'Bench A', perHour: 260, aov: 85 },
  { slug: 'bench-b', name: 'Bench B', perHour: 260, aov: 140 },
]
const tenantIds: string[] = []
for (const t of TENANTS) {
  const existing = await db.query<{ id: string }>(`select id from public.tenants where slug = $1`, [t.slug])
  if (existing.rows[0]) {
    tenantIds.push(existing.rows[0].id)
    continue
  }
  const started = Date.now()
  const id = await db.transaction(async (tx) => {
    const { id } = await createTenant(tx, { name: t.name, slug: t.slug })
    await seedTenant(tx, id, t.perHour, t.aov)
    return id
  })
  tenantIds.push(id)
  console.log(`seeded ${t.slug} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
const counts = (await db.query(`select (select count(*) from public.orders) as orders, (select count(*) from public.storefront_sessions) as sessions,
  (select count(*) from public.agent_queries) as queries, (select count(*) from public.approval_queue_items) as queue_items,
  (select count(*) from public.training_examples) as examples`)).rows[0]
let t0 = performance.now()
await db.query(`select analytics.refresh_views()`)
const refreshMs = performance.now() - t0
await db.exec(`analyze`)
console.log(`data: ${JSON.stringify(counts)}; refresh_views() ${refreshMs.toFixed(0)} ms`)

async function seedTenant(db: import('../app/db/db.server.ts').Sql, tenant: string, perHour: number, aov: number) {
  await db.query(
    `insert into public.customers (tenant_id, external_id, first_name, last_name, email, phone, created_at)
     select $1, 'bc_' || g, 'First' || g, 'Last' || g, 'c' || g || '@bench.example', '+1 555 01' || lpad((g % 100)::text, 2, '0'), now() - interval '91 days'
     from generate_series(1, 150000) g`,
    [tenant],
  )
  const shape = `(array[0.15,0.1,0.08,0.07,0.08,0.15,0.35,0.6,0.9,1.1,1.25,1.4,1.55,1.5,1.3,1.2,1.2,1.3,1.5,1.7,1.65,1.3,0.8,0.4])`
  const week = `(array[1.15,0.85,0.9,0.95,1.0,1.15,1.3])`
  await db.query(
    `with base as (select min(id) as b from public.customers where tenant_id = $1),
     hours as (
       select h, ${shape}[extract(hour from h at time zone 'America/New_York')::int + 1] * ${week}[extract(dow from h at time zone 'America/New_York')::int + 1] as k
       from generate_series(date_trunc('hour', now()) - interval '90 days', now(), interval '1 hour') h
     ), n as (select h, greatest(0, round($2 * k * (0.85 + 0.3 * random())))::int as n from hours),
     o as (
       select h, i, least(now(), h + random() * interval '1 hour') as t, random() as r1, random() as r2, random() as r3, random() as r4
       from n cross join lateral generate_series(1, n.n) i
     )
     insert into public.orders (tenant_id, external_id, customer_id, status, fulfillment_status, total_price, created_at, updated_at, fulfilled_at)
     select $1, 'bo_' || extract(epoch from h)::bigint || '_' || i, (select b from base) + floor(r1 * 150000)::bigint,
            case when r2 < 0.02 then 'cancelled' else 'paid' end,
            case when t < now() - interval '3 hours' or r3 < 0.5 then 'fulfilled' else 'unfulfilled' end,
            round((exp(ln($3) - 0.15 + 0.55 * sqrt(-2 * ln(greatest(r4, 1e-9))) * cos(2 * pi() * r3)))::numeric, 2),
            t, t,
            case when t < now() - interval '3 hours' or r3 < 0.5 then least(now(), t + r3 * interval '2 hours') end
     from o`,
    [tenant, perHour, aov],
  )
  await db.query(
    `insert into public.storefront_sessions (tenant_id, external_id, started_at, converted)
     select $1, 'bs_' || g, now() - random() * interval '90 days', random() < 0.3 from generate_series(1, 400000) g`,
    [tenant],
  )
  await db.query(
    `insert into public.conversations (tenant_id, external_id, customer_id, channel, subject, customer_message, created_at)
     select $1, 'bcv_' || g, (select min(id) from public.customers where tenant_id = $1) + g % 150000, 'chat', 'order question',
            'Hi, this is First' || g || ' Last' || g || '. Where is order #' || (1000 + g) || '? Call me at +1 (415) 555-' || lpad((g % 10000)::text, 4, '0'),
            now() - (g / 30000.0) * interval '90 days'
     from generate_series(1, 30000) g`,
    [tenant],
  )
  await db.query(
    `insert into public.agent_queries (tenant_id, external_id, conversation_id, agent_type, query_text, response_text, latency_ms, approved,
       human_edited, accuracy_score, helpfulness_score, tone_score, safe_to_send, created_at)
     select $1, 'bq_' || c.id, c.id, (array['shipping_assistant','order_status','returns_assistant','product_search','billing_assistant'])[1 + c.id % 5],
            c.customer_message, 'Drafted reply', 150 + (random() * 400)::int, random() < 0.85, random() < 0.15,
            round((3 + random() * 2)::numeric, 1), round((3 + random() * 2)::numeric, 1), round((3.5 + random() * 1.5)::numeric, 1), random() < 0.9,
            c.created_at + interval '1 second'
     from public.conversations c where c.tenant_id = $1`,
    [tenant],
  )
  await db.query(
    `insert into public.approval_queue_items (tenant_id, external_id, conversation_id, agent_query_id, agent_type, draft_reply, edited_reply,
       priority, confidence, status, reviewed_at, created_at)
     select $1, 'bd_' || x.id, x.conversation_id, x.id, x.agent_type, 'Hi First, your order ships soon.',
            case when x.status = 'edited' then 'Hi First, your order ships today.' end,
            (array['urgent','high','normal','normal','low'])[1 + x.id % 5], round((55 + random() * 44)::numeric, 2), x.status,
            case when x.status <> 'pending' then x.created_at + random() * interval '1 hour' end, x.created_at
     from (
       select q.*, case when q.created_at > now() - interval '2 hours' then 'pending'
                        else (array['approved','approved','approved','approved','approved','approved','approved','edited','edited','rejected'])[1 + floor(random() * 10)::int] end as status
       from public.agent_queries q where q.tenant_id = $1
     ) x`,
    [tenant],
  )
  await db.query(
    `insert into public.training_examples (tenant_id, external_id, conversation_id, queue_item_id, input_text, model_draft, safe_to_send, category,
       sentiment, tone, accuracy_score, helpfulness_score, tone_score, annotator, notes, model_confidence, response_time_ms, created_at)
     select $1, 'be_' || i.id, i.conversation_id, i.id, c.customer_message, i.draft_reply, random() < 0.9,
            (array['shipping_inquiry','order_status','return_request','product_question','billing_issue'])[1 + i.id % 5],
            (array['positive','neutral','negative'])[1 + i.id % 3], 'professional',
            round((3 + random() * 2)::numeric, 1), round((3 + random() * 2)::numeric, 1), round((3.5 + random() * 1.5)::numeric, 1),
            'annotator_' || (i.id % 3), 'ok', i.confidence, 200 + (random() * 300)::int, i.reviewed_at + interval '5 minutes'
     from public.approval_queue_items i join public.conversations c on c.id = i.conversation_id
     where i.tenant_id = $1 and i.reviewed_at is not null and i.id % 3 <> 0`,
    [tenant],
  )
}

// ------------------------------------------------------------------ users and tokens
const HASH = 'bench-no-password'
async function benchUsers(tenant: string, n: number, tag: string) {
  const { rows } = await db.query<{ user_id: string; session_id: string }>(
    `with u as (
       select g, app.create_identity('bench-' || $2 || '-' || g || '-' || $3 || '@bench.example', $4,
                jsonb_build_object('tenant_id', $1::text, 'roles', jsonb_build_array('admin')), '{}'::jsonb) as user_id
       from generate_series(1, $5) g
     ), p as (
       insert into public.profiles (user_id, tenant_id, username, email)
       select user_id, $1::uuid, 'bench-' || $2 || '-' || g || '-' || $3, 'bench-' || $2 || '-' || g || '-' || $3 || '@bench.example' from u
       returning user_id, username
     ), r as (
       insert into public.user_roles (tenant_id, user_id, role_id)
       select $1::uuid, p.user_id, (select id from public.roles where tenant_id = $1::uuid and name = 'admin') from p
     )
     insert into app.auth_sessions (user_id, user_agent)
     select p.user_id, 'bench' from p
     returning user_id, id as session_id`,
    [tenant, tag, crypto.randomBytes(3).toString('hex'), HASH, n],
  )
  // Fresh statistics for the tables the per-request caller check reads (thousands of users were just added).
  await db.exec(`analyze public.profiles, public.user_roles, app.auth_sessions`)
  return Promise.all(
    rows.map(async (r) =>
      (
        await signAccessToken({
          sub: r.user_id,
          role: 'authenticated',
          session_id: r.session_id,
          app_metadata: { provider: 'email', tenant_id: tenant, roles: ['admin'] },
        }, 3 * 3600)
      ).token,
    ),
  )
}

// ------------------------------------------------------------------ (c) SQL floor
const sqlFloor: Record<string, { p50: number; p95: number; p99: number }> = {}
{
  const [uid] = (await db.query<{ user_id: string }>(`select p.user_id from public.profiles p where p.tenant_id = $1 limit 1`, [tenantIds[0]])).rows
  const claims = uid
    ? { sub: uid.user_id, role: 'authenticated' as const, app_metadata: { tenant_id: tenantIds[0], roles: ['admin'] } }
    : { sub: crypto.randomUUID(), role: 'service_role' as const, app_metadata: { tenant_id: tenantIds[0] } }
  for (const [name, q] of Object.entries(SQL).filter(([n]) => ENDPOINTS.includes(n))) {
    const times: number[] = []
    const n = name.startsWith('export') ? 20 : 200
    for (let i = 0; i < n; i++) {
      const s = performance.now()
      await asCaller(db, claims as any, (tx) => tx.query(q))
      times.push(performance.now() - s)
    }
    sqlFloor[name] = { p50: pct(times, 50), p95: pct(times, 95), p99: pct(times, 99) }
  }
}
// The summary over raw orders, for comparison with the rollup (the FINDINGS measurement).
t0 = performance.now()
await db.query(
  `select count(*), sum(total_price), count(distinct customer_id) from public.orders
   where tenant_id = $1 and status <> 'cancelled' and created_at >= date_trunc('hour', now()) - interval '48 hours'`,
  [tenantIds[0]],
)
const rawWindowMs = performance.now() - t0

// ------------------------------------------------------------------ server
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ')
const stops: Array<() => void> = []
process.on('exit', () => stops.forEach((s) => s()))

/** The production build on DATABASE_URL, with extra environment (READ_CACHE=off for the reference). */
async function startServer(port: number, extra: Record<string, string>) {
  // The same node flags as `npm start` (decision 004: single-threaded GC on small machines).
  // What `npm start` runs (decision 004: single-threaded GC on small machines; decision 005: the built server).
  const server: ChildProcess = spawn(process.execPath, ['--single-threaded-gc', ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), 'build/node/index.js'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), DATABASE_URL, JWT_SECRET: BENCH_JWT_SECRET, LOG_REQUESTS: 'false', SEED_DEMO_DATA: 'false', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true', ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false)
    if (ok) break
    if (i > 240) throw new Error('the server did not come up in 120 s')
    await new Promise((r) => setTimeout(r, 500))
  }
  const stop = () => {
    if (server.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM')
      } catch {}
    }
  }
  stops.push(stop)
  return { url, stop: async () => { stop(); await new Promise((r) => setTimeout(r, 1500)) } }
}

if (!arg('--url') && !args.includes('--skip-build')) {
  console.log('building the app (npm run build)…')
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' })
  if (b.status !== 0) {
    console.error('build failed; run `npm run build` to see why, or pass --url of a running server')
    process.exit(1)
  }
}

// ------------------------------------------------------------------ (a) and (b)

/** Open-model load (bench/open-load.ts), each request with the next user's token. */
const openLoadAs = (url: string, method: string, body: string | undefined, rate: number, seconds: number, tokens: string[]) =>
  openLoad(rate, seconds, async (i) => {
    const r = await fetch(url, { method, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % tokens.length]}` } })
    await r.arrayBuffer()
    return r.status
  })
interface Row { endpoint: string; a: { p50: number; p95: number; p99: number; rps: number; non2xx: number }; b: { rps: number; p50: number; p99: number; non2xx: number }; load: string }

/** (a) and (b) for every endpoint against the server at base. */
async function measure(base: string, label: string): Promise<Row[]> {
  const rows: Row[] = []
  // Warm-up (JIT, connection pools, plan caches): 5 s over every endpoint before anything is measured.
  const warm = await benchUsers(tenantIds[0], 60, 'warmup')
  await Promise.all(
    ENDPOINTS.filter((e) => !e.startsWith('export')).map((e) => openLoadAs(`${base}/api/v1/analytics/${e}`, 'GET', undefined, 10, 5, warm)),
  )
  for (const endpoint of ENDPOINTS) {
    const isExport = endpoint.startsWith('export')
    const method = isExport ? 'POST' : 'GET'
    const body = isExport ? JSON.stringify({ date_from: new Date(Date.now() - 14 * 86_400_000).toISOString(), date_to: new Date().toISOString() }) : undefined
    const url = `${base}/api/v1/analytics/${endpoint}`
    const rate = isExport ? 1 : 100
    // (a) one user per connection, each a fresh budget; the export's 10/hour needs a user per request
    const users = await benchUsers(tenantIds[0], isExport ? rate * DURATION : 100, endpoint.replace(/\W/g, ''))
    const a = await openLoadAs(url, method, body, rate, DURATION, users)
    // (b) max throughput, the next user of a pool for every request (each stays under its 60/min up to 6,000 req/s)
    const tokens = await benchUsers(tenantIds[0], isExport ? 150 : 1000, `${endpoint.replace(/\W/g, '')}max`)
    let k = 0
    const b = await autocannon({
      url, method, body, connections: isExport ? 10 : 100, duration: 10,
      setupClient: (client: any) => {
        const auth = () => client.setHeaders({ 'content-type': 'application/json', authorization: `Bearer ${tokens[k++ % tokens.length]}` })
        auth()
        client.on('response', auth)
      },
    } as any)
    rows.push({ endpoint, a, b: { rps: b.requests.average, p50: b.latency.p50, p99: b.latency.p99, non2xx: b.non2xx }, load: load() })
    console.log(`${label} ${endpoint}: done (load average ${load()})`)
  }
  return rows
}

const loadAtStart = load()
let cached: Row[]
let reference: Row[] | null = null
if (arg('--url')) cached = await measure(arg('--url')!, 'given server')
else {
  const s = await startServer(PORT, {})
  cached = await measure(s.url, 'cached')
  await s.stop()
  if (!args.includes('--no-reference')) {
    // The reference in the same run: the same build with the read cache off, every request running its SQL function.
    const r = await startServer(PORT + 1, { READ_CACHE: 'off' })
    reference = await measure(r.url, 'uncached')
    await r.stop()
  }
}

// ------------------------------------------------------------------ the floor: bare node:http in the same run
/** About the size of a dashboard summary answer (the floor server sends a body this long). */
const summaryBytes = 700
async function floor() {
  const port = PORT + 2
  const child: ChildProcess = spawn(process.execPath, ['--single-threaded-gc', 'bench/http-floor-server.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DATABASE_URL, BODY_BYTES: String(summaryBytes) },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  stops.push(() => child.kill())
  for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok).catch(() => false)); i++) {
    if (i > 100) throw new Error('the floor server did not come up')
    await new Promise((r) => setTimeout(r, 100))
  }
  const out: Record<string, number> = {}
  for (const p of ['bare', 'db']) {
    const r = await autocannon({ url: `http://127.0.0.1:${port}/${p}`, connections: 100, duration: 10, headers: { authorization: 'Bearer x'.repeat(40) } } as any)
    out[p] = r.requests.average
  }
  child.kill()
  return out
}
const floorRps = args.includes('--no-reference') ? null : await floor()

// ------------------------------------------------------------------ report
const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1))
console.log(`\nHot Dash ops benchmark — ${new Date().toISOString()} — ${counts.orders} orders, ${counts.sessions} sessions, ${counts.queries} agent queries`)
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}); load average (1/5/15 min) at start ${loadAtStart}, at end ${load()}`)
console.log(`refresh_views(): ${refreshMs.toFixed(0)} ms; 48 h window over raw orders (one tenant): ${rawWindowMs.toFixed(1)} ms`)
console.log(`(a) open model, ${DURATION} s at 100 req/s evenly spaced, 100 users in turn (export: 1 req/s, a user per request), after a 5 s warm-up`)
console.log(`(b) 10 s, 100 connections (export 10), as fast as possible; (c) SQL function through the driver as the caller, sequential`)
console.log(`cached: the read cache on (as deployed); uncached: the same build with READ_CACHE=off (every request runs its SQL)`)
console.log(`targets: the spec's P50/P95/P99 at 100 req/s; headroom: P99 ≤ half the spec's; summary ≥ 1,500 req/s at 100 connections\n`)
const head = ['endpoint', 'run', 'target p50/p95/p99', '(a) p50', '(a) p95', '(a) p99', 'non-2xx', '(b) req/s', '(b) p99', '(c) p50/p95/p99', 'in target', 'P99 ≤ ½', 'load']
const lines: string[][] = []
for (const [label, rows] of [['cached', cached], ['uncached', reference]] as const) {
  for (const r of rows ?? []) {
    const t = TARGETS[r.endpoint]
    const ok = r.a.p50 <= t[0] && r.a.p95 <= t[1] && r.a.p99 <= t[2] && r.a.non2xx === 0
    const half = ok && r.a.p99 <= t[2] / 2
    const c = sqlFloor[r.endpoint]
    const rps = f(r.b.rps) + (r.endpoint === 'dashboard/summary' ? (r.b.rps >= 1500 ? ' (≥1500 yes)' : ' (≥1500 NO)') : '')
    lines.push([r.endpoint, label, t.join('/'), f(r.a.p50), f(r.a.p95), f(r.a.p99), String(r.a.non2xx + r.b.non2xx), rps, f(r.b.p99),
      `${f(c.p50)}/${f(c.p95)}/${f(c.p99)}`, ok ? 'yes' : 'NO', half ? 'yes' : 'NO', r.load.split(' ')[0]])
  }
}
lines.sort((x, y) => Object.keys(TARGETS).indexOf(x[0]) - Object.keys(TARGETS).indexOf(y[0]))
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
console.log(head.map((h, i) => h.padEnd(widths[i])).join(' | '))
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join(' | '))
if (floorRps) {
  console.log(`\nfloor, same run (bench/http-floor-server.mjs, 100 connections, 10 s, ${summaryBytes}-byte JSON): bare node:http ${f(floorRps.bare)} req/s;` +
    ` node:http + one Postgres round trip (select 1) ${f(floorRps.db)} req/s — the app's cached summary: ${f(cached.find((r) => r.endpoint === 'dashboard/summary')?.b.rps ?? 0)} req/s`)
}
await db.close()
process.exit(0)
