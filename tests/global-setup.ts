import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { openPglite, openPostgres } from '../app/db/db.server.ts'
import { migrate, MIGRATIONS_DIR } from '../app/db/migrate.server.ts'

/**
 * Migrates once per run: a PGlite data-dir dump (each test file loads a copy in ~0.5 s instead of initdb + migrate),
 * and, with TEST_DATABASE_URL, a template database each test file clones with CREATE DATABASE … TEMPLATE.
 */
export default async function setup(project: TestProject) {
  const root = path.resolve(import.meta.dirname, '..')
  const hash = crypto.createHash('sha1')
  for (const dir of [MIGRATIONS_DIR, path.join(root, 'supabase/compat')]) {
    for (const f of fs.readdirSync(dir).sort()) hash.update(f).update(fs.readFileSync(path.join(dir, f)))
  }
  const key = hash.digest('hex').slice(0, 12)
  const dumpFile = path.join(root, '.data/test', `pglite-${key}.tar.gz`)
  if (!fs.existsSync(dumpFile)) {
    const db = await openPglite(undefined)
    await migrate(db)
    const dump = await (db.raw as import('@electric-sql/pglite').PGlite).dumpDataDir('gzip')
    fs.mkdirSync(path.dirname(dumpFile), { recursive: true })
    fs.writeFileSync(dumpFile, Buffer.from(await dump.arrayBuffer()))
    await db.close()
  }
  project.provide('pgliteDump', dumpFile)

  const url = process.env.TEST_DATABASE_URL
  if (!url) return
  const template = `hd_tpl_${process.pid}`
  const admin = openPostgres(url, { max: 1 })
  await admin.exec(`drop database if exists ${template}`)
  await admin.exec(`create database ${template}`)
  const tplUrl = withDatabase(url, template)
  const tpl = openPostgres(tplUrl, { max: 1 })
  await migrate(tpl)
  await tpl.close()
  project.provide('pgTemplate', template)
  return async () => {
    // Test files drop their own clones; remove leftovers from crashed runs and the template.
    const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`hd_t_${process.pid}_%`])
    for (const r of rows) await admin.exec(`drop database if exists ${r.datname} with (force)`)
    await admin.exec(`drop database if exists ${template} with (force)`)
    await admin.close()
  }
}

export function withDatabase(url: string, name: string) {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteDump: string
    pgTemplate?: string
  }
}
