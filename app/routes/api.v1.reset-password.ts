import { resetPassword } from '#app/features/auth/auth.server.ts'
import { resetPasswordQuery } from '#app/features/auth/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Reset a password: your own, or (with users.write) another user's in your tenant",
    tags: ['Login'],
    rateLimit: 'auth',
    query: resetPasswordQuery,
    handler: ({ db, caller, query }) => resetPassword(db, caller, query.user_name, query.new_password),
  },
})

export const loader = route.loader
export const action = route.action
