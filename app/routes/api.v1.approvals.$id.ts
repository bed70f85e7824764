import { api } from '#app/http/api-route.server.ts'
import { decideApproval, getApproval } from '#app/features/ops/ops.server.ts'
import { approvalIdParams, decideInput } from '#app/features/ops/schemas.ts'

const route = api({
  GET: {
    summary: 'One queue item with its conversation',
    tags: ['Approval queue'],
    permission: 'approvals.read',
    params: approvalIdParams,
    handler: ({ db, params }) => getApproval(db, params.id),
  },
  POST: {
    summary: 'Approve, reject or edit a pending draft (recorded with reviewer and time)',
    tags: ['Approval queue'],
    permission: 'approvals.decide',
    params: approvalIdParams,
    body: decideInput,
    handler: ({ db, params, body }) => decideApproval(db, params.id, body),
  },
})

export const loader = route.loader
export const action = route.action
