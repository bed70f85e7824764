import { z } from 'zod'
import { logout } from '#app/features/auth/login.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Log out: revoke the refresh token's session (its access tokens stop working too)",
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    query: z.object({ refresh_token: z.string().min(10, 'is required') }),
    handler: ({ query, db }) => logout(db, query.refresh_token),
  },
})

export const loader = route.loader
export const action = route.action
