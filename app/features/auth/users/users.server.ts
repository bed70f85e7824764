import type { z } from 'zod'
import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '../caller.server.ts'
import { getAuthProvider } from '../provider.server.ts'
import type { createUserInput } from '../schemas.ts'
import { badRequest, conflict, forbidden, notFound } from '#app/http/errors.server.ts'
import { provisionUser } from './provision.server.ts'

const SELECT_USER = `
  select p.id, p.user_id, p.tenant_id, p.first_name, p.last_name, p.email, p.username, p.is_active,
         coalesce(array(select r.name from public.user_roles ur join public.roles r on r.id = ur.role_id
                        where ur.user_id = p.user_id order by r.name), '{}') as roles
    from public.profiles p`

export async function createUser(sql: Sql, caller: Caller, input: z.infer<typeof createUserInput>) {
  if (input.tenant_id !== caller.tenantId) throw forbidden('Users can only be created in your own tenant', { field: 'tenant_id' })
  const roles = input.roles ?? ['viewer']
  const { rows: known } = await sql.query<{ name: string }>(`select name from public.roles where name = any($1::text[])`, [roles])
  const unknown = roles.filter((r) => !known.some((k) => k.name === r))
  if (unknown.length) throw badRequest('roles', `unknown role(s): ${unknown.join(', ')}`)
  const p = await provisionUser(sql, {
    tenantId: input.tenant_id,
    email: input.email,
    username: input.username,
    password: input.password,
    firstName: input.first_name,
    lastName: input.last_name,
    roles,
  })
  return getUser(sql, String(p.id))
}

export async function listUsers(sql: Sql, page: { skip: number; limit: number }) {
  const [{ rows }, { rows: count }] = [
    await sql.query(`${SELECT_USER} order by p.id offset $1 limit $2`, [page.skip, page.limit]),
    await sql.query<{ n: number }>(`select count(*)::int as n from public.profiles`),
  ]
  return { data: rows, count: count[0].n, skip: page.skip, limit: page.limit }
}

/** By the spec's integer id, or by the auth user's UUID. Other tenants' users are simply not found. */
export async function getUser(sql: Sql, id: string) {
  const byUuid = /^[0-9a-f-]{36}$/i.test(id)
  if (!byUuid && !/^\d{1,18}$/.test(id)) throw notFound('User', id)
  const { rows } = await sql.query(`${SELECT_USER} where ${byUuid ? 'p.user_id = $1::uuid' : 'p.id = $1::bigint'}`, [id])
  if (!rows.length) throw notFound('User', id)
  return rows[0]
}

/** Deactivating is refused for the caller's own account: an admin who did so would lock themselves (maybe everyone) out. */
export async function setUserActive(sql: Sql, caller: Caller, id: string, active: boolean) {
  const user = await getUser(sql, id)
  if (!active && user.user_id === caller.userId) {
    throw conflict('is_active: you cannot deactivate your own account', { field: 'is_active', fields: [{ field: 'is_active', message: 'cannot deactivate your own account' }] })
  }
  const { rowCount } = await sql.query(`update public.profiles set is_active = $2 where id = $1`, [user.id, active])
  if (!rowCount) throw forbidden('Changing users needs the users.write permission')
  return { ...user, is_active: active }
}

/** Own password, or (admin) another user's in the same tenant. Never anonymous. */
export async function resetPassword(sql: Sql, caller: Caller, userName: string, newPassword: string) {
  const { rows } = await sql.query<{ user_id: string }>(`select user_id from public.profiles where username = $1 or lower(email) = lower($1)`, [
    userName,
  ])
  const target = rows[0]
  // Only a user's own session may reset their password without users.write (an API key acts for, but is not, its creator).
  const isSelf = caller.kind === 'user' && target?.user_id === caller.userId
  if (!isSelf && !caller.permissions.has('users.write')) throw forbidden('You can only reset your own password')
  if (!target) throw notFound('User', userName)
  await getAuthProvider().setPassword(sql, target.user_id, newPassword)
  return { status: 'success', message: `Password for '${userName}' has been reset.` }
}
