import { api } from '#app/http/api-route.server.ts'
import { opsViews } from '#app/features/ops/ops.server.ts'
import { getTrainingQuality } from '#app/features/ops/ops.server.ts'
import { daysQuery } from '#app/features/ops/schemas.ts'

const route = api({
  GET: {
    summary: 'Training-data quality by day (days default 7, clamped to 1–30)',
    tags: ['Operations analytics'],
    permission: 'analytics.read',
    rateLimit: 'agent',
    cache: { maxAge: 300, staleWhileRevalidate: 60, server: opsViews },
    query: daysQuery,
    handler: ({ db, query }) => getTrainingQuality(db, query),
  },
})

export const loader = route.loader
export const action = route.action
