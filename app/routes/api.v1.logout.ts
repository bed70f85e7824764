import { z } from 'zod'
import { getDb } from '#app/db/index.server.ts'
import { getAuthProvider } from '#app/features/auth/provider.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Log out: revoke the refresh token's session (its access tokens stop working too)",
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    query: z.object({ refresh_token: z.string().min(10, 'is required') }),
    handler: async ({ query }) => {
      await getAuthProvider().signOut(await getDb(), query.refresh_token)
      return { status: 'success', message: 'Logged out' }
    },
  },
})

export const loader = route.loader
export const action = route.action
