/**
 * Marketplace execute benchmark: `npm run bench:marketplace [-- --duration 10] [--rate 100] [--connections 50] [--records 1000] [--skip-build]`.
 *
 * Everything through HTTP against the production build, as a consumer would reach it:
 *  1. starts the build on a fresh embedded database in .bench/ (or on DATABASE_URL, a scratch Postgres database that
 *     is seeded on first boot: SEED_DEMO_DATA=true), waits for the demo churn model that first boot trains;
 *  2. Acme's data scientist publishes an asset from that model (free pricing, so the meter records but never refuses);
 *     Globex's admin creates consumer users (so the per-caller limit of 600/min is not what is measured);
 *  3. (a) POST …/assets/{id}/execute at a fixed offered rate (open model: evenly spaced arrivals, whatever the answers
 *     do, users in turn) for --duration s after a 3 s warm-up — P50/P95/P99; (b) as fast as possible with
 *     --connections connections for --duration s (autocannon) — req/s;
 *  4. the reference in the same run: POST /api/v1/inference/ on the same model (the training module's own real-time
 *     prediction, SHAP contributions included as execute includes key factors), (a) and (b) the same way, by Acme's users;
 *  5. a batch of --records records through POST …/batch-execute, polled until done: records/s from the job's start to
 *     its end, and from the request.
 * Prints the load average at the start and end: the machine is shared, figures are only as quiet as it was.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { openLoad } from './open-load.ts'

const args = process.argv.slice(2)
const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def)
const DURATION = Number(arg('--duration', '10'))
const RATE = Number(arg('--rate', '100'))
const CONNECTIONS = Number(arg('--connections', '50'))
const RECORDS = Number(arg('--records', '1000'))
const PORT = Number(process.env.BENCH_PORT ?? 3813)
const ROOT = path.resolve(import.meta.dirname, '..')
const PASSWORD = 'hotdash-demo'
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ')
const loadAtStart = load()
const engine = process.env.DATABASE_URL ? 'postgres' : 'pglite'

if (!args.includes('--skip-build')) {
  console.log('building the app (npm run build)…')
  if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' }).status !== 0) {
    console.error('build failed; run `npm run build` to see why')
    process.exit(1)
  }
}

// ------------------------------------------------------------------ server
const dataDir = path.join(ROOT, '.bench', `marketplace-${Date.now().toString(36)}`)
const server: ChildProcess = spawn(process.execPath, ['--single-threaded-gc', 'build/node/index.js'], {
  cwd: ROOT,
  env: {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(PORT),
    DATA_DIR: dataDir,
    LOG_REQUESTS: 'false',
    SIMULATE_ACTIVITY: 'false',
    SEED_DEMO_DATA: 'true',
    ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
  detached: true,
})
/** Stops the server (its process group), waits for it to exit, then removes the embedded database it wrote. */
async function shutdown() {
  const exited = new Promise<void>((r) => (server.exitCode !== null || server.signalCode !== null ? r() : server.once('exit', () => r())))
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (server.pid) process.kill(-server.pid, signal)
    } catch {}
  }
  kill('SIGTERM')
  if (!(await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]))) {
    kill('SIGKILL')
    await exited
  }
  // a pglite run's database is this run's alone; a Postgres run leaves DATABASE_URL's database as it is
  if (engine === 'pglite') fs.rmSync(dataDir, { recursive: true, force: true })
}
process.on('SIGINT', () => void shutdown().finally(() => process.exit(130)))

/** The whole measurement; shutdown() runs after it whatever happens. */
async function run() {
  const base = `http://127.0.0.1:${PORT}`
  for (let i = 0; !(await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false)); i++) {
    if (i > 360) throw new Error('the server did not come up in 180 s')
    await new Promise((r) => setTimeout(r, 500))
  }

  /**
   * The bench's own calls (setup, the batch and its polling), each on a connection of its own: never one of the pooled
   * keep-alive sockets the load phases left idle, which the server may be closing just as one is reused (a POST is not
   * retried: "fetch failed").
   */
  function request(method: string, p: string, headers: Record<string, string>, body?: string) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${base}${p}`, { method, agent: false, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('error', (e) => reject(new Error(`${method} ${p}: ${e.message}`)))
      req.end(body)
    })
  }
  async function api(method: string, p: string, token: string | null, body?: unknown) {
    const r = await request(method, p, { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body === undefined ? undefined : JSON.stringify(body))
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text.slice(0, 300)}`)
    return r.text ? JSON.parse(r.text) : null
  }
  async function token(username: string, password = PASSWORD) {
    const r = await request('POST', '/api/v1/login/access-token', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ username, password }).toString())
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`)
    return JSON.parse(r.text).access_token as string
  }

  // ------------------------------------------------------------------ the asset, the users
  const provider = await token('acme-data-scientist')
  let model: { id: number; status: string; preprocess_id: number } | undefined
  for (let i = 0; ; i++) {
    model = (await api('GET', '/api/v1/train/list?limit=500', provider)).data.find((t: { predictor_name: string }) => t.predictor_name === 'churn-model')
    if (model?.status === 'completed') break
    if (i > 360) throw new Error(`the demo churn model did not finish training (${model?.status ?? 'absent'})`)
    await new Promise((r) => setTimeout(r, 500))
  }
  const created = await api('POST', '/api/v1/analytics/assets', provider, {
    name: `bench churn ${Date.now().toString(36)}`,
    category: 'customer_analytics',
    configuration: { train_id: model!.id },
    pricing: { model: 'free', price: 0, currency: 'USD' },
  })
  const assetId: string = created.data.asset_id
  await api('PATCH', `/api/v1/analytics/assets/${assetId}`, provider, { status: 'published' })

  async function users(admin: string, prefix: string, n: number, roles: string[]) {
    const adminToken = await token(admin)
    const tenantId = JSON.parse(Buffer.from(adminToken.split('.')[1], 'base64url').toString()).app_metadata.tenant_id
    const out: string[] = []
    for (let i = 0; i < n; i++) {
      const username = `${prefix}-${i}-${Date.now().toString(36)}`
      await api('POST', '/api/v1/users/create-user', adminToken, { tenant_id: tenantId, email: `${username}@bench.example`, username, password: `${PASSWORD}-bench`, roles })
      out.push(await token(username, `${PASSWORD}-bench`))
    }
    return out
  }
  // Enough callers that none passes 600 requests a minute at the measured rates.
  const NUSERS = 20
  const consumers = await users('globex-admin', 'bench-consumer', NUSERS, ['operator'])
  const referenceUsers = await users('acme-admin', 'bench-inference', NUSERS, ['data_scientist'])

  const record = {
    customerID: 'BENCH-0001', gender: 'Female', SeniorCitizen: false, Partner: true, Dependents: false, tenure: 5, PhoneService: true,
    InternetService: 'Fiber optic', TechSupport: false, Contract: 'Month-to-month', PaperlessBilling: true, PaymentMethod: 'Electronic check',
    MonthlyCharges: 89.5, TotalCharges: 447.5,
  }
  const executeUrl = `${base}/api/v1/analytics/assets/${assetId}/execute`
  const executeBody = JSON.stringify({ input_data: record })
  const inferenceUrl = `${base}/api/v1/inference/`
  const { customerID: _id, ...features } = record
  const inferenceBody = JSON.stringify({ train_id: model!.id, preprocess_id: model!.preprocess_id, target: 'Churn', features })
  // Both answer before anything is measured (and the model is loaded into the server's cache).
  await api('POST', `/api/v1/analytics/assets/${assetId}/execute`, consumers[0], { input_data: record })
  await api('POST', '/api/v1/inference/', referenceUsers[0], JSON.parse(inferenceBody))

  // ------------------------------------------------------------------ (a) and (b)
  /** Open-model load (bench/open-load.ts), the next user's token each (as bench/ops.ts). */
  const openLoadAs = (url: string, body: string, rate: number, seconds: number, tokens: string[]) =>
    openLoad(rate, seconds, async (i) => {
      const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % tokens.length]}` } })
      await r.arrayBuffer()
      return r.status
    })

  async function maxLoad(url: string, body: string, tokens: string[]) {
    let k = 0
    const r = await autocannon({
      url,
      method: 'POST',
      body,
      connections: CONNECTIONS,
      duration: DURATION,
      setupClient: (client: { setHeaders: (h: Record<string, string>) => void; on: (e: string, f: () => void) => void }) => {
        const auth = () => client.setHeaders({ 'content-type': 'application/json', authorization: `Bearer ${tokens[k++ % tokens.length]}` })
        auth()
        client.on('response', auth)
      },
    } as never)
    return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors }
  }

  async function measure(label: string, url: string, body: string, tokens: string[]) {
    await openLoadAs(url, body, Math.min(RATE, 20), 3, tokens) // warm-up
    const a = await openLoadAs(url, body, RATE, DURATION, tokens)
    const loadA = load()
    const b = await maxLoad(url, body, tokens)
    console.log(`${label}: done (load average ${load()})`)
    return { label, a, b, load: loadA }
  }

  const rows = [await measure('execute (asset)', executeUrl, executeBody, consumers), await measure('inference (reference)', inferenceUrl, inferenceBody, referenceUsers)]

  // ------------------------------------------------------------------ batch
  let batch: { records: number; jobSeconds: number; wallSeconds: number; succeeded: number; failed: number } | null = null
  try {
    const t0 = performance.now()
    const started = await api('POST', `/api/v1/analytics/assets/${assetId}/batch-execute`, consumers[1], {
      batch_data: Array.from({ length: RECORDS }, (_, i) => ({ id: String(i), input_data: { ...record, customerID: `BENCH-${i}`, tenure: i % 72 } })),
    })
    let s: { status: string; started_at: string | null; completed_at: string | null; progress: { successful_records: number; failed_records: number } }
    for (;;) {
      s = (await api('GET', `/api/v1/analytics/batches/${started.data.batch_id}/status`, consumers[1])).data
      if (s.status !== 'processing') break
      await new Promise((r) => setTimeout(r, 250))
    }
    const wall = (performance.now() - t0) / 1000
    const job = s.started_at && s.completed_at ? (Date.parse(s.completed_at) - Date.parse(s.started_at)) / 1000 : wall
    batch = { records: RECORDS, jobSeconds: job, wallSeconds: wall, succeeded: s.progress.successful_records, failed: s.progress.failed_records }
  } catch (e) {
    console.log(`batch: not measured (${(e as Error).message}${(e as Error).cause ? `: ${String((e as { cause: unknown }).cause)}` : ""})`)
  }

  // ------------------------------------------------------------------ report
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1))
  console.log(`\nHot Dash marketplace benchmark — ${new Date().toISOString()} — ${engine}, ${os.cpus().length} cores (${os.cpus()[0]?.model})`)
  console.log(`load average (1/5/15 min): at start ${loadAtStart}, at end ${load()}`)
  console.log(`asset ${assetId}: the demo churn model (training #${model!.id}), one record per request, key factors (SHAP) on; reference: POST /api/v1/inference/ on the same model (contributions on)`)
  console.log(`(a) open model: ${RATE} req/s offered, evenly spaced, ${DURATION} s after a 3 s warm-up, ${NUSERS} users in turn; (b) ${CONNECTIONS} connections, ${DURATION} s, as fast as possible\n`)
  const head = ['endpoint', '(a) p50 ms', '(a) p95 ms', '(a) p99 ms', '(a) achieved req/s', '(a) non-2xx', '(b) req/s', '(b) p50 ms', '(b) p99 ms', '(b) non-2xx', 'load (a)']
  const lines = rows.map((r) => [r.label, f(r.a.p50), f(r.a.p95), f(r.a.p99), f(r.a.rps), String(r.a.non2xx), f(r.b.rps), f(r.b.p50), f(r.b.p99), String(r.b.non2xx), r.load.split(' / ')[0]])
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  console.log(head.map((h, i) => h.padEnd(widths[i])).join(' | '))
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
  for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join(' | '))
  if (batch) {
    console.log(
      `\nbatch of ${batch.records} records (POST …/batch-execute, the marketplace.batch job): ${f(batch.records / batch.jobSeconds)} records/s from the job's start to its end` +
        ` (${f(batch.jobSeconds)} s), ${f(batch.records / batch.wallSeconds)} records/s from the request (${f(batch.wallSeconds)} s); ${batch.succeeded} succeeded, ${batch.failed} failed`,
    )
  }
}

let failed = false
try {
  await run()
} catch (e) {
  failed = true
  console.error(e)
} finally {
  await shutdown()
}
process.exit(failed ? 1 : 0)
