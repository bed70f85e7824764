/**
 * npm run db:migrate | db:reset | db:seed | db:backup | db:restore | db:service-token
 * Works on the database the app would use: DATABASE_URL, or the embedded PGlite under DATA_DIR (locked while a
 * process has it open: these commands are refused while the app runs on it, and say what to do instead).
 */
import fs from 'node:fs'
import path from 'node:path'
import { DataDirLockedError, displayPath } from '../app/db/data-dir-lock.server.ts'
import { openPostgres } from '../app/db/db.server.ts'
import { embeddedDataDir, exitOnStartupError, isStartupError, openConfiguredDb } from '../app/db/index.server.ts'
import {
  backupEmbedded,
  deleteEmbedded,
  describeDatabaseUrl,
  directorySize,
  formatBytes,
  isLocalDatabaseUrl,
  NotABackupError,
  restoreEmbedded,
  schemasToDrop,
} from '../app/db/maintenance.server.ts'
import { migrate, OWN_SCHEMAS, resetSchema } from '../app/db/migrate.server.ts'
import { demoLogins, seedDemo } from '../app/demo/seed.server.ts'
import { getEnv } from '../app/env.server.ts'
import { signAccessToken } from '../app/features/auth/auth.server.ts'

const [command, ...args] = process.argv.slice(2)
const env = getEnv()
const log = (m: string) => console.log(m)

// What each command can do instead while the app holds the embedded database (appended to the refusal).
const WHILE_THE_APP_RUNS: Record<string, string> = {
  migrate: 'If that is the app: it applies new migrations itself when it starts, so restart it instead.',
  seed: 'If that is the app: it seeds the demo data itself when the data is missing (SEED_DEMO_DATA), so restart it instead.',
  reset: 'A reset deletes everything that process serves: stop it first.',
  backup: 'Stop it for the moment the copy takes (a few seconds), then start it again.',
  restore: 'A restore replaces what that process serves: stop it first.',
}

/** Runs a step that opens the database; a locked or unreadable embedded database ends the command with one line. */
async function opening<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (e) {
    if (isStartupError(e)) exitOnStartupError(e, e instanceof DataDirLockedError ? WHILE_THE_APP_RUNS[command] : undefined)
    throw e
  }
}

const open = (opts: { migrate: boolean }) => opening(() => openConfiguredDb({ ...opts, poolMax: 2, log }))

switch (command) {
  case 'migrate': {
    const db = await open({ migrate: false })
    const applied = await migrate(db, { log })
    // The job queue's own schema (pg-boss) too, so web processes can enqueue before a worker ever started.
    const { migrateJobSchema } = await import('../app/jobs/boss.server.ts')
    await migrateJobSchema(db)
    console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date')
    await db.close()
    break
  }
  case 'reset': {
    await reset()
    const db = await open({ migrate: true })
    await queueDemoModelsOn(db, await seedDemo(db, { log }))
    console.log('database reset, migrated and seeded')
    await db.close()
    break
  }
  case 'seed': {
    const db = await open({ migrate: true })
    const seeded = await seedDemo(db, { log })
    console.log(seeded ? 'demo data seeded' : 'demo data already present')
    await queueDemoModelsOn(db, seeded)
    for (const l of demoLogins()) console.log(`  ${l.username} / ${l.password} (${l.role}, ${l.tenant})`)
    await db.close()
    break
  }
  case 'backup': {
    const dir = embeddedOnly('backup', 'pg_dump (or `supabase db dump`)')
    const file = args[0] ?? path.join(env.DATA_DIR, 'backups', `pglite-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz`)
    const bytes = await opening(() => backupEmbedded(dir, file, log))
    console.log(`backed up ${displayPath(dir)} to ${displayPath(file)} (${formatBytes(bytes)}); restore it with: npm run db:restore -- ${displayPath(file)}`)
    break
  }
  case 'restore': {
    const dir = embeddedOnly('restore', 'pg_restore / psql')
    const file = args[0]
    if (!file || !fs.existsSync(file)) {
      console.error(`usage: npm run db:restore -- <backup file>  (${file ? `${file} does not exist` : 'no file given'}; db:backup writes them to ${displayPath(path.join(env.DATA_DIR, 'backups'))})`)
      process.exit(2)
    }
    const kept = await opening(() => restoreEmbedded(dir, file, log)).catch((e) => {
      if (!(e instanceof NotABackupError)) throw e
      console.error(`[db] ${e.message}`)
      process.exit(1)
    })
    console.log(
      `restored ${displayPath(dir)} from ${displayPath(file)}` +
        (kept ? `; the database it replaced is kept in ${displayPath(kept)} (delete it once you are satisfied)` : ''),
    )
    break
  }
  case 'service-token': {
    // A service_role token for trusted servers (exports, callbacks). Pass the tenant with X-Tenant-Id or as argv[3].
    const tenant = args[0]
    const { token } = await signAccessToken(
      { sub: '00000000-0000-0000-0000-000000000000', role: 'service_role', app_metadata: tenant ? { tenant_id: tenant } : {} },
      Number(args[1] ?? 3600),
    )
    console.log(token)
    break
  }
  default:
    console.error('usage: npm run db:migrate | db:reset [-- --yes-drop <database>] | db:seed | db:backup [-- file] | db:restore -- <file> | db:service-token [-- tenant_id ttl_seconds]')
    process.exit(2)
}
process.exit(0)

/** The embedded database's directory; a server database is refused with the tool that does this for it. */
function embeddedOnly(what: string, tool: string): string {
  if (env.DATABASE_URL) {
    console.error(`db:${what} copies the embedded database; DATABASE_URL names a server database: use ${tool} for it.`)
    process.exit(2)
  }
  return embeddedDataDir(env)
}

/**
 * Drops what the migrations created. Says first what that is; a database not on this machine (Supabase production…)
 * is dropped only when `--yes-drop <its name>` is given.
 */
async function reset() {
  if (!env.DATABASE_URL) {
    const dir = embeddedDataDir(env)
    const size = fs.existsSync(dir) ? directorySize(dir) : 0
    console.log(size ? `db:reset deletes the embedded database ${displayPath(dir)} (${formatBytes(size)})` : `db:reset creates the embedded database ${displayPath(dir)}`)
    await opening(async () => deleteEmbedded(dir))
    return
  }
  const url = env.DATABASE_URL
  const { name, where } = describeDatabaseUrl(url)
  const db = openPostgres(url, { max: 1 })
  let contents: string
  try {
    contents = (await schemasToDrop(db)).join(', ') || 'nothing (none of our schemas exist)'
  } catch (e) {
    contents = `the schemas ${OWN_SCHEMAS.join(', ')} (could not list them: ${e instanceof Error ? e.message : e})`
  }
  console.log(`db:reset drops, in database "${name}" on ${where}: ${contents}`)
  const flag = args.indexOf('--yes-drop')
  const confirmed = flag >= 0 ? args[flag + 1] : undefined
  if (!isLocalDatabaseUrl(url) && confirmed !== name) {
    await db.close()
    console.error(
      `db:reset refused: "${name}" on ${where} is not a database on this machine` +
        (confirmed !== undefined ? ` (--yes-drop names "${confirmed}", not "${name}")` : '') +
        `. If you mean it: npm run db:reset -- --yes-drop ${name}`,
    )
    process.exit(1)
  }
  await resetSchema(db)
  await db.close()
}

/** On a server database the demo churn model's training is queued for the workers; embedded, the app's first boot queues it. */
async function queueDemoModelsOn(db: Awaited<ReturnType<typeof open>>, seeded: boolean) {
  if (!seeded || db.engine === 'pglite') return
  const { queueDemoModels } = await import('../app/demo/models.server.ts')
  await queueDemoModels(db, log)
}
