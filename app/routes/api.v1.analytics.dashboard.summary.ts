import { api } from '#app/http/api-route.server.ts'
import { opsViews } from '#app/features/ops/ops.server.ts'
import { getDashboardSummary } from '#app/features/ops/ops.server.ts'

const route = api({
  GET: {
    summary: 'Dashboard summary: last hour and 24 h against the previous 24 h',
    tags: ['Operations analytics'],
    permission: 'analytics.read',
    rateLimit: 'dashboard',
    cache: { maxAge: 300, staleWhileRevalidate: 60, server: opsViews },
    handler: ({ db }) => getDashboardSummary(db),
  },
})

export const loader = route.loader
export const action = route.action
