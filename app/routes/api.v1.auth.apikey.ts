import { z } from 'zod'
import { issueApiKey } from '#app/features/auth/login.server.ts'
import { api } from '#app/http/api-route.server.ts'

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
    handler: ({ body, request, db }) => issueApiKey(request, db, body),
  },
})

export const loader = route.loader
export const action = route.action
