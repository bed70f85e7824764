import { z } from 'zod'
import { password, resetPassword } from '#app/features/users/users.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Reset a password: your own, or (with users.write) another user's in your tenant",
    tags: ['Login'],
    rateLimit: 'auth',
    query: z.object({ user_name: z.string().min(1, 'is required').max(254), new_password: password }),
    handler: ({ db, caller, query }) => resetPassword(db, caller, query.user_name, query.new_password),
  },
})

export const loader = route.loader
export const action = route.action
