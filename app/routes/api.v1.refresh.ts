import { z } from 'zod'
import { getDb } from '#app/db/index.server.ts'
import { getAuthProvider } from '#app/features/auth/provider.server.ts'
import { api } from '#app/http/api-route.server.ts'

export const { loader, action } = api({
  POST: {
    summary: 'Exchange a refresh token for a new token pair (the old refresh token stops working)',
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'auth',
    query: z.object({ refresh_token: z.string().min(10, 'is required') }),
    handler: async ({ query }) => getAuthProvider().refresh(await getDb(), query.refresh_token),
  },
})
