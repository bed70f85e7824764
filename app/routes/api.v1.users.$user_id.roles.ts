import { assignRole, unassignRole } from '#app/features/auth/auth.server.ts'
import { roleRefInput, userIdParams } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Assign a role (id or name) to a user',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params: userIdParams,
    body: roleRefInput,
    handler: ({ db, params, body }) => assignRole(db, params.user_id, body.role),
  },
  DELETE: {
    summary: 'Remove a role (id or name) from a user',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params: userIdParams,
    body: roleRefInput,
    handler: ({ db, params, body }) => unassignRole(db, params.user_id, body.role),
  },
})

export const loader = route.loader
export const action = route.action
