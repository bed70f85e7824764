import { z } from 'zod'
import { listStreams } from '#app/features/streams/streams.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "Your tenant's streams, newest first, with their counters",
    tags: ['Analytics service'],
    permission: 'analytics.read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) }),
    handler: ({ db, query }) => listStreams(db, query),
  },
})

export const loader = route.loader
export const action = route.action
