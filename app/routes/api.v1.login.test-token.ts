import { getUser } from '#app/features/auth/auth.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Check the bearer token and return its user's details",
    tags: ['Login'],
    handler: ({ db, caller }) => getUser(db, caller.userId),
  },
})

export const loader = route.loader
export const action = route.action
