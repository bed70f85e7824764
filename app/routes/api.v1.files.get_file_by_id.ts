import { getFileById } from '#app/features/datasets/datasets.server.ts'
import { fileIdQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A file's details",
    tags: ['Files'],
    permission: 'datasets.read',
    query: fileIdQuery,
    handler: ({ db, query }) => getFileById(db, query.file_id),
  },
})

export const loader = route.loader
export const action = route.action
