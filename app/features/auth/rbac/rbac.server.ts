import type { z } from 'zod'
import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '../caller.server.ts'
import type { createPermissionInput, createRoleInput } from '../schemas.ts'
import { forbidden, notFound } from '#app/http/errors.server.ts'
import { getUser } from '../users/users.server.ts'

function ownTenant(caller: Caller, tenantId: string) {
  if (tenantId !== caller.tenantId) throw forbidden('Roles and permissions can only be created in your own tenant', { field: 'tenant_id' })
}

export async function createRole(sql: Sql, caller: Caller, input: z.infer<typeof createRoleInput>) {
  ownTenant(caller, input.tenant_id)
  const { rows } = await sql.query(
    `insert into public.roles (tenant_id, name, description) values ($1, $2, $3)
     returning id, tenant_id, name, description, is_builtin, created_at`,
    [input.tenant_id, input.name, input.description ?? null],
  )
  return { ...rows[0], permissions: [] }
}

export async function createPermission(sql: Sql, caller: Caller, input: z.infer<typeof createPermissionInput>) {
  ownTenant(caller, input.tenant_id)
  const { rows } = await sql.query(
    `insert into public.permissions (tenant_id, name, description) values ($1, $2, $3)
     returning id, tenant_id, name, description, is_builtin, created_at`,
    [input.tenant_id, input.name, input.description ?? null],
  )
  return rows[0]
}

export async function listRoles(sql: Sql) {
  const { rows } = await sql.query(
    `select r.id, r.tenant_id, r.name, r.description, r.is_builtin, r.created_at,
            coalesce(array(select p.name from public.role_permissions rp join public.permissions p on p.id = rp.permission_id
                           where rp.role_id = r.id order by p.name), '{}') as permissions,
            (select count(*)::int from public.user_roles ur where ur.role_id = r.id) as user_count
       from public.roles r order by r.is_builtin desc, r.name`,
  )
  return { data: rows, count: rows.length }
}

export async function listPermissions(sql: Sql) {
  const { rows } = await sql.query(
    `select id, tenant_id, name, description, is_builtin, created_at from public.permissions order by name`,
  )
  return { data: rows, count: rows.length }
}

async function findRole(sql: Sql, ref: string | number) {
  const { rows } = await sql.query<{ id: number; tenant_id: string; name: string }>(
    typeof ref === 'number' || /^\d+$/.test(ref)
      ? `select id, tenant_id, name from public.roles where id = $1::bigint`
      : `select id, tenant_id, name from public.roles where name = $1`,
    [String(ref)],
  )
  if (!rows.length) throw notFound('Role', ref)
  return rows[0]
}

async function findPermission(sql: Sql, ref: string | number) {
  const { rows } = await sql.query<{ id: number; name: string }>(
    typeof ref === 'number' || /^\d+$/.test(ref)
      ? `select id, name from public.permissions where id = $1::bigint`
      : `select id, name from public.permissions where name = $1`,
    [String(ref)],
  )
  if (!rows.length) throw notFound('Permission', ref)
  return rows[0]
}

export async function grantPermission(sql: Sql, roleRef: string, permissionRef: string | number) {
  const role = await findRole(sql, roleRef)
  const perm = await findPermission(sql, permissionRef)
  await sql.query(
    `insert into public.role_permissions (tenant_id, role_id, permission_id) values ($1, $2, $3) on conflict do nothing`,
    [role.tenant_id, role.id, perm.id],
  )
  return { role_id: role.id, role: role.name, permission_id: perm.id, permission: perm.name, granted: true }
}

export async function revokePermission(sql: Sql, roleRef: string, permissionRef: string | number) {
  const role = await findRole(sql, roleRef)
  const perm = await findPermission(sql, permissionRef)
  const { rowCount } = await sql.query(`delete from public.role_permissions where role_id = $1 and permission_id = $2`, [role.id, perm.id])
  if (!rowCount) throw notFound('Role permission')
  return { role_id: role.id, permission_id: perm.id, granted: false }
}

export async function assignRole(sql: Sql, userRef: string, roleRef: string | number) {
  const user = await getUser(sql, userRef)
  const role = await findRole(sql, String(roleRef))
  await sql.query(`insert into public.user_roles (tenant_id, user_id, role_id) values ($1, $2, $3) on conflict do nothing`, [
    role.tenant_id,
    user.user_id,
    role.id,
  ])
  return getUser(sql, String(user.id))
}

export async function unassignRole(sql: Sql, userRef: string, roleRef: string | number) {
  const user = await getUser(sql, userRef)
  const role = await findRole(sql, String(roleRef))
  const { rowCount } = await sql.query(`delete from public.user_roles where user_id = $1 and role_id = $2`, [user.user_id, role.id])
  if (!rowCount) throw notFound('User role')
  return getUser(sql, String(user.id))
}
