import { createPermission, listPermissions } from '#app/features/auth/auth.server.ts'
import { createPermissionInput } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List your tenant's permissions",
    tags: ['RBAC'],
    permission: 'rbac.read',
    handler: ({ db }) => listPermissions(db),
  },
  POST: {
    summary: 'Create a custom permission in your tenant',
    tags: ['RBAC'],
    permission: 'rbac.write',
    body: createPermissionInput,
    status: 201,
    handler: ({ db, caller, body }) => createPermission(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
