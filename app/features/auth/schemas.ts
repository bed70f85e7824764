import { z } from 'zod'
import { page, uuidParam } from '#app/http/schemas.ts'

/**
 * The identity area's inputs (login, API clients and keys, users, RBAC), shared by its routes (validation) and the
 * OpenAPI document. Plain zod, no server code: pages may import it too.
 */

// ── login (/api/v1/login/*, /refresh, /logout) ──

/** POST /api/v1/login/access-token (an OAuth2 password form) */
export const loginForm = z.object({
  username: z.string().min(1, 'is required').max(254),
  password: z.string().min(1, 'is required').max(200),
  grant_type: z.string().optional(),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
})

/** POST /api/v1/refresh and /api/v1/logout */
export const refreshTokenQuery = z.object({ refresh_token: z.string().min(10, 'is required') })

// ── API clients and keys (/api/v1/auth/*) ──

/** POST /api/v1/auth/clients */
export const registerClientInput = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  scopes: z.array(z.string().min(1)).min(1, 'choose at least one scope').max(50),
})

/** POST /api/v1/auth/apikey */
export const apiKeyInput = z.object({
  client_id: z.string().min(1, 'is required').max(100),
  client_secret: z.string().min(1, 'is required').max(200),
  scope: z.array(z.string().min(1)).max(50).optional(),
  expires_in_days: z.number().int().min(1).max(365).optional(),
})

export const clientIdParams = z.object({ client_id: uuidParam })
export const keyIdParams = z.object({ key_id: uuidParam })

// ── users (/api/v1/users/*, /reset-password) ──

export const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(200, 'must be at most 200 characters')

/** POST /api/v1/users/create-user */
export const createUserInput = z.object({
  tenant_id: z.uuid('must be a UUID'),
  first_name: z.string().trim().max(100).nullish(),
  last_name: z.string().trim().max(100).nullish(),
  email: z.email('must be an email address').max(254),
  username: z.string().regex(/^[A-Za-z0-9_.@-]{2,64}$/, 'letters, digits and _ . @ - only, 2 to 64 characters'),
  password,
  roles: z.array(z.string().min(1)).max(20).optional(),
})

/** A user as every users endpoint returns it. */
export const userOut = z.object({
  id: z.number(),
  user_id: z.string(),
  tenant_id: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  email: z.string(),
  username: z.string(),
  is_active: z.boolean(),
  roles: z.array(z.string()),
})

/** GET /api/v1/users/read-users */
export const usersPageQuery = z.object(page)

/** An integer profile id or an auth UUID. */
export const userIdParams = z.object({ user_id: z.string().max(64) })

/** PATCH /api/v1/users/{user_id} */
export const userActiveInput = z.object({ is_active: z.boolean() })

/** POST /api/v1/reset-password */
export const resetPasswordQuery = z.object({ user_name: z.string().min(1, 'is required').max(254), new_password: password })

// ── RBAC (/api/v1/rbac/*, /api/v1/users/{user_id}/roles) ──

const rbacName = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_.:-]{1,63}$/, 'lowercase letters, digits and _ . : - only, 2 to 64 characters, starting with a letter')

/** POST /api/v1/rbac/roles */
export const createRoleInput = z.object({ name: rbacName, tenant_id: z.uuid('must be a UUID'), description: z.string().max(300).nullish() })
/** POST /api/v1/rbac/permissions */
export const createPermissionInput = createRoleInput

export const roleIdParams = z.object({ role_id: z.string().max(64) })
/** POST / DELETE /api/v1/users/{user_id}/roles: a role by id or name */
export const roleRefInput = z.object({ role: z.union([z.string().min(1), z.number().int()]) })
/** POST / DELETE /api/v1/rbac/roles/{role_id}/permissions: a permission by id or name */
export const permissionRefInput = z.object({ permission: z.union([z.string().min(1), z.number().int()]) })
