import { logout } from '#app/features/auth/auth.server.ts'
import { refreshTokenQuery } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Log out: revoke the refresh token's session (its access tokens stop working too)",
    tags: ['Login'],
    auth: 'none',
    rateLimit: 'default',
    query: refreshTokenQuery,
    handler: ({ query, db }) => logout(db, query.refresh_token),
  },
})

export const loader = route.loader
export const action = route.action
