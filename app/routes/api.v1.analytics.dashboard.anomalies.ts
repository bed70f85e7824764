import { api } from '#app/http/api-route.server.ts'
import { opsViews } from '#app/features/ops/ops.server.ts'
import { getActiveAnomalies } from '#app/features/ops/ops.server.ts'

const route = api({
  GET: {
    summary: 'Active anomalies against the seasonal baseline, most severe first ([] when none)',
    tags: ['Operations analytics'],
    permission: 'analytics.read',
    rateLimit: 'dashboard',
    cache: { maxAge: 300, staleWhileRevalidate: 60, server: opsViews },
    handler: ({ db }) => getActiveAnomalies(db),
  },
})

export const loader = route.loader
export const action = route.action
