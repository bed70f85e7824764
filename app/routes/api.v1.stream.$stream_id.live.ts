import { sseResponse } from '#app/features/streams/streams.server.ts'
import { streamIdParam } from '#app/features/streams/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "Server-Sent Events: a stream's snapshot, then every window update, anomaly and metrics tick",
    tags: ['Analytics service'],
    permission: 'analytics.read',
    params: streamIdParam,
    transaction: false,
    handler: ({ caller, params, request }) => sseResponse(caller, params.stream_id, request),
  },
})

export const loader = route.loader
export const action = route.action
