import { z } from 'zod'
import { getDb } from '#app/db/index.server.ts'
import { uploadDataset, MAX_UPLOAD_BODY_BYTES } from '#app/features/datasets/upload.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Upload CSV file(s) as a new dataset, validated against a template',
    description:
      "multipart/form-data with one or more 'files' parts. dataset_name, usage, template_id and iceberg_table_name come from the query " +
      'string (as in the spec) or from form fields. Without template_id the column types are inferred and returned as inferred_schema.',
    tags: ['Datasets'],
    permission: 'datasets.write',
    bodyType: 'raw',
    maxBodyBytes: MAX_UPLOAD_BODY_BYTES,
    transaction: false,
    status: 201,
    query: z.object({
      dataset_name: z.string().optional(),
      usage: z.string().optional(),
      template_id: z.string().optional(),
      iceberg_table_name: z.string().optional(),
    }),
    handler: async ({ caller, request, query }) => uploadDataset(await getDb(), caller, request, query),
  },
})

export const loader = route.loader
export const action = route.action
