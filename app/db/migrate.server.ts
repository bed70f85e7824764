import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT as ROOT } from '#app/project-root.server.ts'
import type { Db } from './db.server.ts'

export const MIGRATIONS_DIR = path.join(ROOT, 'supabase/migrations')
const COMPAT_FILE = path.join(ROOT, 'supabase/compat/auth_compat.sql')

export interface Migration {
  version: string
  name: string
  sql: string
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{14}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const [, version, name] = /^(\d{14})_(.+)\.sql$/.exec(f)!
      return { version, name, sql: fs.readFileSync(path.join(dir, f), 'utf8') }
    })
}

/**
 * Applies pending migrations in order, all in one transaction (a failing one leaves none applied), recording them in the
 * table the Supabase CLI uses so `supabase db push` and this runner agree on what is applied.
 */
export async function migrate(db: Db, opts: { log?: (msg: string) => void } = {}): Promise<string[]> {
  const log = opts.log ?? (() => {})
  return db.transaction(async (tx) => {
    if (db.engine === 'postgres') await tx.query(`select pg_advisory_xact_lock(hashtext('hot-dash:migrate'))`)
    const { rows } = await tx.query<{ missing: boolean }>(`select to_regprocedure('auth.uid()') is null as missing`)
    if (rows[0].missing) {
      log('applying Supabase compatibility schema (auth, roles)')
      await tx.exec(fs.readFileSync(COMPAT_FILE, 'utf8'))
    }
    await tx.exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text);
    `)
    const applied = new Set(
      (await tx.query<{ version: string }>(`select version from supabase_migrations.schema_migrations`)).rows.map(
        (r) => r.version,
      ),
    )
    const done: string[] = []
    for (const m of readMigrations()) {
      if (applied.has(m.version)) continue
      log(`applying ${m.version}_${m.name}`)
      await tx.exec(m.sql)
      await tx.query(`insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)`, [
        m.version,
        m.name,
        [m.sql],
      ])
      done.push(`${m.version}_${m.name}`)
    }
    return done
  })
}

/** The schemas our migrations create, which `resetSchema` drops (public is recreated empty). */
export const OWN_SCHEMAS = ['public', 'app', 'analytics', 'analytics_private', 'bronze', 'silver', 'gold', 'pgboss', 'supabase_migrations']

/** Drops everything our migrations created, for `db:reset` and test databases. */
export async function resetSchema(db: Db) {
  await db.exec(`
    ${OWN_SCHEMAS.map((s) => `drop schema if exists ${s} cascade;`).join('\n    ')}
    create schema public;
    grant usage on schema public to public;
    grant create on schema public to current_user;
    do $$ begin
      -- Only our compatibility auth schema is emptied; a Supabase project's users are never touched.
      if to_regclass('auth.users') is not null and obj_description('auth'::regnamespace, 'pg_namespace') = 'hot-dash compat' then
        delete from auth.users;
      end if;
    end $$;
  `)
}
