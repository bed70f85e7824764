import { z } from 'zod'
import { listUsers } from '#app/features/users/users.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { page } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: "List your tenant's users",
    tags: ['Users'],
    permission: 'users.read',
    query: z.object(page),
    handler: ({ db, query }) => listUsers(db, query),
  },
})

export const loader = route.loader
export const action = route.action
