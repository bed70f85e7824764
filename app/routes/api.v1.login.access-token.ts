import { z } from 'zod'
import { login } from '#app/features/auth/login.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Log in with username (or email) and password; returns an access and a refresh token',
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    bodyType: 'form',
    body: z.object({
      username: z.string().min(1, 'is required').max(254),
      password: z.string().min(1, 'is required').max(200),
      grant_type: z.string().optional(),
      scope: z.string().optional(),
      client_id: z.string().optional(),
      client_secret: z.string().optional(),
    }),
    handler: ({ body, request, db }) => login(request, db, body.username, body.password),
  },
})

export const loader = route.loader
export const action = route.action
