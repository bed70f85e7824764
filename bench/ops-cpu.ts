/**
 * CPU per request of one HD endpoint: `npm run bench:ops-cpu [-- --endpoint dashboard/summary] [--requests 4000] [--profile]`.
 *
 * On a shared machine latency and req/s measure the neighbours as much as the code; CPU time per request does not
 * (much). Starts the production build on DATABASE_URL (as bench:ops seeds it) twice, with the read cache on and off
 * (READ_CACHE=off, the reference), sends the same number of requests to each (20 connections, a pool of users) and
 * prints the server process's own CPU (user + system, from /proc) and the Postgres backends' per request.
 * --profile also writes a V8 CPU profile of each run under .bench/ and prints where its time went
 * (bench/cpuprofile-summary.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'

const args = process.argv.slice(2)
const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const DATABASE_URL = process.env.DATABASE_URL
if (!DATABASE_URL) {
  console.error('Set DATABASE_URL to the Postgres bench:ops seeded (e.g. postgres://postgres@127.0.0.1:5432/bench_ops)')
  process.exit(1)
}
const JWT_SECRET = process.env.JWT_SECRET ?? 'hot-dash-bench-secret-0123456789abcdef0123456789'
process.env.JWT_SECRET = JWT_SECRET
const ENDPOINT = arg('--endpoint') ?? 'dashboard/summary'
const REQUESTS = Number(arg('--requests') ?? 4000)
const PORT = Number(process.env.BENCH_PORT ?? 3791)
const ROOT = path.resolve(import.meta.dirname, '..')
const PROFILE_DIR = path.join(ROOT, '.bench')

const { openPostgres } = await import('../app/db/db.server.ts')
const { signAccessToken } = await import('../app/features/auth/tokens.server.ts')
const db = openPostgres(DATABASE_URL, { max: 2 })
const tenant = (await db.query<{ id: string }>(`select id from public.tenants where slug = 'bench-a'`)).rows[0]?.id
if (!tenant) {
  console.error('no bench-a tenant: run npm run bench:ops once first (it seeds the data)')
  process.exit(1)
}

async function users(n: number) {
  const tag = crypto.randomBytes(3).toString('hex')
  const { rows } = await db.query<{ user_id: string; session_id: string }>(
    `with u as (
       select g, app.create_identity('cpu-' || g || '-' || $2 || '@bench.example', 'x',
                jsonb_build_object('tenant_id', $1::text, 'roles', jsonb_build_array('admin')), '{}'::jsonb) as user_id
       from generate_series(1, $3) g
     ), p as (
       insert into public.profiles (user_id, tenant_id, username, email)
       select user_id, $1::uuid, 'cpu-' || g || '-' || $2, 'cpu-' || g || '-' || $2 || '@bench.example' from u returning user_id
     ), r as (
       insert into public.user_roles (tenant_id, user_id, role_id)
       select $1::uuid, p.user_id, (select id from public.roles where tenant_id = $1::uuid and name = 'admin') from p
     )
     insert into app.auth_sessions (user_id, user_agent) select p.user_id, 'bench' from p returning user_id, id as session_id`,
    [tenant, tag, n],
  )
  // Fresh statistics for the tables the per-request caller check reads (thousands of users were just added).
  await db.exec(`analyze public.profiles, public.user_roles, app.auth_sessions`)
  return Promise.all(rows.map(async (r) => (await signAccessToken({ sub: r.user_id, role: 'authenticated', session_id: r.session_id, app_metadata: { provider: 'email', tenant_id: tenant, roles: ['admin'] } }, 3600)).token))
}

/** utime + stime of a process and its threads, in ms (clock ticks of 10 ms: runs of a few seconds are exact enough). */
function cpuMs(pid: number) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100
}
/** The same summed over the Postgres backends serving this database (the app's pool and listener). */
async function postgresCpuMs() {
  const { rows } = await db.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`)
  let t = 0
  for (const r of rows) {
    try {
      t += cpuMs(r.pid)
    } catch {}
  }
  return t
}

async function run(label: string, extra: Record<string, string>) {
  const profile = args.includes('--profile')
  // one profile per thread (tsx's loader has its own): in a directory of the run's own
  const flags = ['--single-threaded-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE_DIR, label)}`] : [])]
  if (profile) fs.rmSync(path.join(PROFILE_DIR, label), { recursive: true, force: true })
  // node itself (not npx/tsx wrappers) so /proc/<pid> is the server
  const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ...flags, 'server/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(PORT), DATABASE_URL, JWT_SECRET, LOG_REQUESTS: 'false', SEED_DEMO_DATA: 'false', RUN_WORKER: 'false', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true', ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${PORT}`
  for (let i = 0; !(await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false)); i++) {
    if (i > 240) throw new Error('the server did not come up in 120 s')
    await new Promise((r) => setTimeout(r, 500))
  }
  const tokens = await users(Math.ceil(REQUESTS / 50) + 20)
  let k = 0
  const fire = (amount: number) =>
    autocannon({
      url: `${base}/api/v1/analytics/${ENDPOINT}`, connections: 20, amount,
      setupClient: (client: any) => {
        const auth = () => client.setHeaders({ authorization: `Bearer ${tokens[k++ % tokens.length]}` })
        auth()
        client.on('response', auth)
      },
    } as any)
  await fire(Math.min(1000, REQUESTS / 4)) // warm-up: JIT, pools
  const [c0, p0, t0] = [cpuMs(server.pid!), await postgresCpuMs(), performance.now()]
  const r = await fire(REQUESTS)
  const [c1, p1, t1] = [cpuMs(server.pid!), await postgresCpuMs(), performance.now()]
  server.kill('SIGTERM')
  await new Promise((res) => server.once('exit', res))
  const n = r.requests.total
  return { label, n, non2xx: r.non2xx, serverUs: ((c1 - c0) * 1000) / n, postgresUs: ((p1 - p0) * 1000) / n, rps: (n * 1000) / (t1 - t0), load: os.loadavg()[0] }
}

const rows = [await run('cached', {}), await run('uncached', { READ_CACHE: 'off' })]
console.log(`\n${ENDPOINT}: CPU per request (server process; Postgres backends), ${REQUESTS} requests, 20 connections — ${os.cpus().length} cores, ${new Date().toISOString()}`)
for (const r of rows) {
  console.log(`${r.label.padEnd(9)} server ${r.serverUs.toFixed(0).padStart(5)} µs/req  postgres ${r.postgresUs.toFixed(0).padStart(5)} µs/req  ` +
    `(${r.n} requests, ${r.non2xx} non-2xx, ${r.rps.toFixed(0)} req/s at load average ${r.load.toFixed(1)})`)
}
if (args.includes('--profile')) {
  for (const r of rows) {
    // the main thread's profile: the largest file (the loader thread's is mostly idle after boot)
    const dir = path.join(PROFILE_DIR, r.label)
    const [main] = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)
    console.log(`\n—— ${r.label} profile (${path.relative(ROOT, main)}) ——`)
    spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/cpuprofile-summary.ts'), main, String(r.n + Math.min(1000, REQUESTS / 4))], { stdio: 'inherit', cwd: ROOT })
  }
}
await db.close()
process.exit(0)
