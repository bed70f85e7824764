import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { expect, test } from '@playwright/test'

/*
  `npm start` is plain node on the build, one module graph (decision 005). Started with a module recorder
  (support/record-modules.mjs: Node's own load hooks write down every module the process and its pool threads load),
  it serves a k-means segmentation, which runs on a pool thread; then what it loaded is read back: the built server,
  the React Router build and packages — no app source, no TypeScript, no tsx — and the thread ran the built
  cluster.thread.js. No browser needed.
*/

const ROOT = path.resolve(import.meta.dirname, '../..')
const WORK = path.join(ROOT, '.data', `e2e-built-${process.pid}`)
const LOG = path.join(WORK, 'modules')
let child: ChildProcess | undefined
let output = ''
let base = ''

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true', SEED_DEMO_DATA: 'false', SIMULATE_ACTIVITY: 'false', LOG_REQUESTS: 'false' }
  for (const k of ['DATABASE_URL', 'TEST_DATABASE_URL', 'REDIS_URL', 'SUPABASE_URL', 'JWT_SECRET', 'NODE_OPTIONS']) delete e[k]
  return { ...e, DATA_DIR: path.join(WORK, 'data') }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })

test.describe.configure({ mode: 'serial' })
test.beforeAll(async () => {
  // Preparing the database and a first boot: tens of seconds on a loaded 2-core machine.
  test.setTimeout(300_000)
  fs.rmSync(WORK, { recursive: true, force: true })
  fs.mkdirSync(LOG, { recursive: true })
  // Migrated, with the demo logins and none of their data.
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tests/e2e/support/prepare-embedded.ts'], { cwd: ROOT, env: env(), encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  const recorder = path.join(ROOT, 'tests/e2e/support/record-modules.mjs')
  child = spawn('npm', ['start'], { cwd: ROOT, env: { ...env(), PORT: String(port), NODE_OPTIONS: `--import=${recorder}`, HD_MODULE_LOG: LOG }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`)
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break
    if (i > 1200) throw new Error(`npm start did not serve in 240 s:\n${output}`)
    await new Promise((r) => setTimeout(r, 200))
  }
})
test.afterAll(() => {
  try {
    if (child?.pid) process.kill(-child.pid, 'SIGKILL')
  } catch {}
  fs.rmSync(WORK, { recursive: true, force: true })
})

/** What each recorded process or thread loaded, by the script node ran. */
function loaded() {
  return fs.readdirSync(LOG).map((f) => {
    const [first, ...urls] = fs.readFileSync(path.join(LOG, f), 'utf8').trim().split('\n')
    return { script: path.relative(ROOT, first.replace(/^argv /, '')), files: urls.filter((u) => u.startsWith('file://')).map((u) => path.relative(ROOT, new URL(u).pathname)) }
  })
}

/** The project's own files among them (not packages). */
const own = (files: string[]) => files.filter((f) => !f.startsWith('node_modules/'))

test('npm start runs node on the built server; a thread task runs its built module', async () => {
  const login = await fetch(`${base}/api/v1/login/access-token`, { method: 'POST', body: new URLSearchParams({ username: 'acme-admin', password: 'hotdash-demo' }) })
  expect(login.status).toBe(200)
  const auth = { authorization: `Bearer ${(await login.json()).access_token}` }
  const template = await fetch(`${base}/api/v1/template/`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ template_name: 'points', template_schema: [{ column_name: 'x', data_type: 'Float' }, { column_name: 'y', data_type: 'Float' }] }),
  })
  expect(template.status).toBe(201)
  // Three far-apart groups of 20 points: k-means must find exactly them.
  const groups = [[0, 0], [50, 0], [0, 50]]
  const points = groups.flatMap(([cx, cy], g) => Array.from({ length: 20 }, (_, i) => ({ g, x: cx + (i % 5) / 4, y: cy + Math.floor(i / 5) / 3 })))
  const form = new FormData()
  form.append('files', new Blob([`x,y\n${points.map((p) => `${p.x},${p.y}`).join('\n')}\n`]), 'points.csv')
  const upload = await fetch(`${base}/api/v1/dataset/upload?dataset_name=points&usage=t&template_id=${(await template.json()).id}&iceberg_table_name=points`, { method: 'POST', headers: auth, body: form })
  expect(upload.status).toBe(201)
  const cluster = await fetch(`${base}/api/v1/segmentation/cluster`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ dataset_id: String((await upload.json()).dataset_id), algorithm: 'kmeans', n_clusters: 3, features: ['x', 'y'] }),
  })
  const body = await cluster.json()
  expect(cluster.status, JSON.stringify(body)).toBe(200)
  // Each cluster is one group: its centroid is that group's mean, computed here.
  const found = (body.clusters as { size: number; centroid: { x: number; y: number } }[]).map((c) => {
    expect(c.size).toBe(20)
    const g = groups.findIndex(([cx, cy]) => Math.abs(c.centroid.x - cx) < 5 && Math.abs(c.centroid.y - cy) < 5)
    const mine = points.filter((p) => p.g === g)
    expect(c.centroid.x).toBeCloseTo(mine.reduce((s, p) => s + p.x, 0) / 20, 9)
    expect(c.centroid.y).toBeCloseTo(mine.reduce((s, p) => s + p.y, 0) / 20, 9)
    return g
  })
  expect(found.sort()).toEqual([0, 1, 2])

  const runs = loaded()
  const server = runs.filter((r) => r.script === 'build/node/index.js')
  expect(server, JSON.stringify(runs.map((r) => r.script))).toHaveLength(1)
  const files = server[0].files
  // The built server, then the React Router build (its entry and chunks, each once); nothing from source.
  expect(files[0]).toBe('build/node/index.js')
  expect(files).toContain('build/server/index.js')
  expect(own(files).filter((f) => !f.startsWith('build/'))).toEqual([])
  expect(new Set(files).size).toBe(files.length)
  expect(files.filter((f) => /\.tsx?$/.test(f) || f.startsWith('node_modules/tsx/') || f.startsWith('node_modules/vite/'))).toEqual([])

  const thread = runs.find((r) => r.files.includes('build/node/threads/features/analytics/cluster.thread.js'))
  expect(thread?.script, JSON.stringify(runs)).toBe('build/node/thread-worker.mjs')
  expect(own(thread!.files).filter((f) => !f.startsWith('build/node/'))).toEqual([])
  expect(thread!.files.filter((f) => /\.tsx?$/.test(f) || f.startsWith('node_modules/tsx/'))).toEqual([])
})
