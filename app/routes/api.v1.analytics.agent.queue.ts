import { api } from '#app/http/api-route.server.ts'
import { opsViews } from '#app/features/ops/ops.server.ts'
import { getQueueMetrics } from '#app/features/ops/ops.server.ts'
import { queueQuery } from '#app/features/ops/schemas.ts'

const route = api({
  GET: {
    summary: 'Approval queue metrics by day or hour over the last N days (days: default 7, clamped to 1–30)',
    tags: ['Operations analytics'],
    permission: 'analytics.read',
    rateLimit: 'agent',
    cache: { maxAge: 300, staleWhileRevalidate: 60, server: opsViews },
    query: queueQuery,
    handler: ({ db, query }) => getQueueMetrics(db, query),
  },
})

export const loader = route.loader
export const action = route.action
