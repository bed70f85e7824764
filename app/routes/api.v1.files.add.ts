import { getDb } from '#app/db/index.server.ts'
import { addFiles, MAX_UPLOAD_BODY_BYTES } from '#app/features/datasets/datasets.server.ts'
import { datasetIdQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Add CSV file(s) to an existing dataset',
    description: "multipart/form-data with one or more 'files' parts, validated against the dataset's columns.",
    tags: ['Files'],
    permission: 'datasets.write',
    bodyType: 'raw',
    maxBodyBytes: MAX_UPLOAD_BODY_BYTES,
    transaction: false,
    status: 201,
    query: datasetIdQuery,
    handler: async ({ caller, request, query }) => addFiles(await getDb(), caller, request, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action
