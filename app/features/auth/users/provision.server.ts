import type { Sql } from '#app/db/db.server.ts'
import { getAuthProvider } from '../provider.server.ts'

export interface NewUser {
  tenantId: string
  email: string
  username: string
  password: string
  firstName?: string | null
  lastName?: string | null
  roles?: string[]
}

export interface ProfileRow {
  id: number
  user_id: string
  tenant_id: string
  username: string
  email: string
  first_name: string | null
  last_name: string | null
  is_active: boolean
  created_at: Date
}

/**
 * Creates the identity (through the active auth provider), the profile and the role links.
 * `sql` decides who is acting: a caller transaction (RLS checks users.write) or the system.
 */
export async function provisionUser(sql: Sql, u: NewUser): Promise<ProfileRow> {
  const roles = u.roles?.length ? u.roles : ['viewer']
  const authUserId = await getAuthProvider().createIdentity(sql, {
    email: u.email,
    password: u.password,
    appMetadata: { tenant_id: u.tenantId, roles },
    userMetadata: { username: u.username },
  })
  const { rows } = await sql.query<ProfileRow>(
    `insert into public.profiles (user_id, tenant_id, username, email, first_name, last_name)
     values ($1, $2, $3, $4, $5, $6)
     returning id, user_id, tenant_id, username, email, first_name, last_name, is_active, created_at`,
    [authUserId, u.tenantId, u.username, u.email.toLowerCase(), u.firstName ?? null, u.lastName ?? null],
  )
  await assignRolesByName(sql, u.tenantId, authUserId, roles)
  return rows[0]
}

export async function assignRolesByName(sql: Sql, tenantId: string, userId: string, roles: string[]) {
  const { rows } = await sql.query<{ name: string }>(
    `insert into public.user_roles (tenant_id, user_id, role_id)
     select $1, $2, r.id from public.roles r where r.tenant_id = $1 and r.name = any($3::text[])
     on conflict do nothing
     returning (select name from public.roles where id = role_id)`,
    [tenantId, userId, roles],
  )
  return rows
}

export async function createTenant(sql: Sql, t: { name: string; slug: string; id?: string }) {
  const { rows } = await sql.query<{ id: string; name: string; slug: string }>(
    `insert into public.tenants (id, name, slug) values (coalesce($1::uuid, gen_random_uuid()), $2, $3) returning id, name, slug`,
    [t.id ?? null, t.name, t.slug],
  )
  return rows[0]
}
