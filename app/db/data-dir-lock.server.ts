import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/*
  An exclusive lock on the embedded database's directory, as Postgres's postmaster.pid is for a server's: PGlite
  has none of its own, and two processes writing one directory destroy it. The lock is a file beside the
  directory (`<dir>.lock`) holding who took it; it is created with a hard link (atomic: complete or absent),
  refreshed every few seconds, and removed on close and on exit. A lock whose process is gone is taken over.
*/

export interface LockHolder {
  pid: number
  host: string
  /** When the lock was taken (ISO time). */
  started_at: string
  /** When the holding process itself started (epoch ms): tells a reused pid from the holder. */
  process_started_ms: number
  /** What the holder is, in the words a user typed (`npm start`, `npm run db:seed`…). */
  command: string
  /** Tells our own lock from another one with the same pid. */
  nonce: string
}

export class DataDirLockedError extends Error {
  readonly holder: LockHolder
  readonly dir: string
  constructor(dir: string, holder: LockHolder) {
    super(lockedMessage(dir, holder))
    this.name = 'DataDirLockedError'
    this.dir = dir
    this.holder = holder
  }
}

export interface DataDirLock {
  readonly file: string
  release(): void
}

const HEARTBEAT_MS = 5_000
// A lock from another host (a shared volume) with no heartbeat for this long is left by a machine that is gone.
const OTHER_HOST_STALE_MS = 60_000
// A live pid whose process started this long after the lock's holder did is a reused pid, not the holder.
const PID_REUSE_SLACK_MS = 30_000

const held = new Map<string, DataDirLock>()

export const lockFileOf = (dir: string) => `${path.resolve(dir)}.lock`

/** Who holds the directory's lock now, or null when it is free (or held by a process that is gone). */
export function lockHolder(dir: string): LockHolder | null {
  const holder = readLock(lockFileOf(dir))
  return holder && !isStale(lockFileOf(dir), holder) ? holder : null
}

/**
 * Takes the lock on `dir` for this process, or throws DataDirLockedError naming the live holder. A stale lock
 * (dead pid, reused pid, or a silent other host) is taken over, with `onTakeover` told whose it was.
 */
export function acquireDataDirLock(dir: string, opts: { onTakeover?: (stale: LockHolder) => void } = {}): DataDirLock {
  const file = lockFileOf(dir)
  // A second PGlite on the same files corrupts them even inside one process.
  if (held.has(file)) throw new Error(`the embedded database ${dir} is already open in this process`)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const me = ownHolder(crypto.randomBytes(8).toString('hex'))
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, me)) return hold(file, me)
    const raw = readRaw(file)
    if (raw === null) continue // released between our attempt and the read
    const holder = parseLock(raw)
    if (holder && !isStale(file, holder)) throw new DataDirLockedError(dir, holder)
    // Torn or stale: move it aside, and put it back if what we moved was not what we judged (a racer's fresh lock).
    const aside = `${file}.stale-${process.pid}-${me.nonce}`
    try {
      fs.renameSync(file, aside)
    } catch {
      continue
    }
    if (readRaw(aside) !== raw) {
      try {
        fs.linkSync(aside, file)
      } catch {}
      fs.rmSync(aside, { force: true })
      continue
    }
    fs.rmSync(aside, { force: true })
    if (holder) opts.onTakeover?.(holder)
  }
  const holder = readLock(file)
  if (holder) throw new DataDirLockedError(dir, holder)
  throw new Error(`could not take the lock ${file} (it keeps changing)`)
}

function hold(file: string, me: LockHolder): DataDirLock {
  const heartbeat = setInterval(() => {
    try {
      const now = new Date()
      fs.utimesSync(file, now, now)
    } catch {}
  }, HEARTBEAT_MS)
  heartbeat.unref()
  const onExit = () => lock.release()
  const lock: DataDirLock = {
    file,
    release() {
      clearInterval(heartbeat)
      process.off('exit', onExit)
      held.delete(file)
      // Only our own lock: a holder that took over after we were judged stale keeps its file.
      if (readLock(file)?.nonce === me.nonce) fs.rmSync(file, { force: true })
    },
  }
  process.on('exit', onExit)
  held.set(file, lock)
  return lock
}

function tryCreate(file: string, me: LockHolder): boolean {
  // Written whole beside the target, then linked into place: the lock file never exists half-written.
  const tmp = `${file}.${process.pid}-${me.nonce}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(me, null, 2) + '\n')
  try {
    fs.linkSync(tmp, file)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

function ownHolder(nonce: string): LockHolder {
  return {
    pid: process.pid,
    host: os.hostname(),
    started_at: new Date().toISOString(),
    process_started_ms: Math.round(Date.now() - process.uptime() * 1000),
    command: describeCommand(),
    nonce,
  }
}

/** `npm start`, `npm run db:seed`… when run through npm; else the script node runs. */
function describeCommand(): string {
  const event = process.env.npm_lifecycle_event
  if (event && event !== 'npx') return ['start', 'test'].includes(event) ? `npm ${event}` : `npm run ${event}`
  const script = process.argv[1] ? path.relative(process.cwd(), process.argv[1]) || process.argv[1] : ''
  return ['node', script, ...process.argv.slice(2)].filter(Boolean).join(' ')
}

function readRaw(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

function parseLock(raw: string): LockHolder | null {
  try {
    const v = JSON.parse(raw) as LockHolder
    return Number.isInteger(v.pid) && typeof v.host === 'string' ? v : null
  } catch {
    return null
  }
}

const readLock = (file: string) => {
  const raw = readRaw(file)
  return raw === null ? null : parseLock(raw)
}

function isStale(file: string, h: LockHolder): boolean {
  if (h.host !== os.hostname()) {
    try {
      return Date.now() - fs.statSync(file).mtimeMs > OTHER_HOST_STALE_MS
    } catch {
      return true
    }
  }
  // Our own pid, and not held by us: a previous life of this process (a container restarted with the same pids).
  if (h.pid === process.pid) return !held.has(file)
  if (!pidAlive(h.pid)) return true
  const started = processStartMs(h.pid)
  return started !== null && started > h.process_started_ms + PID_REUSE_SLACK_MS
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' // alive, another user's
  }
}

/** When a process started (epoch ms), from Linux's /proc; null elsewhere. */
function processStartMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1])
    // USER_HZ is 100 on every Linux Node runs on.
    return Number.isFinite(ticks) && btime ? btime * 1000 + ticks * 10 : null
  } catch {
    return null
  }
}

function lockedMessage(dir: string, h: LockHolder): string {
  const where = h.host === os.hostname() ? 'on this machine' : `on host ${h.host}`
  return (
    `the embedded database ${displayPath(dir)} is in use by another process: ` +
    `"${h.command}" (pid ${h.pid} ${where}, since ${h.started_at}). ` +
    `Stop that process first, or give this one a database of its own: DATA_DIR=<another directory> or DATABASE_URL=postgres://…`
  )
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(p: string) {
  const rel = path.relative(process.cwd(), path.resolve(p))
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(p)
}
