import { z } from 'zod'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'
import { decideApproval, decideInput, getApproval } from '#app/features/ops/approvals.server.ts'

const params = z.object({ id: intId })

const route = api({
  GET: {
    summary: 'One queue item with its conversation',
    tags: ['Approval queue'],
    permission: 'approvals.read',
    params,
    handler: ({ db, params }) => getApproval(db, params.id),
  },
  POST: {
    summary: 'Approve, reject or edit a pending draft (recorded with reviewer and time)',
    tags: ['Approval queue'],
    permission: 'approvals.decide',
    params,
    body: decideInput,
    handler: ({ db, params, body }) => decideApproval(db, params.id, body),
  },
})

export const loader = route.loader
export const action = route.action
