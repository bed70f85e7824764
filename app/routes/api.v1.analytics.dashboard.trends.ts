import { api } from '#app/http/api-route.server.ts'
import { opsViews } from '#app/features/ops/ops.server.ts'
import { getHourlyTrends } from '#app/features/ops/ops.server.ts'
import { trendsQuery } from '#app/features/ops/schemas.ts'

const route = api({
  GET: {
    summary: 'Hourly trends for the last N complete hours (hours: default 24, clamped to 1–168), newest first',
    tags: ['Operations analytics'],
    permission: 'analytics.read',
    rateLimit: 'dashboard',
    cache: { maxAge: 900, server: opsViews },
    query: trendsQuery,
    handler: ({ db, query }) => getHourlyTrends(db, { hours: query.hours }),
  },
})

export const loader = route.loader
export const action = route.action
