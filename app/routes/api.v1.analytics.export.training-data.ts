import { api } from '#app/http/api-route.server.ts'
import { exportResponse } from '#app/features/ops/ops.server.ts'
import { exportBody } from '#app/features/ops/schemas.ts'

const route = api({
  POST: {
    summary: 'Export annotated training data (service_role or admin; PII redacted unless include_pii), JSON or CSV, streamed',
    tags: ['Operations analytics'],
    permission: 'analytics.export',
    rateLimit: 'export',
    body: exportBody,
    // pages are read in their own short transactions while the response streams
    transaction: false,
    handler: ({ db, caller, body }) => exportResponse(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action
