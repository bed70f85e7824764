import { z } from 'zod'
import { getDb } from '#app/db/index.server.ts'
import { exchangeClientCredentials } from '#app/features/auth/api-keys.server.ts'
import { api, clientIp } from '#app/http/api-route.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { guardFailures } from '#app/http/rate-limit.server.ts'

const route = api({
  POST: {
    summary: 'Exchange API client credentials for a scoped API key (shown once)',
    tags: ['Auth'],
    auth: 'none',
    rateLimit: 'default',
    status: 201,
    body: z.object({
      client_id: z.string().min(1, 'is required').max(100),
      client_secret: z.string().min(1, 'is required').max(200),
      scope: z.array(z.string().min(1)).max(50).optional(),
      expires_in_days: z.number().int().min(1).max(365).optional(),
    }),
    handler: async ({ body, request }) => {
      const db = await getDb()
      return guardFailures(`apikey:${body.client_id}:${clientIp(request)}`, () => exchangeClientCredentials(db, body), () => new ApiError(401, 'AUTH_REQUIRED', 'Invalid client credentials'))
    },
  },
})

export const loader = route.loader
export const action = route.action
