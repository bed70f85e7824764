import { spawn } from 'node:child_process'
import dns from 'node:dns/promises'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openPglite, openPostgres, type Db } from '#app/db/db.server.ts'
import { isLocalDatabaseUrl } from '#app/db/maintenance.server.ts'
import { createTestDatabase, type TestDatabase } from '#tests/support/db.ts'

/*
  The `npm run db:*` commands and the worker as a user runs them: real processes on a real embedded directory (or
  a real Postgres), refused while another process holds the database, readable when the files are damaged.
*/

const ROOT = path.resolve(import.meta.dirname, '../..')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-dbcmd-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Runs `tsx scripts/db.ts …` (or another entry) with only the variables given (no DATABASE_URL from the test run). */
function run(args: string[], env: Record<string, string>, script = 'scripts/db.ts') {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, NODE_ENV: 'development', LOG_REQUESTS: 'false' }
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })))
}

/** A DATA_DIR whose embedded database is migrated (from the run's migrated dump) and holds one marker row. */
async function embeddedDataDir(name: string, marker: string) {
  const dataDir = path.join(tmp, name)
  const db = await openPglite(path.join(dataDir, 'pglite'), { loadDataDir: new Blob([fs.readFileSync(inject('pgliteDump'))]) })
  await db.exec(`create table public.marker (note text)`)
  await db.query(`insert into public.marker values ($1)`, [marker])
  await db.close()
  return dataDir
}

const markers = async (db: Db) => (await db.query<{ note: string }>(`select note from public.marker order by note`)).rows.map((r) => r.note)

describe('while another process has the embedded database open', () => {
  let dataDir: string
  let holder: Db
  beforeAll(async () => {
    dataDir = await embeddedDataDir('held', 'before')
    holder = await openPglite(path.join(dataDir, 'pglite'))
  })
  afterAll(() => holder?.close())

  it('db:seed, db:migrate and db:backup are refused in one line naming it, and say what to do instead', async () => {
    for (const [command, instead] of [
      ['seed', /it seeds the demo data itself when the data is missing/],
      ['migrate', /it applies new migrations itself when it starts/],
      ['backup', /Stop it for the moment the copy takes/],
    ] as const) {
      const r = await run([command], { DATA_DIR: dataDir })
      expect(r.status, command).toBe(1)
      const line = r.stderr.trim()
      expect(line.split('\n'), command).toHaveLength(1)
      expect(line).toMatch(new RegExp(`is in use by another process: "[^"]+" \\(pid ${process.pid} on this machine, since `))
      expect(line).toMatch(/Stop that process first, or give this one a database of its own: DATA_DIR=.* or DATABASE_URL=/)
      expect(line).toMatch(instead)
    }
    expect(await markers(holder)).toEqual(['before'])
  })

  it('npm run worker names the process that runs the jobs already', async () => {
    const r = await run([], { DATA_DIR: dataDir }, 'server/worker.ts')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`run the jobs in-process \\(as "[^"]+", pid ${process.pid}, does now\\)`))
  })
})

describe('db:backup and db:restore (embedded database)', () => {
  it('keeps a copy and puts it back, keeping the database it replaced', async () => {
    const dataDir = await embeddedDataDir('backup', 'in the backup')
    const file = path.join(tmp, 'copy.tar.gz')
    const backup = await run(['backup', file], { DATA_DIR: dataDir })
    expect(backup.stderr).toBe('')
    expect(backup.status).toBe(0)
    expect(backup.stdout).toMatch(/backed up .*pglite to .*copy\.tar\.gz \(\d.* [kM]B\); restore it with: npm run db:restore -- /)

    let db = await openPglite(path.join(dataDir, 'pglite'))
    await db.query(`insert into public.marker values ('after the backup')`)
    await db.close()

    const restore = await run(['restore', file], { DATA_DIR: dataDir })
    expect(restore.status).toBe(0)
    const kept = /kept in (\S+) \(/.exec(restore.stdout)?.[1]
    expect(kept).toMatch(/pglite\.before-restore-/)
    db = await openPglite(path.join(dataDir, 'pglite'))
    expect(await markers(db)).toEqual(['in the backup'])
    await db.close()
    db = await openPglite(path.resolve(ROOT, kept!))
    expect(await markers(db)).toEqual(['after the backup', 'in the backup'])
    await db.close()

    // Something that is not a backup changes nothing.
    const notBackup = path.join(tmp, 'not-a-backup.tar.gz')
    fs.writeFileSync(notBackup, 'hello')
    const bad = await run(['restore', notBackup], { DATA_DIR: dataDir })
    expect(bad.status).toBe(1)
    expect(bad.stderr.trim()).toMatch(/^\[db\] .*not-a-backup\.tar\.gz is not a backup of the embedded database \(not a gzip file\); nothing was changed$/)
    db = await openPglite(path.join(dataDir, 'pglite'))
    expect(await markers(db)).toEqual(['in the backup'])
    await db.close()
  }, 120_000)
})

describe('a damaged embedded database', () => {
  it('is one readable line and a non-zero exit, with how to recover; no WASM dump', async () => {
    const dataDir = await embeddedDataDir('damaged', 'x')
    const control = path.join(dataDir, 'pglite/global/pg_control')
    fs.writeFileSync(control, Buffer.alloc(fs.statSync(control).size, 0x5a))
    const r = await run(['migrate'], { DATA_DIR: dataDir })
    expect(r.status).toBe(1)
    const line = r.stderr.trim()
    expect(line.split('\n')).toHaveLength(1)
    expect(line).toMatch(/^\[db\] the embedded database in .*damaged\/pglite could not be opened \(.+\): its files are damaged/)
    expect(line).toContain('npm run db:restore -- <file>')
    expect(line).toContain('npm run db:reset')
    expect(line.length).toBeLessThan(500)
    // The lock was given back: nothing left claiming the directory.
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false)
  }, 60_000)
})

describe('production', () => {
  it('refuses to start on local state, naming what is missing, without a stack trace', async () => {
    const r = await run(['migrate'], { NODE_ENV: 'production', DATA_DIR: path.join(tmp, 'prod') })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/^Invalid environment variables:\n {2}DATABASE_URL: required in production/)
    expect(r.stderr).toMatch(/\n {2}JWT_SECRET: required in production/)
    expect(r.stderr).toMatch(/\n {2}SUPABASE_URL: shared file storage is required in production/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(fs.existsSync(path.join(tmp, 'prod'))).toBe(false)
  })
})

describe('db:reset on a database that is not on this machine', () => {
  it('tells local databases from others by the address', () => {
    for (const url of ['postgres://u@localhost/x', 'postgres://u@127.0.0.1:54322/postgres', 'postgres://u@[::1]/x', 'postgres:///x?host=/var/run/postgresql']) {
      expect(isLocalDatabaseUrl(url), url).toBe(true)
    }
    for (const url of ['postgres://u@db.abcd.supabase.co:5432/postgres', 'postgres://u@aws-0-eu.pooler.supabase.com:6543/postgres', 'postgres://u@10.0.0.5/x', 'postgres://u@db/x']) {
      expect(isLocalDatabaseUrl(url), url).toBe(false)
    }
  })

  it('is refused without --yes-drop <its name>, saying what it would drop', async () => {
    const url = 'postgres://postgres@db.hot-dash-test.invalid:5432/prod'
    const r = await run(['reset'], { DATABASE_URL: url })
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/db:reset drops, in database "prod" on db\.hot-dash-test\.invalid:5432: the schemas public, app, analytics/)
    expect(r.stderr.trim()).toBe('db:reset refused: "prod" on db.hot-dash-test.invalid:5432 is not a database on this machine. If you mean it: npm run db:reset -- --yes-drop prod')
    const wrong = await run(['reset', '--yes-drop', 'postgres'], { DATABASE_URL: url })
    expect(wrong.status).toBe(1)
    expect(wrong.stderr).toContain('(--yes-drop names "postgres", not "prod")')
  })

  // The machine's own name resolves to this machine but is not a loopback address: a stand-in for a remote server.
  describe.runIf(process.env.TEST_DATABASE_URL)('on a real server (Postgres)', () => {
    let database: TestDatabase
    let remoteUrl: string | null = null
    beforeAll(async () => {
      database = await createTestDatabase()
      const address = await dns.lookup(os.hostname()).catch(() => null)
      if (address && /^127\./.test(address.address)) {
        const u = new URL(database.url!)
        u.hostname = os.hostname()
        remoteUrl = u.toString()
      } else {
        console.log(`db-commands: the real-server reset case is skipped: ${os.hostname()} does not resolve to this machine's loopback address`)
      }
    })
    afterAll(() => database?.close())

    it('lists our schemas and their tables, and drops nothing', async (ctx) => {
      if (!remoteUrl) return ctx.skip()
      const name = new URL(remoteUrl).pathname.slice(1)
      const r = await run(['reset'], { DATABASE_URL: remoteUrl })
      expect(r.status).toBe(1)
      expect(r.stdout).toMatch(new RegExp(`db:reset drops, in database "${name}" on ${os.hostname()}:\\d+: public \\(\\d+ tables(, \\d+ views)?\\), app \\(`))
      expect(r.stderr).toContain(`--yes-drop ${name}`)
      const check = openPostgres(database.url!, { max: 1 })
      expect((await check.query(`select to_regclass('public.tenants') is not null as present`)).rows[0].present).toBe(true)
      await check.close()
    })
  })
})
