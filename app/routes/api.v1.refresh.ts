import { z } from 'zod'
import { refreshTokens } from '#app/features/auth/login.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Exchange a refresh token for a new token pair (the old refresh token stops working)',
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    query: z.object({ refresh_token: z.string().min(10, 'is required') }),
    handler: ({ query, request, db }) => refreshTokens(request, db, query.refresh_token),
  },
})

export const loader = route.loader
export const action = route.action
