import { z } from 'zod'
import { streamAnomalies } from '#app/features/streams/streams.server.ts'
import { streamIdParam } from '#app/features/streams/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A stream's anomalies: closed windows whose robust z-score over the series' recent windows passed the threshold",
    tags: ['Analytics service'],
    permission: 'analytics.read',
    params: streamIdParam,
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
    handler: ({ db, params, query }) => streamAnomalies(db, params.stream_id, query),
  },
})

export const loader = route.loader
export const action = route.action
