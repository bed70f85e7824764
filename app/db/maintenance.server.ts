import fs from 'node:fs'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { acquireDataDirLock, displayPath } from './data-dir-lock.server.ts'
import { openPglite, type Db } from './db.server.ts'
import { OWN_SCHEMAS } from './migrate.server.ts'

/*
  What `npm run db:reset`, `db:backup` and `db:restore` do, apart from the command line: which databases a reset
  may drop without being told the name, what it would drop, and the embedded database's copies.
*/

/** A database on this machine: loopback address, `localhost`, or a unix socket. Anything else needs `--yes-drop <name>`. */
export function isLocalDatabaseUrl(url: string): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  const socket = u.searchParams.get('host')
  if (socket?.startsWith('/')) return true
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === '' || host === 'localhost' || host === '::1') return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

export function describeDatabaseUrl(url: string) {
  const u = new URL(url)
  const name = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres'
  return { name, where: `${u.hostname || 'localhost'}:${u.port || 5432}` }
}

/** Our schemas present in the database and what is in them, e.g. `public (12 tables)`. */
export async function schemasToDrop(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ name: string; tables: number; views: number }>(
    `select n.nspname as name,
            count(c.oid) filter (where c.relkind in ('r', 'p')) as tables,
            count(c.oid) filter (where c.relkind in ('v', 'm')) as views
       from pg_catalog.pg_namespace n
       left join pg_catalog.pg_class c on c.relnamespace = n.oid
      where n.nspname = any($1::text[])
      group by n.nspname
      order by array_position($1::text[], n.nspname::text)`,
    [OWN_SCHEMAS],
  )
  return rows.map((r) => `${r.name} (${r.tables} table${r.tables === 1 ? '' : 's'}${r.views ? `, ${r.views} view${r.views === 1 ? '' : 's'}` : ''})`)
}

/** Bytes under a directory. */
export function directorySize(dir: string): number {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size
  }
  return total
}

export const formatBytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`)

/** Deletes the embedded database directory, holding its lock while it does (a running app refuses it). */
export function deleteEmbedded(dir: string) {
  const lock = acquireDataDirLock(dir)
  try {
    fs.rmSync(dir, { recursive: true, force: true })
  } finally {
    lock.release()
  }
}

/** Writes a gzipped tarball of the embedded database (PGlite's `dumpDataDir`); returns its size in bytes. */
export async function backupEmbedded(dir: string, file: string, log: (msg: string) => void = () => {}): Promise<number> {
  const db = await openPglite(dir, { log })
  try {
    const dump = await (db.raw as PGlite).dumpDataDir('gzip')
    const bytes = Buffer.from(await dump.arrayBuffer())
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    // Written beside and renamed: an interrupted backup never looks like a whole one.
    fs.writeFileSync(`${file}.tmp`, bytes)
    fs.renameSync(`${file}.tmp`, file)
    return bytes.length
  } finally {
    await db.close()
  }
}

/**
 * Replaces the embedded database with a backup. The current directory is kept beside it
 * (`<dir>.before-restore-<time>`) and put back if the backup does not open. Returns where the old one went.
 */
export async function restoreEmbedded(dir: string, file: string, log: (msg: string) => void = () => {}): Promise<string | null> {
  const bytes = fs.readFileSync(file)
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new NotABackupError(file, 'not a gzip file')
  const blob = new Blob([bytes])
  const lock = acquireDataDirLock(dir)
  let kept: string | null = null
  try {
    if (fs.existsSync(dir)) {
      kept = `${dir}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`
      fs.renameSync(dir, kept)
    }
    try {
      const db = await openPglite(dir, { loadDataDir: blob, lock, log })
      await db.query('select count(*) from pg_catalog.pg_class')
      await db.close()
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true })
      if (kept) fs.renameSync(kept, dir)
      let root = e
      while (root instanceof Error && root.cause) root = root.cause
      throw new NotABackupError(file, root instanceof Error ? root.message : String(root))
    }
    return kept
  } finally {
    lock.release()
  }
}

export class NotABackupError extends Error {
  constructor(file: string, why: string) {
    super(`${displayPath(file)} is not a backup of the embedded database (${why}); nothing was changed`)
    this.name = 'NotABackupError'
  }
}
