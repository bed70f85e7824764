import { downloadFile } from '#app/features/datasets/datasets.server.ts'
import { downloadQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'Download a file as uploaded',
    description: "file_path is the file's csv_file_path (/datasets/<id>/files/<id>/<name>), resolved only among your own file records; file_id works too.",
    tags: ['Files'],
    permission: 'datasets.read',
    query: downloadQuery,
    handler: ({ db, query }) => downloadFile(db, query),
  },
})

export const loader = route.loader
export const action = route.action
