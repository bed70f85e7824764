import { z } from 'zod'
import { assignRole, unassignRole } from '#app/features/rbac/rbac.server.ts'
import { api } from '#app/http/api-route.server.ts'

const params = z.object({ user_id: z.string().max(64) })
const body = z.object({ role: z.union([z.string().min(1), z.number().int()]) })

const route = api({
  POST: {
    summary: 'Assign a role (id or name) to a user',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params,
    body,
    handler: ({ db, params, body }) => assignRole(db, params.user_id, body.role),
  },
  DELETE: {
    summary: 'Remove a role (id or name) from a user',
    tags: ['RBAC'],
    permission: 'rbac.write',
    params,
    body,
    handler: ({ db, params, body }) => unassignRole(db, params.user_id, body.role),
  },
})

export const loader = route.loader
export const action = route.action
