import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { expect, test } from '@playwright/test'

/*
  The app as the processes a user starts. The embedded database: the app as `npm start` serves it (the production
  build the suite has just made), a second process on the same directory is refused, and `kill -9` in the middle of
  writes loses none that were acknowledged. The dev server serves public/ as production does. Real processes, real
  files; no browser needed.
*/

const ROOT = path.resolve(import.meta.dirname, '../..')
const WORK = path.join(ROOT, '.data', `e2e-processes-${process.pid}`)
const children: ChildProcess[] = []

test.describe.configure({ mode: 'serial' })
test.beforeAll(() => {
  fs.rmSync(WORK, { recursive: true, force: true })
  // Migrated, with the demo logins (no demo data): seconds instead of the full seed's minute.
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tests/e2e/support/prepare-embedded.ts'], {
    cwd: ROOT,
    env: { ...baseEnv(), DATA_DIR: path.join(WORK, 'template') },
    encoding: 'utf8',
  })
  expect(r.status, r.stderr).toBe(0)
})
test.afterAll(() => {
  for (const c of children) killGroup(c)
  fs.rmSync(WORK, { recursive: true, force: true })
})

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true', SEED_DEMO_DATA: 'false', SIMULATE_ACTIVITY: 'false', LOG_REQUESTS: 'false' }
  for (const k of ['DATABASE_URL', 'TEST_DATABASE_URL', 'REDIS_URL', 'SUPABASE_URL', 'JWT_SECRET']) delete env[k]
  return env
}

/** A copy of the prepared data directory for one test. */
function dataDir(name: string) {
  const dir = path.join(WORK, name)
  fs.cpSync(path.join(WORK, 'template'), dir, { recursive: true })
  return dir
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

interface Proc {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/** `npm <args>` in its own process group (so the whole chain can be stopped), with its output kept. */
function npm(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn('npm', args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

function killGroup(c: ChildProcess) {
  try {
    if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGKILL')
  } catch {}
}

interface App extends Proc {
  base: string
  dir: string
}

/** `npm start` (or `npm run dev`), once it serves. */
async function startApp(dir: string, script: 'start' | 'dev' = 'start'): Promise<App> {
  const port = await freePort()
  const p = npm(script === 'start' ? ['start'] : ['run', 'dev'], { ...baseEnv(), DATA_DIR: dir, PORT: String(port), ...(script === 'dev' && { NODE_ENV: 'development' }) })
  const base = `http://127.0.0.1:${port}`
  let done = false
  void p.exited.then(() => (done = true))
  for (;;) {
    if (done) throw new Error(`the app exited before serving:\n${p.output()}`)
    // In dev the first page compiles every route: the ready line says it listens.
    const up = script === 'dev' ? p.output().includes('Hot Dash on') : await fetch(`${base}/healthz`).then((r) => r.ok, () => false)
    if (up) return { ...p, base, dir }
    await new Promise((r) => setTimeout(r, 200))
  }
}

const lockFile = (dir: string) => path.join(dir, 'pglite.lock')
const lockPid = (dir: string) => JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')).pid as number

async function login(app: App) {
  const r = await fetch(`${app.base}/api/v1/login/access-token`, { method: 'POST', body: new URLSearchParams({ username: 'acme-admin', password: 'hotdash-demo' }) })
  expect(r.status).toBe(200)
  return { authorization: `Bearer ${(await r.json()).access_token}` }
}

const createTemplate = (app: App, auth: Record<string, string>, name: string) =>
  fetch(`${app.base}/api/v1/template/`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ template_name: name, template_schema: [{ column_name: 'amount', data_type: 'float' }] }),
  })

async function templateNames(app: App, auth: Record<string, string>) {
  const r = await fetch(`${app.base}/api/v1/template/list`, { headers: auth })
  expect(r.status).toBe(200)
  return new Set(((await r.json()).data as { template_name: string }[]).map((t) => t.template_name))
}

test('a second process on the same directory is refused; the first keeps serving its data', async () => {
  test.setTimeout(180_000)
  const dir = dataDir('second-process')
  const app = await startApp(dir)
  const auth = await login(app)
  for (const name of ['first', 'second']) expect((await createTemplate(app, auth, name)).status).toBe(201)
  const holder = lockPid(dir)

  const second = npm(['start'], { ...baseEnv(), DATA_DIR: dir, PORT: String(await freePort()) })
  expect(await second.exited).not.toBe(0)
  const refusal = second.output().split('\n').filter((l) => l.includes('in use by another process'))
  expect(refusal).toHaveLength(1)
  expect(refusal[0]).toContain(`"npm start" (pid ${holder} on this machine`)
  expect(refusal[0]).toMatch(/Stop that process first, or give this one a database of its own: DATA_DIR=.* or DATABASE_URL=/)

  const seed = npm(['run', 'db:seed'], { ...baseEnv(), DATA_DIR: dir, NODE_ENV: 'development' })
  expect(await seed.exited).toBe(1)
  expect(seed.output()).toMatch(new RegExp(`"npm start" \\(pid ${holder} on this machine.*If that is the app: it seeds the demo data itself`))

  // The first is untouched: same holder, same data, and it still writes.
  expect(lockPid(dir)).toBe(holder)
  expect((await createTemplate(app, auth, 'third')).status).toBe(201)
  expect(await templateNames(app, auth)).toEqual(new Set(['first', 'second', 'third']))
  expect((await fetch(`${app.base}/healthz`)).status).toBe(200)

  // Stopped, it gives the directory back.
  process.kill(holder, 'SIGTERM')
  await app.exited
  expect(fs.existsSync(lockFile(dir))).toBe(false)
})

test('kill -9 during writes, several times: every acknowledged write is there after the restart, which takes the lock over', async () => {
  test.setTimeout(300_000)
  const dir = dataDir('crash-loop')
  const acknowledged = new Set<string>()
  let auth: Record<string, string> | undefined
  const ROUNDS = 3
  for (let round = 1; round <= ROUNDS + 1; round++) {
    const app = await startApp(dir)
    if (round > 1) expect(app.output()).toMatch(/took over the lock of "npm start" \(pid \d+, since .*\), which is no longer running/)
    auth ??= await login(app)
    const present = await templateNames(app, auth)
    for (const name of acknowledged) expect(present.has(name), `${name} acknowledged before a kill -9`).toBe(true)
    if (round > ROUNDS) {
      process.kill(lockPid(dir), 'SIGTERM')
      await app.exited
      break
    }

    // Four writers in parallel; the server dies under them once a few writes are in.
    const pid = lockPid(dir)
    let killed = false
    const writer = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const name = `round-${round}-writer-${w}-${i}`
        const r = await createTemplate(app, auth!, name).catch(() => null)
        if (r?.status === 201) acknowledged.add(name)
        else if (!killed) throw new Error(`write ${name} failed before the kill: ${r?.status} ${await r?.text()}`)
        if (!killed && [...acknowledged].filter((n) => n.startsWith(`round-${round}-`)).length >= 8) {
          killed = true
          process.kill(pid, 'SIGKILL')
        }
      }
    }
    await Promise.all([0, 1, 2, 3].map(writer))
    await app.exited
    // The killed process could not remove its lock: the next start must tell it is stale.
    expect(lockPid(dir)).toBe(pid)
  }
  expect(acknowledged.size).toBeGreaterThanOrEqual(8 * ROUNDS)
  expect(fs.existsSync(lockFile(dir))).toBe(false)
})

test('the dev server serves public/ (favicon, robots.txt) as the production build does', async () => {
  test.setTimeout(120_000)
  const app = await startApp(dataDir('dev'), 'dev')
  const robots = await fetch(`${app.base}/robots.txt`)
  expect(robots.status).toBe(200)
  expect(await robots.text()).toBe(fs.readFileSync(path.join(ROOT, 'public/robots.txt'), 'utf8'))
  const icon = await fetch(`${app.base}/favicon.ico`)
  expect(icon.status).toBe(200)
  expect(Buffer.from(await icon.arrayBuffer()).equals(fs.readFileSync(path.join(ROOT, 'public/favicon.ico')))).toBe(true)
  process.kill(lockPid(app.dir), 'SIGTERM')
  await app.exited
})
