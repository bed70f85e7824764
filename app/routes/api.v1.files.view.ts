import { viewFile } from '#app/features/datasets/datasets.server.ts'
import { fileViewQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The first lines of a file as uploaded',
    tags: ['Files'],
    permission: 'datasets.read',
    query: fileViewQuery,
    handler: ({ db, query }) => viewFile(db, query.file_id, query.lines),
  },
})

export const loader = route.loader
export const action = route.action
