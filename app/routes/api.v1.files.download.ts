import { z } from 'zod'
import { downloadFile } from '#app/features/datasets/files.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: 'Download a file as uploaded',
    description: "file_path is the file's csv_file_path (/datasets/<id>/files/<id>/<name>), resolved only among your own file records; file_id works too.",
    tags: ['Files'],
    permission: 'datasets.read',
    query: z.object({ file_path: z.string().max(1000, 'is too long').optional(), file_id: intId.optional() }),
    handler: ({ db, query }) => downloadFile(db, query),
  },
})

export const loader = route.loader
export const action = route.action
