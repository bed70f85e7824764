import { createRole, listRoles } from '#app/features/auth/auth.server.ts'
import { createRoleInput } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List your tenant's roles with their permissions",
    tags: ['RBAC'],
    permission: 'rbac.read',
    handler: ({ db }) => listRoles(db),
  },
  POST: {
    summary: 'Create a custom role in your tenant',
    tags: ['RBAC'],
    permission: 'rbac.write',
    body: createRoleInput,
    status: 201,
    handler: ({ db, caller, body }) => createRole(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
