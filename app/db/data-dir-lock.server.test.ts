import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { acquireDataDirLock, DataDirLockedError, lockFileOf, lockHolder, type LockHolder } from './data-dir-lock.server.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-lock-'))
let n = 0
const newDir = () => path.join(root, `db-${n++}`, 'pglite')
const children: ChildProcess[] = []

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** A lock file as another process would have left it. */
function writeLock(dir: string, h: Partial<LockHolder>, mtime?: Date) {
  const file = lockFileOf(dir)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const holder: LockHolder = {
    pid: 1,
    host: os.hostname(),
    started_at: new Date().toISOString(),
    process_started_ms: Date.now(),
    command: 'npm start',
    nonce: 'someone-else',
    ...h,
  }
  fs.writeFileSync(file, JSON.stringify(holder))
  if (mtime) fs.utimesSync(file, mtime, mtime)
  return holder
}

/** A real process that is alive while the test runs (the lock's "other process"). */
function liveProcess() {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' })
  children.push(c)
  return c.pid!
}

/** A pid that was a process a moment ago and is no more. */
function deadPid() {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' })
  return Number(r.stdout.trim())
}

describe('the data directory lock', () => {
  it('records pid, host, start time and command, and is removed on release', () => {
    const dir = newDir()
    const lock = acquireDataDirLock(dir)
    const h = JSON.parse(fs.readFileSync(lockFileOf(dir), 'utf8')) as LockHolder
    expect(h).toMatchObject({ pid: process.pid, host: os.hostname() })
    expect(Math.abs(Date.parse(h.started_at) - Date.now())).toBeLessThan(10_000)
    expect(h.command).toMatch(/\S/)
    expect(lockHolder(dir)).toMatchObject({ pid: process.pid })
    lock.release()
    expect(fs.existsSync(lockFileOf(dir))).toBe(false)
    acquireDataDirLock(dir).release()
  })

  it('refuses a second open of the same directory inside one process', () => {
    const dir = newDir()
    const lock = acquireDataDirLock(dir)
    expect(() => acquireDataDirLock(dir)).toThrow(/already open in this process/)
    lock.release()
  })

  it('refuses a directory a live process holds, in one line naming it and what to do', () => {
    const dir = newDir()
    const pid = liveProcess()
    writeLock(dir, { pid, command: 'npm start' })
    let error: unknown
    try {
      acquireDataDirLock(dir)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(DataDirLockedError)
    const message = (error as Error).message
    expect(message).not.toContain('\n')
    expect(message).toContain(`"npm start" (pid ${pid} on this machine`)
    expect(message).toMatch(/Stop that process first.*DATA_DIR=.*DATABASE_URL=/)
    expect(JSON.parse(fs.readFileSync(lockFileOf(dir), 'utf8')).pid).toBe(pid) // untouched
  })

  it('takes over a lock whose process is gone, saying whose it was', () => {
    const dir = newDir()
    const pid = deadPid()
    writeLock(dir, { pid, command: 'npm run dev' })
    expect(lockHolder(dir)).toBeNull()
    const seen: LockHolder[] = []
    const lock = acquireDataDirLock(dir, { onTakeover: (h) => seen.push(h) })
    expect(seen.map((h) => [h.pid, h.command])).toEqual([[pid, 'npm run dev']])
    expect(JSON.parse(fs.readFileSync(lockFileOf(dir), 'utf8')).pid).toBe(process.pid)
    lock.release()
  })

  it('takes over a torn lock file and our own pid left by an earlier life of this process', () => {
    const dir = newDir()
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    fs.writeFileSync(lockFileOf(dir), '{"pid": 12')
    acquireDataDirLock(dir).release()
    writeLock(dir, { pid: process.pid, nonce: 'a previous container' })
    acquireDataDirLock(dir).release()
  })

  it.runIf(fs.existsSync('/proc/self/stat'))('takes over a lock whose pid now belongs to a process started after the holder', () => {
    const dir = newDir()
    const pid = liveProcess()
    writeLock(dir, { pid, process_started_ms: Date.now() - 3_600_000 })
    acquireDataDirLock(dir).release()
  })

  it('keeps a lock from another host while it is refreshed, and takes it over once it is not', () => {
    const dir = newDir()
    writeLock(dir, { host: 'another-machine', pid: 4242 })
    expect(() => acquireDataDirLock(dir)).toThrow(/pid 4242 on host another-machine/)
    writeLock(dir, { host: 'another-machine', pid: 4242 }, new Date(Date.now() - 5 * 60_000))
    acquireDataDirLock(dir).release()
  })

  it('lets exactly one of several processes racing for a stale lock have it', async () => {
    const dir = newDir()
    writeLock(dir, { pid: deadPid() })
    const go = path.join(root, `go-${n}`)
    const script = `
      import fs from 'node:fs'
      import { acquireDataDirLock } from ${JSON.stringify(path.resolve(import.meta.dirname, 'data-dir-lock.server.ts'))}
      fs.writeFileSync(${JSON.stringify(go)} + '.ready-' + process.pid, '')
      while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5))
      try {
        const lock = acquireDataDirLock(${JSON.stringify(dir)})
        console.log('won')
        setTimeout(() => lock.release(), 4000)
      } catch (e) {
        console.log('refused: ' + e.message)
      }`
    const racers = Array.from({ length: 4 }, () => {
      const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      children.push(c)
      let out = ''
      c.stdout!.on('data', (d) => (out += d))
      return new Promise<string>((resolve) => c.on('exit', () => resolve(out.trim())))
    })
    // Every racer has loaded the module and waits for the start line.
    const ready = () => fs.readdirSync(root).filter((f) => f.startsWith(`${path.basename(go)}.ready-`)).length
    while (ready() < racers.length) await new Promise((r) => setTimeout(r, 50))
    fs.writeFileSync(go, '')
    const results = await Promise.all(racers)
    expect(results.filter((r) => r === 'won')).toHaveLength(1)
    for (const r of results.filter((r) => r !== 'won')) expect(r).toMatch(/^refused: .*in use by another process/)
  }, 60_000)
})
