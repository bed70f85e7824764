import { getBatchStatus, publicOrigin } from '#app/features/marketplace/marketplace.server.ts'
import { batchIdParam } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A batch's progress (records processed, successful, failed), its times and its callback's delivery (your tenant's batches only)",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: batchIdParam,
    handler: ({ db, params, request }) => getBatchStatus(db, params.batch_id, publicOrigin(request)),
  },
})

export const loader = route.loader
export const action = route.action
