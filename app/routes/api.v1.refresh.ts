import { refreshTokens } from '#app/features/auth/auth.server.ts'
import { refreshTokenQuery } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Exchange a refresh token for a new token pair (the old refresh token stops working)',
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    query: refreshTokenQuery,
    handler: ({ query, request, db }) => refreshTokens(request, db, query.refresh_token),
  },
})

export const loader = route.loader
export const action = route.action
