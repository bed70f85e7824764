import { streamWindows } from '#app/features/streams/streams.server.ts'
import { streamIdParam, windowsQuery } from '#app/features/streams/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A stream's windows (oldest first of the newest `limit`), optionally since a time or for one series key",
    tags: ['Analytics service'],
    permission: 'analytics.read',
    params: streamIdParam,
    query: windowsQuery,
    handler: ({ db, params, query }) => streamWindows(db, params.stream_id, query),
  },
})

export const loader = route.loader
export const action = route.action
