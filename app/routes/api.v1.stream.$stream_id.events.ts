import { ingestEvents } from '#app/features/streams/streams.server.ts'
import { eventsBody, streamIdParam } from '#app/features/streams/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Send a batch of events to an http-source stream (up to 10,000); applied to its windows before the answer',
    tags: ['Analytics service'],
    permission: 'analytics.write',
    params: streamIdParam,
    body: eventsBody,
    maxBodyBytes: 8 * 1024 * 1024,
    // The batch commits in its own transaction, then goes to live subscribers.
    transaction: false,
    handler: ({ caller, params, body }) => ingestEvents(caller, params.stream_id, body),
  },
})

export const loader = route.loader
export const action = route.action
