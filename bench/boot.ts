/**
 * Boot benchmark: `npm run bench:boot [-- --runs 3]`. Builds nothing: run `npm run build` first.
 *
 * Starts the web server two ways, alternately, each on a fresh copy of one migrated embedded database (demo logins,
 * no demo data, so no seeding), as production (NODE_ENV=production):
 *   built      `node --single-threaded-gc build/node/index.js`, what `npm start` runs (decision 005)
 *   reference  `tsx --single-threaded-gc bench/boot-reference-server.ts`, what `npm start` ran before: TypeScript
 *              through tsx, the app's source and the React Router build both loaded
 * and measures the time from spawn to the first 200 from /healthz, and the resident memory (RSS, of every process the
 * command started: tsx runs the server in a child) right then and after 3 s idle. Prints the median of --runs.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const RUNS = Number(args.includes('--runs') ? args[args.indexOf('--runs') + 1] : 3)
const WORK = path.join(ROOT, 'bench/.out', `boot-${process.pid}`)

for (const f of ['build/node/index.js', 'build/server/index.js']) {
  if (!fs.existsSync(path.join(ROOT, f))) {
    console.error(`${f} is missing: run \`npm run build\` first (this benchmark builds nothing)`)
    process.exit(1)
  }
}

const WAYS = {
  built: [process.execPath, '--single-threaded-gc', 'build/node/index.js'],
  reference: [path.join(ROOT, 'node_modules/.bin/tsx'), '--single-threaded-gc', 'bench/boot-reference-server.ts'],
} as const
type Way = keyof typeof WAYS

function baseEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true', SEED_DEMO_DATA: 'false', SIMULATE_ACTIVITY: 'false', LOG_REQUESTS: 'false', DATA_DIR: dataDir, PORT: String(port) }
  for (const k of ['DATABASE_URL', 'TEST_DATABASE_URL', 'REDIS_URL', 'SUPABASE_URL', 'NODE_OPTIONS']) delete env[k]
  return env
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })

/** RSS in MB of a process and all its descendants (from /proc). */
function treeRssMb(pid: number): number {
  const children = new Map<number, number[]>()
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))![1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)])
    } catch {}
  }
  let kb = 0
  const visit = (p: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)
    } catch {}
    for (const c of children.get(p) ?? []) visit(c)
  }
  visit(pid)
  return kb / 1024
}

async function bootOnce(way: Way, run: number) {
  const dataDir = path.join(WORK, `${way}-${run}`)
  fs.cpSync(path.join(WORK, 'template'), dataDir, { recursive: true })
  const port = await freePort()
  const [cmd, ...rest] = WAYS[way]
  const t0 = performance.now()
  const child = spawn(cmd, rest, { cwd: ROOT, env: baseEnv(dataDir, port), stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${way} exited before serving:\n${stderr}`)
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false)
      if (ok) break
      if (performance.now() - t0 > 120_000) throw new Error(`${way} did not serve in 120 s`)
      await new Promise((r) => setTimeout(r, 10))
    }
    const bootMs = performance.now() - t0
    const rssAtBoot = treeRssMb(child.pid!)
    await new Promise((r) => setTimeout(r, 3000))
    return { bootMs, rssAtBoot, rssIdle: treeRssMb(child.pid!) }
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {}
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('close', r)))
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

fs.rmSync(WORK, { recursive: true, force: true })
const prep = spawnSync(process.execPath, ['--import', 'tsx', 'tests/e2e/support/prepare-embedded.ts'], { cwd: ROOT, env: baseEnv(path.join(WORK, 'template'), 3000), encoding: 'utf8' })
if (prep.status !== 0) throw new Error(`preparing the database failed:\n${prep.stderr}`)

const results: Record<Way, Awaited<ReturnType<typeof bootOnce>>[]> = { built: [], reference: [] }
try {
  for (let run = 0; run < RUNS; run++) {
    // Alternate which goes first, so a warm disk cache favours neither.
    for (const way of (run % 2 ? ['reference', 'built'] : ['built', 'reference']) as Way[]) {
      const r = await bootOnce(way, run)
      results[way].push(r)
      console.log(`  run ${run + 1} ${way.padEnd(9)} boot ${r.bootMs.toFixed(0).padStart(6)} ms   RSS ${r.rssAtBoot.toFixed(0)} MB, ${r.rssIdle.toFixed(0)} MB after 3 s`)
    }
  }
} finally {
  fs.rmSync(WORK, { recursive: true, force: true })
}

const row = (way: Way) => {
  const r = results[way]
  return { boot: median(r.map((x) => x.bootMs)), rss: median(r.map((x) => x.rssAtBoot)), idle: median(r.map((x) => x.rssIdle)) }
}
const b = row('built')
const ref = row('reference')
console.log(`\nboot to /healthz 200, median of ${RUNS} (node ${process.version}, ${os.availableParallelism()} cores, load ${os.loadavg()[0].toFixed(1)})`)
console.log(`                         boot ms   RSS at boot MB   RSS after 3 s MB`)
for (const [name, r] of [['built (npm start)', b], ['reference (tsx, before)', ref]] as const) {
  console.log(`  ${name.padEnd(23)} ${r.boot.toFixed(0).padStart(7)}   ${r.rss.toFixed(0).padStart(14)}   ${r.idle.toFixed(0).padStart(16)}`)
}
console.log(`  built / reference       ${(b.boot / ref.boot).toFixed(2).padStart(7)}   ${(b.rss / ref.rss).toFixed(2).padStart(14)}   ${(b.idle / ref.idle).toFixed(2).padStart(16)}`)
