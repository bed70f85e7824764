import { api } from '#app/http/api-route.server.ts'
import { ingest } from '#app/features/ops/ops.server.ts'
import { INGEST_KINDS, ingestBody, ingestKindParams, MAX_RECORDS } from '#app/features/ops/schemas.ts'

const route = api({
  POST: {
    summary: 'Bulk upsert shop or agent records by external_id; bad records are reported by index and field, good ones kept',
    description: `kind: ${INGEST_KINDS.join(', ')}. Body: { "records": [...] }, at most ${MAX_RECORDS}.`,
    tags: ['Ingestion'],
    permission: 'ingest.write',
    params: ingestKindParams,
    body: ingestBody,
    handler: ({ db, params, body }) => ingest(db, params.kind, body.records),
  },
})

export const loader = route.loader
export const action = route.action
