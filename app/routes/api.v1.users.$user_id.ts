import { getUser, setUserActive } from '#app/features/auth/auth.server.ts'
import { userActiveInput, userIdParams } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'A user by id (integer id or auth UUID)',
    tags: ['Users'],
    permission: 'users.read',
    params: userIdParams,
    handler: ({ db, params }) => getUser(db, params.user_id),
  },
  PATCH: {
    summary: 'Activate or deactivate a user',
    tags: ['Users'],
    permission: 'users.write',
    params: userIdParams,
    body: userActiveInput,
    handler: ({ db, caller, params, body }) => setUserActive(db, caller, params.user_id, body.is_active),
  },
})

export const loader = route.loader
export const action = route.action
