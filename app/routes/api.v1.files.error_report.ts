import { fileErrorReport } from '#app/features/datasets/datasets.server.ts'
import { errorReportQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A file's per-row error report (row, column, value, rule, message) as JSON pages or a CSV download",
    tags: ['Files'],
    permission: 'datasets.read',
    // The CSV streams page by page after the handler returns: one short caller transaction per page.
    transaction: false,
    query: errorReportQuery,
    handler: ({ db, query }) => fileErrorReport(db, query.file_id, query),
  },
})

export const loader = route.loader
export const action = route.action
