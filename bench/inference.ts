/**
 * Inference benchmark: `npm run bench:inference [-- --rows 1000000] [--explain-rows 2000] [--wasm-rows 100000]
 * [--duration 20] [--skip-build] [--only realtime|batch] [--profile]`.
 *
 * Needs DATABASE_URL (e.g. `createdb -h 127.0.0.1 -U postgres hd_bench_infer`, then
 * DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_bench_infer). Once (kept for the next run): a generated CSV of 50k
 * rows × 20 float features with a binary target (bench/ml-fixture.ts) is uploaded and trained through POST /train/
 * (XGBoost hist, the platform's defaults, WASM engine).
 *
 * (a) Real time, against the production build on BENCH_PORT (as `npm start` runs it): `POST /api/v1/inference/` at a
 *     fixed offered 100 req/s for --duration s (open model: evenly spaced arrivals, latency = send to last byte), after
 *     a 5 s warm-up, rows rotating over 1,000 generated ones; then the maximum req/s at 50 connections for 10 s
 *     (autocannon). Every request is a real prediction: the per-process model cache hit, SHAP for every column, the log
 *     row written.
 * (b) Batch, in this process, on --rows generated rows (20 features) in pages of 10,000 (the batch job's page):
 *     the batch job's own page function (`scorePage`: preprocess, score, gold COPY text and CSV lines) without and with
 *     top-3 explanations; the bare scoring paths beside it — the generated trees (`scoreMargins`, what the batch path
 *     uses; checked equal to the array walk on every row), the array walk over the parsed model (`predictMargins`) and the WASM per-row `predict_one` (on --wasm-rows rows) and
 *     TypeScript TreeSHAP; RSS after 100k rows and after all of them (memory flat in the row count). Native XGBoost
 *     (/usr/bin/python3, bench/native_predict.py) scores the same model on the same matrix: `predict` and
 *     `pred_contribs` on one thread and two, and checks our margins and SHAP values on the first rows.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { openLoad } from './open-load.ts'

const args = process.argv.slice(2)
const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def)
const ROWS = Number(arg('--rows', '1000000'))
// Exact TreeSHAP costs milliseconds a row (ours and native alike): explanations are timed on a sample of the rows.
const EXPLAIN_ROWS = Math.min(ROWS, Number(arg('--explain-rows', '2000')))
const WASM_ROWS = Math.min(ROWS, Number(arg('--wasm-rows', '100000')))
const DURATION = Number(arg('--duration', '20'))
const ONLY = arg('--only', 'realtime,batch').split(',')
const PORT = Number(process.env.BENCH_PORT ?? 3814)
const PYTHON = process.env.HD_BENCH_PYTHON ?? '/usr/bin/python3'
const ROOT = path.resolve(import.meta.dirname, '..')
const PAGE = 10_000
const DATABASE_URL = process.env.DATABASE_URL
if (!DATABASE_URL) {
  console.error('Set DATABASE_URL to the Postgres to benchmark against (e.g. postgres://postgres@127.0.0.1:5432/hd_bench_infer)')
  process.exit(1)
}
process.env.LOG_REQUESTS = 'false'
process.env.JWT_SECRET ??= 'hot-dash-bench-secret-0123456789abcdef0123456789'

const { getDb, closeDb } = await import('#app/db/index.server.ts')
const { migrate } = await import('#app/db/migrate.server.ts')
const { createTenant, provisionUser, builtinProvider } = await import('#app/features/auth/auth.server.ts')
const { startJobs, stopJobs } = await import('#app/jobs/registry.server.ts')
const { closeThreadPool } = await import('#app/jobs/thread-pool.server.ts')
const { syntheticMatrix } = await import('#app/features/ml/synthetic.ts')
const { loadModel } = await import('#app/features/ml/scoring.ts')
const { transformRows } = await import('#app/features/ml/preprocess.ts')
const { predictMargins, scoreMargins } = await import('#app/features/ml/tree-model.ts')
const { treeShap } = await import('#app/features/ml/tree-shap.ts')
const { XGBoostRuntime } = await import('#app/features/ml/xgboost-wasm.ts')
const { scorePage } = await import('#app/features/inference/batch-page.ts')
const { datasetOf, generatedCase, trainAndWait, GENERATED_FEATURES } = await import('./ml-fixture.ts')
const downloadRoute = await import('#app/routes/api.v1.train.download-model.$train_id.ts')
type PreprocessSpec = import('#app/features/ml/preprocess.ts').PreprocessSpec
type TreesModel = Extract<import('#app/features/ml/scoring.ts').LoadedModel, { kind: 'trees' }>

const db = await getDb()
await migrate(db)

// ------------------------------------------------------------------ the model (trained once, kept)
const SLUG = 'bench-infer'
const PASSWORD = 'bench-infer-password'
const PREDICTOR = 'bench-infer-50k'
let tenantId = (await db.query<{ id: string }>(`select id from public.tenants where slug = $1`, [SLUG])).rows[0]?.id
if (!tenantId) {
  tenantId = (await createTenant(db, { name: 'Bench inference', slug: SLUG })).id
  await provisionUser(db, { tenantId, email: `${SLUG}@bench.example`, username: SLUG, password: PASSWORD, roles: ['admin'] })
}
const tokens = (await builtinProvider.signIn(db, SLUG, PASSWORD))!
const auth = { authorization: `Bearer ${tokens.access_token}` }
// The load runs rotate over a pool of callers: one caller's budget (600/min, the default class) would make the
// real-time runs a rate-limiter benchmark (every answer past the first ~600 a 429).
const POOL = 40
const pool: string[] = []
for (let i = 0; i < POOL; i++) {
  const username = `${SLUG}-${i}`
  const known = (await db.query(`select 1 from public.profiles where username = $1`, [username])).rows.length > 0
  if (!known) await provisionUser(db, { tenantId, email: `${username}@bench.example`, username, password: PASSWORD, roles: ['admin'] })
  pool.push(`Bearer ${(await builtinProvider.signIn(db, username, PASSWORD))!.access_token}`)
}
const findTraining = async () =>
  (await db.query<{ id: number; preprocess_id: number }>(`select id, preprocess_id from public.training_jobs where tenant_id = $1 and predictor_name = $2 and model_id is not null order by id desc limit 1`, [tenantId, PREDICTOR])).rows[0]
let training = await findTraining()
if (!training) {
  await startJobs()
  const c = generatedCase(50_000)
  const datasetId = await datasetOf(db, tenantId, auth, c)
  const t = performance.now()
  await trainAndWait(db, auth, { dataset_id: datasetId, predictor_name: PREDICTOR, domain: 'bench', problem_type: 'Classification', columns: [{ column_name: 'target', attribute_name: 'Target' }], algorithm: 'xgboost', shap_enabled: false, engine: 'wasm' })
  console.log(`  trained ${PREDICTOR} in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  await stopJobs({ timeoutMs: 5000 })
  training = (await findTraining())!
}
const modelResponse = (await downloadRoute.loader({ request: new Request(`http://bench.local/api/v1/train/download-model/${training.id}`, { headers: auth }), params: { train_id: String(training.id) } } as never)) as Response
if (!modelResponse.ok) throw new Error(`download-model ${modelResponse.status}: ${await modelResponse.text()}`)
const modelBytes = new Uint8Array(await modelResponse.arrayBuffer())
const model = loadModel('xgboost-binary', modelBytes) as TreesModel
const spec = (await db.query<{ spec: PreprocessSpec }>(`select spec from public.preprocesses where id = $1`, [training.preprocess_id])).rows[0].spec
const maxDepth = Math.max(...model.trees.trees.map(depth))
console.log(`model: training ${training.id}, ${model.trees.trees.length} trees, max depth ${maxDepth}, ${model.features} features`)

function depth(t: { left: Int32Array; right: Int32Array }, n = 0): number {
  return t.left[n] === -1 ? 0 : 1 + Math.max(depth(t, t.left[n]), depth(t, t.right[n]))
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ')
const f = (v: number | null | undefined, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—')
const int = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—')
const table = (head: string[], lines: string[][]) => {
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  print(head.map((h, i) => h.padEnd(widths[i])).join(' | '))
  print(widths.map((w) => '-'.repeat(w)).join('-|-'))
  for (const l of lines) print(l.map((c, i) => c.padEnd(widths[i])).join(' | '))
}
/** The report, printed at the end (progress lines go out as they happen). */
const output: string[] = []
const print = (s = '') => {
  output.push(s)
}

// ------------------------------------------------------------------ (a) real time
if (ONLY.includes('realtime')) {
  if (!args.includes('--skip-build')) {
    console.log('building the app (npm run build)…')
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' }).status !== 0) {
      console.error('build failed; run `npm run build` to see why')
      process.exit(1)
    }
  }
  // What `npm start` runs (decision 004: single-threaded GC; decision 005: the built server).
  // --profile: a V8 CPU profile of the server under .bench/inference-profile (summarise with bench/cpuprofile-summary.ts)
  const profile = args.includes('--profile') ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, '.bench', 'inference-profile')}`] : []
  const server: ChildProcess = spawn(process.execPath, ['--single-threaded-gc', ...profile, 'build/node/index.js'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(PORT), DATABASE_URL, LOG_REQUESTS: 'false', SEED_DEMO_DATA: 'false', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  })
  const stop = () => {
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM')
    } catch {}
  }
  process.on('exit', stop)
  const base = `http://127.0.0.1:${PORT}`
  for (let i = 0; !(await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false)); i++) {
    if (i > 240) throw new Error('the server did not come up in 120 s')
    await new Promise((r) => setTimeout(r, 500))
  }
  const { x } = syntheticMatrix({ rows: 1000, cols: 20, kind: 'binary', seed: 7, missing: 0.01 })
  const bodies = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({
      train_id: training.id,
      preprocess_id: training.preprocess_id,
      target: 'target',
      features: Object.fromEntries(GENERATED_FEATURES.map((name, j) => [name, Number.isNaN(x[i * 20 + j]) ? null : Number(x[i * 20 + j].toPrecision(7))])),
    }),
  )
  const url = `${base}/api/v1/inference/`
  const headers = { 'content-type': 'application/json', ...auth }
  const probe = await fetch(url, { method: 'POST', headers, body: bodies[0] })
  const probeBody = await probe.json()
  if (probe.status !== 200) throw new Error(`POST /inference/ answered ${probe.status}: ${JSON.stringify(probeBody)}`)

  /** Open model (bench/open-load.ts); counts the answers that came from the process's model cache. */
  async function realtimeLoad(rate: number, seconds: number) {
    let cached = 0
    const r = await openLoad(rate, seconds, async (i) => {
      const res = await fetch(url, { method: 'POST', headers: { ...headers, authorization: pool[i % POOL] }, body: bodies[i % bodies.length] })
      if (((await res.json()) as { model_cached?: boolean }).model_cached) cached++
      return res.status
    })
    return { ...r, cached }
  }
  await realtimeLoad(20, 5)
  const loadBefore = load()
  const a = await realtimeLoad(100, DURATION)
  let k = 0
  const b = await autocannon({
    url,
    method: 'POST',
    connections: 50,
    duration: 10,
    headers,
    setupClient: (client: any) => {
      const next = () => {
        client.setHeaders({ ...headers, authorization: pool[k % POOL] })
        client.setBody(bodies[k++ % bodies.length])
      }
      next()
      client.on('response', next)
    },
  } as any)
  stop()
  await new Promise((r) => setTimeout(r, 1000))
  print(`(a) real time: POST /api/v1/inference/ (production build, port ${PORT}; the answer carries every column's SHAP value and is logged)`)
  print(`    offered 100 req/s for ${DURATION} s, open model (evenly spaced arrivals), after a 5 s warm-up at 20 req/s; max: 50 connections for 10 s`)
  table(['load', 'requests', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s', 'non-2xx', 'model cached', 'target', 'in target', 'load avg'], [
    ['100 req/s offered', String(a.total), f(a.p50, 2), f(a.p95, 2), f(a.p99, 2), f(a.max, 1), f(a.rps, 1), String(a.non2xx), `${a.cached}/${a.total}`, 'p50 ≤ 5, p99 ≤ 20', a.p50 <= 5 && a.p99 <= 20 && !a.non2xx ? 'yes' : 'NO', loadBefore],
    ['50 connections', String(b.requests.total), f(b.latency.p50, 0), f(b.latency.p97_5, 0) + ' (p97.5)', f(b.latency.p99, 0), f(b.latency.max, 0), f(b.requests.average, 0), String(b.non2xx + b.errors), '—', 'max req/s', '—', load()],
  ])
  print()
}

// ------------------------------------------------------------------ (b) batch
if (ONLY.includes('batch')) {
  const F = model.features
  const names = ['_hd_file_id', '_hd_row', ...GENERATED_FEATURES]
  const layout = (explain: boolean) => ({ columns: GENERATED_FEATURES, idColumns: [], target: null, explain, residuals: null })
  const pages = Math.ceil(ROWS / PAGE)
  /** Page p of the generated rows, as the silver reader hands them over: [file id, row no, …features]. */
  const pageRows = (p: number) => {
    const n = Math.min(PAGE, ROWS - p * PAGE)
    const { x } = syntheticMatrix({ rows: n, cols: 20, kind: 'binary', seed: 1000 + p, missing: 0.01 })
    const rows: unknown[][] = new Array(n)
    for (let i = 0; i < n; i++) {
      const r: unknown[] = [1, p * PAGE + i]
      for (let j = 0; j < 20; j++) r.push(Number.isNaN(x[i * 20 + j]) ? null : x[i * 20 + j])
      rows[i] = r
    }
    return rows
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-infer-'))
  const matrixFile = path.join(tmp, 'rows.f32')
  const checkFile = path.join(tmp, 'margins.f64')
  const checkShapFile = path.join(tmp, 'shap.f64')
  const modelFile = path.join(tmp, 'model.bin')
  fs.writeFileSync(modelFile, modelBytes)
  const fd = fs.openSync(matrixFile, 'w')
  const rt = await XGBoostRuntime.create()
  const wasm = rt.loadModel(modelBytes, F)
  const time = { pageNoExplain: 0, pageExplain: 0, walk: 0, arrayWalk: 0, wasm: 0, shap: 0 }
  const rss = { noExplain100k: 0, noExplainEnd: 0, explainEnd: 0 }
  let wasmDone = 0
  let wasmAgree = 0
  let shapRows = 0
  let goldBytes = 0
  global.gc?.()
  const rssStart = process.memoryUsage().rss
  console.log(`batch: ${ROWS.toLocaleString('en-US')} rows in pages of ${PAGE.toLocaleString('en-US')}…`)
  for (let p = 0; p < pages; p++) {
    const rows = pageRows(p)
    const n = rows.length
    const x = transformRows(spec, names, rows)
    fs.writeSync(fd, new Uint8Array(x.buffer, x.byteOffset, x.byteLength))
    let t = performance.now()
    const page = scorePage(spec, model, layout(false), rows)
    time.pageNoExplain += performance.now() - t
    goldBytes += page.gold.length + page.csv.length
    t = performance.now()
    const margins = scoreMargins(model.trees, x, n, F)
    time.walk += performance.now() - t
    t = performance.now()
    const arrayMargins = predictMargins(model.trees, x, n, F)
    time.arrayWalk += performance.now() - t
    for (let i = 0; i < n; i++) if (arrayMargins[i] !== margins[i]) throw new Error(`row ${p * PAGE + i}: generated trees ${margins[i]} ≠ array walk ${arrayMargins[i]}`)
    if (p === 0) fs.writeFileSync(checkFile, new Uint8Array(margins.buffer))
    if (wasmDone < WASM_ROWS) {
      const m = Math.min(n, WASM_ROWS - wasmDone)
      const row = new Float32Array(F)
      t = performance.now()
      for (let i = 0; i < m; i++) {
        row.set(x.subarray(i * F, (i + 1) * F))
        const prob = wasm.predictOne(row)[0]
        // float32 WASM output vs our float64 sigmoid of the margin
        if (Math.abs(prob - 1 / (1 + Math.exp(-margins[i]))) < 1e-5) wasmAgree++
      }
      time.wasm += performance.now() - t
      wasmDone += m
    }
    if (p * PAGE + n === Math.min(100_000, ROWS)) rss.noExplain100k = process.memoryUsage().rss
  }
  fs.closeSync(fd)
  rss.noExplainEnd = process.memoryUsage().rss
  wasm.free()
  global.gc?.()
  for (let p = 0; p * PAGE < EXPLAIN_ROWS; p++) {
    const rows = pageRows(p).slice(0, EXPLAIN_ROWS - p * PAGE)
    const n = rows.length
    let t = performance.now()
    const page = scorePage(spec, model, layout(true), rows)
    time.pageExplain += performance.now() - t
    goldBytes += page.gold.length
    if (p === 0) {
      const k = Math.min(n, 1000)
      const x = transformRows(spec, names, rows.slice(0, k))
      t = performance.now()
      const s = treeShap(model.trees, x, k, F)
      time.shap += performance.now() - t
      shapRows += k
      fs.writeFileSync(checkShapFile, new Uint8Array(s.values.buffer))
    }
    const done = p * PAGE + n
    if (p % 10 === 9 || done >= EXPLAIN_ROWS) console.log(`  explained ${done.toLocaleString('en-US')} rows (${f(done / (time.pageExplain / 1000), 0)} rows/s)`)
  }
  rss.explainEnd = process.memoryUsage().rss

  // Native XGBoost on the same model and matrix.
  const specFile = path.join(tmp, 'spec.json')
  fs.writeFileSync(specFile, JSON.stringify({ model: modelFile, rows: matrixFile, features: F, explain_rows: EXPLAIN_ROWS, check: checkFile, check_shap: checkShapFile, threads: [1, 2] }))
  console.log(`native XGBoost (${PYTHON}) on the same ${ROWS.toLocaleString('en-US')} rows…`)
  const py = spawnSync(PYTHON, [path.resolve(import.meta.dirname, 'native_predict.py'), specFile], { encoding: 'utf8', maxBuffer: 16 << 20 })
  type NativeRun = { threads: number; dmatrix_s: number; predict_s: number; pred_contribs_s: number; max_margin_diff?: number; max_shap_diff?: number }
  let native: { xgboost: string; trees: number; runs: NativeRun[]; peak_rss_mb: number } | null = null
  if (py.status === 0) native = JSON.parse(py.stdout.trim().split('\n').pop()!)
  else print(`native XGBoost skipped: ${PYTHON} failed (${(py.stderr || py.error?.message || '').trim().split('\n').pop()})`)
  fs.rmSync(tmp, { recursive: true, force: true })
  const n1 = native?.runs.find((r) => r.threads === 1)
  const n2 = native?.runs.find((r) => r.threads === 2)

  const rate = (rows: number, ms: number) => (ms > 0 ? rows / (ms / 1000) : NaN)
  const ours = {
    noExplain: rate(ROWS, time.pageNoExplain),
    explain: rate(EXPLAIN_ROWS, time.pageExplain),
    walk: rate(ROWS, time.walk),
    arrayWalk: rate(ROWS, time.arrayWalk),
    wasm: rate(wasmDone, time.wasm),
    shap: rate(shapRows, time.shap),
  }
  const nat = {
    predict1: n1 ? ROWS / n1.predict_s : NaN,
    predict2: n2 ? ROWS / n2.predict_s : NaN,
    contribs1: n1 ? EXPLAIN_ROWS / n1.pred_contribs_s : NaN,
    contribs2: n2 ? EXPLAIN_ROWS / n2.pred_contribs_s : NaN,
  }
  const mb = (b: number) => f(b / 1048576, 0)
  print(`(b) batch: ${ROWS.toLocaleString('en-US')} rows × ${F} features (explanations on ${EXPLAIN_ROWS.toLocaleString('en-US')}), pages of ${PAGE.toLocaleString('en-US')}, one thread; model ${model.trees.trees.length} trees, max depth ${maxDepth}${native ? `; native XGBoost ${native.xgboost}` : ''}`)
  table(
    ['path', 'rows', 'rows/s', 'µs/row', 'native 1 thread', 'ours ÷ native 1t', 'native 2 threads', 'target', 'in target'],
    [
      ['batch page, no explanations (scorePage: preprocess + TS tree walk + gold/CSV text)', int(ROWS), int(ours.noExplain), f(1e6 / ours.noExplain, 2), `predict ${int(nat.predict1)}/s`, f(ours.noExplain / nat.predict1, 3), `${int(nat.predict2)}/s`, '≥ 1/3 = 0.333', ours.noExplain / nat.predict1 >= 1 / 3 ? 'yes' : 'NO'],
      ['batch page, top-3 explanations (+ TS TreeSHAP, reasons)', int(EXPLAIN_ROWS), int(ours.explain), f(1e6 / ours.explain, 1), `pred_contribs ${int(nat.contribs1)}/s`, f(ours.explain / nat.contribs1, 3), `${int(nat.contribs2)}/s`, '≥ 1/10 = 0.100', ours.explain / nat.contribs1 >= 0.1 ? 'yes' : 'NO'],
      ['bare TS generated trees (scoreMargins, what the page uses)', int(ROWS), int(ours.walk), f(1e6 / ours.walk, 2), `predict ${int(nat.predict1)}/s`, f(ours.walk / nat.predict1, 3), '', '', ''],
      ['bare TS array walk (predictMargins: leafOf over the parsed arrays)', int(ROWS), int(ours.arrayWalk), f(1e6 / ours.arrayWalk, 2), `predict ${int(nat.predict1)}/s`, f(ours.arrayWalk / nat.predict1, 3), '', '', ''],
      ['bare WASM per-row predict_one (ml-xgboost)', int(wasmDone), int(ours.wasm), f(1e6 / ours.wasm, 2), `predict ${int(nat.predict1)}/s`, f(ours.wasm / nat.predict1, 3), '', '', ''],
      ['bare TS TreeSHAP (treeShap, all columns)', int(shapRows), int(ours.shap), f(1e6 / ours.shap, 1), `pred_contribs ${int(nat.contribs1)}/s`, f(ours.shap / nat.contribs1, 3), '', '', ''],
    ].map((l) => l.map(String)),
  )
  print()
  print(`agreement: generated trees = array walk bit for bit on all ${ROWS.toLocaleString('en-US')} rows (checked per page); WASM predict_one = TS tree walk (|Δp| < 1e-5) on ${wasmAgree.toLocaleString('en-US')}/${wasmDone.toLocaleString('en-US')} rows; native vs ours on the first page: max |Δmargin| ${n1?.max_margin_diff?.toExponential(2) ?? '—'}, first 1,000 rows max |ΔSHAP| ${n1?.max_shap_diff?.toExponential(2) ?? '—'}`)
  print(`native DMatrix build: ${f(n1?.dmatrix_s, 2)} s (1 thread), not counted in its rows/s; native peak RSS ${f(native?.peak_rss_mb, 0)} MB`)
  print(`memory (this process's RSS; start ${mb(rssStart)} MB): no explanations at ${Math.min(100_000, ROWS).toLocaleString('en-US')} rows ${mb(rss.noExplain100k)} MB, at ${ROWS.toLocaleString('en-US')} ${mb(rss.noExplainEnd)} MB; after the explained pages ${mb(rss.explainEnd)} MB (the explained page holds one page's SHAP values: rows × (columns + 1) doubles)`)
  print(`gold + CSV text produced: ${mb(goldBytes)} MB (discarded page by page, as the job streams it)`)
  print()
  // Bounds: what the single-thread per-row costs allow at best.
  if (n1) {
    const walkShare = ours.noExplain / ours.walk
    print(`bound: the generated trees alone run at ${f(ours.walk / nat.predict1, 3)} of native predict; the page's preprocess + text costs ${f((1 - walkShare) * 100, 0)} % of its time.`)
    print(`bound: TS TreeSHAP alone runs at ${f(ours.shap / nat.contribs1, 3)} of native pred_contribs; the explained page cannot exceed that ratio.`)
    print(`bound: at these rates 1M rows with explanations take ${f(1e6 / ours.explain / 3600, 2)} h here on one thread (native pred_contribs ${f(1e6 / nat.contribs1 / 3600, 2)} h on one thread, ${f(1e6 / nat.contribs2 / 3600, 2)} h on two): exact TreeSHAP on a ${model.trees.trees.length}-tree depth-${maxDepth} model is milliseconds a row for both.`)
    print(`bound: real time computes every column's SHAP for its one row, so its floor is the TreeSHAP row cost, ${f(1000 / ours.shap, 2)} ms here (native ${f(1000 / nat.contribs1, 2)} ms).`)
  }
}

console.log(`\nbench:inference  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} CPUs (${os.cpus()[0]?.model})  load average ${load()}\n`)
for (const l of output) console.log(l)
await closeThreadPool()
await closeDb()
process.exit(0)
