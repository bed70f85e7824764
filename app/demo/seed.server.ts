import type { Db, Sql } from '#app/db/db.server.ts'
import { createTenant, provisionUser } from '#app/features/auth/auth.server.ts'
import { seededRandom } from './random.ts'

export const DEMO_PASSWORD = 'hotdash-demo'

export const DEMO_TENANTS = [
  { id: '0d3f0a6e-5c1b-4d2a-9e8f-1a2b3c4d5e01', name: 'Acme Outfitters', slug: 'acme' },
  { id: '0d3f0a6e-5c1b-4d2a-9e8f-1a2b3c4d5e02', name: 'Globex Supply', slug: 'globex' },
] as const

const DEMO_ROLES = ['admin', 'operator', 'viewer', 'data_scientist'] as const

export const demoLogins = () =>
  DEMO_TENANTS.flatMap((t) => DEMO_ROLES.map((role) => ({ tenant: t.name, role, username: `${t.slug}-${role.replace('_', '-')}`, password: DEMO_PASSWORD })))

export interface DemoTenant {
  id: string
  name: string
  slug: string
  users: Record<(typeof DEMO_ROLES)[number], string>
}

/** Feature seeders add their demo data through the same generator (same tenants, same seeded randomness). */
export type Seeder = (db: Sql, tenants: DemoTenant[], rng: () => number, now: Date) => Promise<void>

async function featureSeeders(): Promise<Array<[string, Seeder]>> {
  return (await import('./seeders.server.ts')).SEEDERS
}

/**
 * Two demo tenants, each with an admin, an operator, a viewer and a data scientist, then every feature's demo data.
 * Deterministic: the same ids, names and numbers on every machine. Skips if already seeded.
 */
export async function seedDemo(db: Db, opts: { now?: Date; log?: (m: string) => void; seeders?: Array<[string, Seeder]> } = {}) {
  const log = opts.log ?? (() => {})
  const { rows } = await db.query(`select 1 from public.tenants where slug = $1`, [DEMO_TENANTS[0].slug])
  if (rows.length) return false
  const now = opts.now ?? new Date()
  const tenants: DemoTenant[] = []
  await db.transaction(async (tx) => {
    for (const t of DEMO_TENANTS) {
      await createTenant(tx, t)
      const users = {} as DemoTenant['users']
      for (const role of DEMO_ROLES) {
        const username = `${t.slug}-${role.replace('_', '-')}`
        const p = await provisionUser(tx, {
          tenantId: t.id,
          email: `${username}@${t.slug}.example`,
          username,
          password: DEMO_PASSWORD,
          firstName: t.name.split(' ')[0],
          lastName: role,
          roles: [role],
        })
        users[role] = p.user_id
      }
      tenants.push({ ...t, users })
    }
  })
  log(`seeded ${tenants.length} demo tenants`)
  for (const [name, seed] of opts.seeders ?? (await featureSeeders())) {
    const started = Date.now()
    await db.transaction((tx) => seed(tx, tenants, seededRandom(hash(name)), now))
    log(`${name}: ${Date.now() - started} ms`)
  }
  return true
}

function hash(s: string) {
  let h = 2166136261
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619)
  return h >>> 0
}
