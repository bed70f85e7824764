import { login } from '#app/features/auth/auth.server.ts'
import { loginForm } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Log in with username (or email) and password; returns an access and a refresh token',
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    bodyType: 'form',
    body: loginForm,
    handler: ({ body, request, db }) => login(request, db, body.username, body.password),
  },
})

export const loader = route.loader
export const action = route.action
