import { listUsers } from '#app/features/auth/auth.server.ts'
import { usersPageQuery } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List your tenant's users",
    tags: ['Users'],
    permission: 'users.read',
    query: usersPageQuery,
    handler: ({ db, query }) => listUsers(db, query),
  },
})

export const loader = route.loader
export const action = route.action
