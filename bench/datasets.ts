/**
 * Dataset upload benchmark: `npm run bench:datasets [-- --rows 100000,1000000]`.
 *
 * Generates an N-row × 20-column CSV (Integer, Float, String, Boolean, Date, DateTime columns; 1% of rows
 * carry a bad value), uploads it through the real route module (auth, multipart, validation, COPY into
 * bronze + silver, error report) against the Postgres named by DATABASE_URL, and compares with the floor:
 * Postgres COPY of the same file into a 20-column text table (unlogged, as the issue's floor; a logged one is printed
 * beside it). Prints rows/s, the process's peak RSS during each upload (memory must stay flat as the file grows) and
 * the CPU seconds Node and Postgres spent (the machine has 2 cores: CPU, not waiting, bounds the upload).
 * HD_UPLOAD_TIMING=1 prints each upload's phases.
 *
 * --client-mbps N sends the body at N MB/s, as a client on a network would (default: as fast as it can be read);
 * --modes live,stored uploads once per mode: `live` (the default: on Postgres the file is parsed and loaded while it
 * arrives) and `stored` (HD_UPLOAD_LIVE=off: stored whole first, then parsed), to compare them.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import type postgres from 'postgres'

const args = process.argv.slice(2)
const rowsArg = args[args.indexOf('--rows') + 1]
const SIZES = (args.includes('--rows') && rowsArg ? rowsArg : '100000,1000000').split(',').map(Number)
const CLIENT_MBPS = args.includes('--client-mbps') ? Number(args[args.indexOf('--client-mbps') + 1]) : 0
const MODES = (args.includes('--modes') ? args[args.indexOf('--modes') + 1] : 'live').split(',')
if (MODES.some((m) => m !== 'live' && m !== 'stored')) throw new Error('--modes takes live and/or stored')
// --repeat N: each size N times (COPY floor and upload alternate); the machine may be shared, so compare the best runs.
const REPEAT = args.includes('--repeat') ? Math.max(1, Number(args[args.indexOf('--repeat') + 1]) || 1) : 1
if (!process.env.DATABASE_URL) {
  console.error('Set DATABASE_URL to the Postgres to benchmark against (e.g. postgres://postgres@127.0.0.1:5432/bench)')
  process.exit(1)
}
process.env.LOG_REQUESTS = 'false'

const TYPES = ['Integer', 'Float', 'String', 'Boolean', 'Date', 'DateTime'] as const
const COLUMNS = Array.from({ length: 20 }, (_, i) => ({ column_name: `c${String(i + 1).padStart(2, '0')}_${TYPES[i % 6].toLowerCase()}`, data_type: TYPES[i % 6] }))

function cell(type: (typeof TYPES)[number], r: number, i: number, bad: boolean): string {
  if (bad) return 'n/a'
  const x = (r * 2654435761 + i * 40503) >>> 0
  switch (type) {
    case 'Integer': return String(x % 100000)
    case 'Float': return ((x % 1000000) / 100).toFixed(2)
    case 'String': return `item-${x % 5000}`
    case 'Boolean': return x % 2 ? 'true' : 'false'
    case 'Date': return new Date(Date.UTC(2024, 0, 1) + (x % 365) * 86400000).toISOString().slice(0, 10)
    case 'DateTime': return new Date(Date.UTC(2024, 0, 1) + (x % 31536000) * 1000).toISOString().slice(0, 19) + 'Z'
  }
}

async function generate(file: string, n: number) {
  const out = fs.createWriteStream(file)
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())))
  await write(COLUMNS.map((c) => c.column_name).join(',') + '\n')
  let buf = ''
  let invalid = 0
  for (let r = 1; r <= n; r++) {
    const badCol = r % 100 === 0 ? r % 20 : -1
    if (badCol >= 0 && COLUMNS[badCol].data_type !== 'String') invalid++
    buf += COLUMNS.map((c, i) => cell(c.data_type, r, i, i === badCol && c.data_type !== 'String')).join(',') + '\n'
    if (buf.length > 1 << 20) {
      await write(buf)
      buf = ''
    }
  }
  await write(buf)
  await new Promise<void>((r) => out.end(() => r()))
  return { invalid, bytes: fs.statSync(file).size }
}

/** A multipart body streamed from the file (never read whole). */
function multipartStream(file: string, boundary: string): ReadableStream<Uint8Array> {
  async function* parts() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="bench.csv"\r\nContent-Type: text/csv\r\n\r\n`)
    const t0 = performance.now()
    let sent = 0
    for await (const chunk of fs.createReadStream(file, { highWaterMark: CLIENT_MBPS ? 64 * 1024 : 256 * 1024 })) {
      // At most CLIENT_MBPS: wait until the bytes sent so far are due.
      const due = CLIENT_MBPS ? (sent / (CLIENT_MBPS * 1e6)) * 1000 - (performance.now() - t0) : 0
      if (due > 1) await new Promise((r) => setTimeout(r, due))
      sent += (chunk as Buffer).length
      yield chunk as Buffer
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`)
  }
  return Readable.toWeb(Readable.from(parts())) as ReadableStream<Uint8Array>
}

function rssSampler() {
  let peak = process.memoryUsage().rss
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  return () => {
    clearInterval(t)
    return Math.max(peak, process.memoryUsage().rss)
  }
}
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`

/** CPU seconds used so far by this database's server processes (Linux /proc; the machine's load does not count). */
function pgCpuSeconds(dbName: string): number {
  if (!fs.existsSync('/proc/self/stat')) return NaN
  const tick = 100 // USER_HZ on Linux
  let total = 0
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (!cmd.startsWith('postgres: ') || !cmd.includes(` ${dbName} `)) continue
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(f[11]) + Number(f[12])) / tick
    } catch {
      // the process ended
    }
  }
  return total
}

async function main() {
  const { getDb, closeDb } = await import('#app/db/index.server.ts')
  const { createTenant, provisionUser } = await import('#app/features/auth/auth.server.ts')
  const { builtinProvider } = await import('#app/features/auth/auth.server.ts')
  const upload = await import('#app/routes/api.v1.dataset.upload.ts')
  const db = await getDb()
  const sql = db.raw as postgres.Sql

  const slug = `bench-${crypto.randomBytes(3).toString('hex')}`
  const tenant = await createTenant(db, { name: 'Benchmark', slug })
  const password = crypto.randomBytes(12).toString('hex')
  await provisionUser(db, { tenantId: tenant.id, email: `${slug}@bench.example`, username: slug, password, roles: ['admin'] })
  const tokens = (await builtinProvider.signIn(db, slug, password))!
  const { rows: tpl } = await db.query<{ id: number }>(
    `insert into public.templates (tenant_id, template_name, template_schema) values ($1, 'bench', $2::jsonb) returning id`,
    [tenant.id, JSON.stringify(COLUMNS.map((c) => ({ ...c, default_value: null })))],
  )
  console.log(`Postgres: ${process.env.DATABASE_URL!.replace(/:[^:@/]*@/, ':***@')}  node ${process.version}  ${os.cpus().length} CPUs`)
  const dbName = new URL(process.env.DATABASE_URL!).pathname.slice(1)
  if (CLIENT_MBPS) console.log(`The client sends at ${CLIENT_MBPS} MB/s.`)
  console.log('rows       size     COPY floor          upload+validate+load       ratio   peak RSS (upload)  invalid rows    CPU s: node / postgres')

  for (const n of SIZES) {
    const file = path.join(os.tmpdir(), `hd-bench-${n}.csv`)
    const { invalid, bytes } = await generate(file, n)
    for (let rep = 0; rep < REPEAT; rep++) await runOnce(n, file, invalid, bytes)
    fs.rmSync(file, { force: true })
  }

  async function runOnce(n: number, file: string, invalid: number, bytes: number) {

    // The floor: COPY of the same file into a 20-column text table: unlogged (the issue's floor, no WAL), and a new
    // logged table in a transaction (what a durable table costs: our bronze and silver tables are logged).
    const copyFloor = async (logged: boolean) => {
      const cols = COLUMNS.map((c) => `${c.column_name} text`).join(', ')
      const pg0 = pgCpuSeconds(dbName)
      const t = performance.now()
      await sql.begin(async (tx) => {
        await tx.unsafe(`create ${logged ? '' : 'unlogged '}table public.bench_copy_floor (${cols})`)
        const w = await tx.unsafe(`copy public.bench_copy_floor from stdin with (format csv, header true)`).writable()
        await new Promise<void>((resolve, reject) => {
          fs.createReadStream(file).pipe(w).on('finish', resolve).on('error', reject)
        })
      })
      const sec = (performance.now() - t) / 1000
      const pg = pgCpuSeconds(dbName) - pg0
      await sql.unsafe(`drop table public.bench_copy_floor`)
      return { sec, pg }
    }
    const floor = await copyFloor(false)
    const logged = await copyFloor(true)
    for (const mode of MODES) await uploadOnce(mode, { n, file, invalid, bytes }, floor, logged)
  }

  async function uploadOnce(mode: string, { n, file, invalid, bytes }: { n: number; file: string; invalid: number; bytes: number }, floor: { sec: number; pg: number }, logged: { sec: number }) {
    const copySec = floor.sec
    const floorPg = floor.pg
    if (mode === 'stored') process.env.HD_UPLOAD_LIVE = 'off'
    else delete process.env.HD_UPLOAD_LIVE
    global.gc?.()
    const stop = rssSampler()
    const cpu0 = process.cpuUsage()
    const pg0 = pgCpuSeconds(dbName)
    const boundary = `----hd${crypto.randomBytes(8).toString('hex')}`
    const t0 = performance.now()
    const res = await upload.action({
      request: new Request(`http://bench.local/api/v1/dataset/upload?dataset_name=bench-${n}-${Date.now()}&usage=t&template_id=${tpl[0].id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: multipartStream(file, boundary),
        duplex: 'half',
      } as RequestInit),
      params: {},
    })
    const upSec = (performance.now() - t0) / 1000
    const peak = stop()
    const cpu = process.cpuUsage(cpu0)
    const nodeCpu = (cpu.user + cpu.system) / 1e6
    const pgCpu = pgCpuSeconds(dbName) - pg0
    const body = await res.json()
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(body)}`)
    const f = body.files[0]
    const copyRate = n / copySec
    const upRate = n / upSec
    console.log(
      `${String(n).padEnd(10)} ${mb(bytes).padEnd(8)} ${copySec.toFixed(2)} s ${Math.round(copyRate).toLocaleString('en').padStart(9)} rows/s  ` +
        `${upSec.toFixed(2)} s ${Math.round(upRate).toLocaleString('en').padStart(9)} rows/s   ${(upRate / copyRate).toFixed(2)}    ${mb(peak).padEnd(18)} ${String(f.error_report?.invalid_rows ?? 0).padEnd(6)}(expected ${invalid})  ${nodeCpu.toFixed(2)} / ${pgCpu.toFixed(2)} (COPY floor: postgres ${floorPg.toFixed(2)})` +
        `   logged floor ${logged.sec.toFixed(2)} s, ratio ${(upRate / (n / logged.sec)).toFixed(2)}` +
        (MODES.length > 1 || CLIENT_MBPS ? `   [${mode}${CLIENT_MBPS ? `, receiving alone takes ${(bytes / (CLIENT_MBPS * 1e6)).toFixed(2)} s` : ''}]` : ''),
    )
    await fetchDelete(body.dataset_id)
  }

  async function fetchDelete(id: number) {
    const del = await import('#app/routes/api.v1.dataset.delete.$dataset_id.ts')
    await del.action({ request: new Request(`http://bench.local/api/v1/dataset/delete/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.access_token}` } }), params: { dataset_id: String(id) } })
  }
  await db.query(`delete from public.tenants where id = $1`, [tenant.id])
  await closeDb()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
