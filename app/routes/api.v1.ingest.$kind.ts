import { z } from 'zod'
import { api } from '#app/http/api-route.server.ts'
import { INGEST_KINDS, ingest, ingestBody } from '#app/features/ops/ingest.server.ts'

const route = api({
  POST: {
    summary: 'Bulk upsert shop or agent records by external_id; bad records are reported by index and field, good ones kept',
    description: `kind: ${INGEST_KINDS.join(', ')}. Body: { "records": [...] }, at most 5000.`,
    tags: ['Ingestion'],
    permission: 'ingest.write',
    params: z.object({ kind: z.enum(INGEST_KINDS, `must be one of ${INGEST_KINDS.join(', ')}`) }),
    body: ingestBody,
    handler: ({ db, params, body }) => ingest(db, params.kind, body.records),
  },
})

export const loader = route.loader
export const action = route.action
