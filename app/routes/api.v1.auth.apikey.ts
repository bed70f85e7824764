import { issueApiKey } from '#app/features/auth/auth.server.ts'
import { apiKeyInput } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Exchange API client credentials for a scoped API key (shown once)',
    tags: ['Auth'],
    auth: 'none',
    rateLimit: 'default',
    status: 201,
    body: apiKeyInput,
    handler: ({ body, request, db }) => issueApiKey(request, db, body),
  },
})

export const loader = route.loader
export const action = route.action
