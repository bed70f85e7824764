import { z } from 'zod'
import { getDb } from '#app/db/index.server.ts'
import { getAuthProvider } from '#app/features/auth/provider.server.ts'
import { api, clientIp } from '#app/http/api-route.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { guardFailures } from '#app/http/rate-limit.server.ts'

const route = api({
  POST: {
    summary: 'Exchange a refresh token for a new token pair (the old refresh token stops working)',
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    query: z.object({ refresh_token: z.string().min(10, 'is required') }),
    handler: async ({ query, request }) => {
      const db = await getDb()
      // Guessing refresh tokens is throttled per IP like passwords.
      return guardFailures(`refresh:${clientIp(request)}`, () => getAuthProvider().refresh(db, query.refresh_token), () => new ApiError(401, 'AUTH_REQUIRED', 'Invalid refresh token'))
    },
  },
})

export const loader = route.loader
export const action = route.action
