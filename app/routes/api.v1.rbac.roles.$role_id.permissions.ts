import { grantPermission, revokePermission } from '#app/features/auth/auth.server.ts'
import { permissionRefInput, roleIdParams } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Grant a permission (id or name) to a role',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params: roleIdParams,
    body: permissionRefInput,
    handler: ({ db, params, body }) => grantPermission(db, params.role_id, body.permission),
  },
  DELETE: {
    summary: 'Revoke a permission (id or name) from a role',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params: roleIdParams,
    body: permissionRefInput,
    handler: ({ db, params, body }) => revokePermission(db, params.role_id, body.permission),
  },
})

export const loader = route.loader
export const action = route.action
