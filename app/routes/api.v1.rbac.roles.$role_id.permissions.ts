import { z } from 'zod'
import { grantPermission, revokePermission } from '#app/features/rbac/rbac.server.ts'
import { api } from '#app/http/api-route.server.ts'

const params = z.object({ role_id: z.string().max(64) })
const body = z.object({ permission: z.union([z.string().min(1), z.number().int()]) })

const route = api({
  POST: {
    summary: 'Grant a permission (id or name) to a role',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params,
    body,
    handler: ({ db, params, body }) => grantPermission(db, params.role_id, body.permission),
  },
  DELETE: {
    summary: 'Revoke a permission (id or name) from a role',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params,
    body,
    handler: ({ db, params, body }) => revokePermission(db, params.role_id, body.permission),
  },
})

export const loader = route.loader
export const action = route.action
