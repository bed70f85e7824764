import { deleteStream, getStream } from '#app/features/streams/streams.server.ts'
import { streamIdParam } from '#app/features/streams/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'A stream: its source, window, aggregations, counters and live URLs',
    tags: ['Analytics service'],
    permission: 'analytics.read',
    params: streamIdParam,
    handler: ({ db, params, request }) => getStream(db, params.stream_id, request),
  },
  DELETE: {
    summary: 'Stop and delete a stream with its windows and anomalies (its consumers stop within seconds)',
    tags: ['Analytics service'],
    permission: 'analytics.write',
    params: streamIdParam,
    handler: ({ db, params }) => deleteStream(db, params.stream_id),
  },
})

export const loader = route.loader
export const action = route.action
