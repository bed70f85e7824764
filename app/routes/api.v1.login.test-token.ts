import { getUser } from '#app/features/users/users.server.ts'
import { api } from '#app/http/api-route.server.ts'

export const { loader, action } = api({
  POST: {
    summary: "Check the bearer token and return its user's details",
    tags: ['Login'],
    handler: ({ db, caller }) => getUser(db, caller.userId),
  },
})
