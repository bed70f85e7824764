import { api } from '#app/http/api-route.server.ts'
import { opsViews } from '#app/features/ops/ops.server.ts'
import { getAgentSummary } from '#app/features/ops/ops.server.ts'

const route = api({
  GET: {
    summary: 'Agent performance over the last 24 hours',
    tags: ['Operations analytics'],
    permission: 'analytics.read',
    rateLimit: 'agent',
    cache: { maxAge: 300, staleWhileRevalidate: 60, server: opsViews },
    handler: ({ db }) => getAgentSummary(db),
  },
})

export const loader = route.loader
export const action = route.action
