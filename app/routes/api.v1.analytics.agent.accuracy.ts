import { api } from '#app/http/api-route.server.ts'
import { opsViews } from '#app/features/ops/ops.server.ts'
import { getAgentAccuracy } from '#app/features/ops/ops.server.ts'
import { accuracyQuery } from '#app/features/ops/schemas.ts'

const route = api({
  GET: {
    summary: 'Agent response accuracy by agent type and day (days default 7, clamped to 1–30; optional agent filter)',
    tags: ['Operations analytics'],
    permission: 'analytics.read',
    rateLimit: 'agent',
    cache: { maxAge: 300, staleWhileRevalidate: 60, server: opsViews },
    query: accuracyQuery,
    handler: ({ db, query }) => getAgentAccuracy(db, query),
  },
})

export const loader = route.loader
export const action = route.action
