/**
 * Training benchmark: `npm run bench:train [-- --cases 100k,1m,churn] [--churn-rows 7043]`.
 *
 * Needs DATABASE_URL (e.g. `createdb -h 127.0.0.1 -U postgres hd_bench_train`, then
 * DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_bench_train). Per case: a CSV (generated: N rows × 20 float
 * features with a binary target, app/features/ml/synthetic.ts; or the Telco-shaped churn table, app/demo/churn.ts) is
 * uploaded once through the upload route (kept for the next run), then timed end to end: the POST /api/v1/train/ route
 * (XGBoost hist, SHAP off, the platform's default parameters) until the training's job is completed, with the process's
 * peak RSS over that interval (the pool thread's WASM heap included) and the validation AUC from model-summary.
 * Beside it, in the same run: native XGBoost (/usr/bin/python3, bench/native_xgboost.py, the same parameters,
 * nthread 1 and 2) trained on the same CSV's same training rows and scored on the same held-out rows (the platform's
 * seeded stratified split, recomputed here); our downloaded model is scored there too. Prints a table and the load average.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { churnCase, datasetOf, generatedCase, trainAndWait, type Case } from './ml-fixture.ts'

const args = process.argv.slice(2)
const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def)
const CASES = arg('--cases', '100k,1m,churn').split(',')
const CHURN_ROWS = Number(arg('--churn-rows', '7043'))
const PYTHON = process.env.HD_BENCH_PYTHON ?? '/usr/bin/python3'
if (!process.env.DATABASE_URL) {
  console.error('Set DATABASE_URL to the Postgres to benchmark against (e.g. postgres://postgres@127.0.0.1:5432/hd_bench_train)')
  process.exit(1)
}
process.env.LOG_REQUESTS = 'false'
process.env.JWT_SECRET ??= 'hot-dash-bench-secret-0123456789abcdef0123456789'

const { getDb, closeDb } = await import('#app/db/index.server.ts')
const { migrate } = await import('#app/db/migrate.server.ts')
const { createTenant, provisionUser } = await import('#app/features/auth/auth.server.ts')
const { builtinProvider } = await import('#app/features/auth/auth.server.ts')
const { startJobs, stopJobs } = await import('#app/jobs/registry.server.ts')
const { closeThreadPool } = await import('#app/jobs/thread-pool.server.ts')
const { stratifiedHoldout, strata } = await import('#app/features/ml/split.ts')
const { DEFAULT_BOOSTING } = await import('#app/features/ml/xgboost-train.ts')
const summaryRoute = await import('#app/routes/api.v1.train.model-summary.ts')
const downloadRoute = await import('#app/routes/api.v1.train.download-model.$train_id.ts')

const db = await getDb()
await migrate(db)
await startJobs()

// ------------------------------------------------------------------ tenant, token
const SLUG = 'bench-train'
const PASSWORD = 'bench-train-password'
let tenantId = (await db.query<{ id: string }>(`select id from public.tenants where slug = $1`, [SLUG])).rows[0]?.id
if (!tenantId) {
  tenantId = (await createTenant(db, { name: 'Bench training', slug: SLUG })).id
  await provisionUser(db, { tenantId, email: `${SLUG}@bench.example`, username: SLUG, password: PASSWORD, roles: ['admin'] })
}
const tokens = (await builtinProvider.signIn(db, SLUG, PASSWORD))!
const auth = { authorization: `Bearer ${tokens.access_token}` }

/** The platform's held-out rows, recomputed: the same seeded stratified split over the CSV's target column, in row order. */
function validationRows(c: Case, seed: number, fraction: number) {
  const text = fs.readFileSync(c.file, 'utf8')
  const lines = text.split('\n')
  const at = lines[0].split(',').indexOf(c.target)
  const labels: string[] = []
  for (let i = 1; i < lines.length; i++) if (lines[i]) labels.push(lines[i].split(',')[at].toLowerCase())
  const classes = [...new Set(labels)].sort()
  const y = Int32Array.from(labels, (l) => classes.indexOf(l))
  return stratifiedHoldout(strata(y, 'classification'), fraction, seed).valid
}

// ------------------------------------------------------------------ memory
/** Peak RSS of this process from now: the kernel's high-water mark reset (clear_refs 5), else sampled every 20 ms. */
function peakRss() {
  let canReset = false
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    canReset = true
  } catch {
    // not Linux, or not allowed
  }
  let sampled = process.memoryUsage().rss
  const t = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 20)
  return () => {
    clearInterval(t)
    if (canReset) {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
      if (m) return Number(m[1]) * 1024
    }
    return Math.max(sampled, process.memoryUsage().rss)
  }
}

// ------------------------------------------------------------------ one case
const results: Record<string, unknown>[] = []

async function runCase(c: Case) {
  const datasetId = await datasetOf(db, tenantId, auth, c)
  const predictor = `${c.name}-${Date.now()}`
  const body = {
    dataset_id: datasetId,
    predictor_name: predictor,
    domain: 'bench',
    problem_type: 'Classification',
    columns: [{ column_name: c.target, attribute_name: 'Target' }, ...c.ids.map((id) => ({ column_name: id, attribute_name: 'Id' }))],
    algorithm: 'xgboost',
    shap_enabled: false,
    engine: 'wasm',
  }
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  const stop = peakRss()
  const t0 = performance.now()
  const trainingId = await trainAndWait(db, auth, body)
  const seconds = (performance.now() - t0) / 1000
  const peak = stop()
  const summary = await ((await summaryRoute.loader({ request: new Request(`http://bench.local/api/v1/train/model-summary?train_id=${trainingId}`, { headers: auth }), params: {} } as never)) as Response).json()
  const model = (await downloadRoute.loader({ request: new Request(`http://bench.local/api/v1/train/download-model/${trainingId}`, { headers: auth }), params: { train_id: String(trainingId) } } as never)) as Response
  const modelFile = path.join(os.tmpdir(), `${predictor}.bin`)
  fs.writeFileSync(modelFile, Buffer.from(await model.arrayBuffer()))

  // Native XGBoost: the same parameters (the platform's defaults), the same rows.
  const p = DEFAULT_BOOSTING
  const validFile = path.join(os.tmpdir(), `${predictor}.valid.txt`)
  fs.writeFileSync(validFile, Array.from(validationRows(c, summary.data.seed ?? 42, summary.data.validation_split ?? 0.2)).join('\n') + '\n')
  const spec = {
    csv: c.file,
    target: c.target,
    drop: c.ids,
    validation: validFile,
    params: {
      objective: 'binary:logistic', tree_method: 'hist', max_depth: p.max_depth, eta: p.learning_rate, subsample: p.subsample, colsample_bytree: p.colsample_bytree,
      min_child_weight: p.min_child_weight, scale_pos_weight: p.scale_pos_weight, lambda: p.reg_lambda, alpha: p.reg_alpha, gamma: p.gamma, max_bin: p.max_bin,
      base_score: 0.5, seed: p.seed, eval_metric: 'logloss',
    },
    num_boost_round: p.n_estimators,
    early_stopping_rounds: p.early_stopping_rounds,
    threads: [1, 2],
    ours: c.ids.length ? null : modelFile,
  }
  const specFile = path.join(os.tmpdir(), `${predictor}.spec.json`)
  fs.writeFileSync(specFile, JSON.stringify(spec))
  const py = spawnSync(PYTHON, [path.resolve(import.meta.dirname, 'native_xgboost.py'), specFile], { encoding: 'utf8', maxBuffer: 16 << 20 })
  let native: { runs: { threads: number; train_s: number; dmatrix_s: number; auc: number; best_iteration: number }[]; read_s: number; ours_auc_here?: number; peak_rss_mb: number; xgboost: string } | null = null
  if (py.status === 0) native = JSON.parse(py.stdout.trim().split('\n').pop()!)
  else console.log(`  native XGBoost skipped: ${PYTHON} failed (${(py.stderr || py.error?.message || '').trim().split('\n').pop()})`)
  for (const f of [modelFile, validFile, specFile]) fs.rmSync(f, { force: true })

  const n1 = native?.runs.find((r) => r.threads === 1)
  const n2 = native?.runs.find((r) => r.threads === 2)
  const row = {
    case: c.name,
    rows: c.rows,
    end_to_end_s: seconds,
    train_only_s: summary.duration_ms / 1000,
    best_iteration: summary.best_iteration,
    peak_rss_mb: peak / 1048576,
    rss_before_mb: rssBefore / 1048576,
    auc: summary.metrics.roc_auc,
    auc_ours_in_python: native?.ours_auc_here ?? null,
    native_1t_s: n1?.train_s ?? null,
    native_2t_s: n2?.train_s ?? null,
    native_read_s: native?.read_s ?? null,
    native_auc: n1?.auc ?? null,
    native_best_iteration: n1?.best_iteration ?? null,
    ratio_vs_native_1t: n1 ? seconds / n1.train_s : null,
    auc_gap: n1 ? summary.metrics.roc_auc - n1.auc : null,
  }
  results.push(row)
  const f = (v: unknown, d = 3) => (typeof v === 'number' ? v.toFixed(d) : '—')
  console.log(
    `${c.name.padEnd(18)} ${String(c.rows).padStart(8)}  e2e ${f(seconds, 2).padStart(7)} s (train ${f(row.train_only_s, 2)} s, ${row.best_iteration + 1} rounds)  RSS ${f(row.peak_rss_mb, 0).padStart(5)} MB  AUC ${f(row.auc, 4)}` +
      (n1 ? `  │ native 1t ${f(n1.train_s, 2)} s, 2t ${f(n2?.train_s, 2)} s (${n1.best_iteration + 1} rounds; read+encode ${f(native!.read_s, 2)} s)  AUC ${f(n1.auc, 4)}  │ ×${f(row.ratio_vs_native_1t, 2)} of native 1t, ΔAUC ${f(row.auc_gap, 4)}${native!.ours_auc_here !== undefined ? `, our model scored in Python ${f(native!.ours_auc_here, 4)}` : ''}` : ''),
  )
}

console.log(`bench:train  node ${process.version}  ${os.cpus().length} CPUs  load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}  Postgres ${process.env.DATABASE_URL!.replace(/:[^:@/]*@/, ':***@')}`)
for (const name of CASES) {
  const c = name === 'churn' ? churnCase(CHURN_ROWS) : generatedCase(name.endsWith('m') ? Number(name.slice(0, -1)) * 1_000_000 : Number(name.replace(/k$/, '')) * (name.endsWith('k') ? 1000 : 1))
  await runCase(c)
}
console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log('targets: 100k end to end ≤ 3× native single-thread hist, |ΔAUC| ≤ 0.005; 1M completes with peak RSS < 1.5 GB')
fs.writeFileSync(path.join(os.tmpdir(), 'bench-train-results.json'), JSON.stringify(results, null, 2))
await stopJobs({ timeoutMs: 5000 })
await closeThreadPool()
await closeDb()
