import { createStream } from '#app/features/streams/streams.server.ts'
import { createStreamBody } from '#app/features/streams/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Create a real-time stream: a source (http, redis, nats, kafka), tumbling or sliding windows, aggregations, anomaly detection',
    tags: ['Analytics service'],
    permission: 'analytics.write',
    body: createStreamBody,
    status: 201,
    handler: ({ db, caller, body, request }) => createStream(db, caller, body, request),
  },
})

export const loader = route.loader
export const action = route.action
