import { z } from 'zod'
import { getUser, setUserActive } from '#app/features/users/users.server.ts'
import { api } from '#app/http/api-route.server.ts'

const params = z.object({ user_id: z.string().max(64) })

const route = api({
  GET: {
    summary: 'A user by id (integer id or auth UUID)',
    tags: ['Users'],
    permission: 'users.read',
    params,
    handler: ({ db, params }) => getUser(db, params.user_id),
  },
  PATCH: {
    summary: 'Activate or deactivate a user',
    tags: ['Users'],
    permission: 'users.write',
    params,
    body: z.object({ is_active: z.boolean() }),
    handler: ({ db, params, body }) => setUserActive(db, params.user_id, body.is_active),
  },
})

export const loader = route.loader
export const action = route.action
