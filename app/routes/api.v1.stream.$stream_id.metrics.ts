import { streamMetrics } from '#app/features/streams/streams.server.ts'
import { streamIdParam } from '#app/features/streams/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A stream's metrics: events processed, events/s and average latency over the last minute, anomalies detected",
    tags: ['Analytics service'],
    permission: 'analytics.read',
    params: streamIdParam,
    handler: ({ db, params }) => streamMetrics(db, params.stream_id),
  },
})

export const loader = route.loader
export const action = route.action
