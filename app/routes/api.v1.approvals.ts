import { api } from '#app/http/api-route.server.ts'
import { listApprovals } from '#app/features/ops/ops.server.ts'
import { listApprovalsQuery } from '#app/features/ops/schemas.ts'

const route = api({
  GET: {
    summary: 'The approval queue: drafted replies (pending by priority then age by default) with their conversation',
    tags: ['Approval queue'],
    permission: 'approvals.read',
    query: listApprovalsQuery,
    handler: ({ db, query }) => listApprovals(db, query),
  },
})

export const loader = route.loader
export const action = route.action
