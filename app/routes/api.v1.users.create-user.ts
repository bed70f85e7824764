import { createUser } from '#app/features/auth/auth.server.ts'
import { createUserInput, userOut } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Create a user in your tenant (roles default to viewer)',
    tags: ['Users'],
    permission: 'users.write',
    body: createUserInput,
    response: userOut,
    status: 201,
    handler: ({ db, caller, body }) => createUser(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
