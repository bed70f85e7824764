import { getDb } from '#app/db/index.server.ts'
import { MAX_UPLOAD_BODY_BYTES } from '../receive/receive.server.ts'
import { uploadQuery } from '../schemas.ts'
import { uploadDataset } from './upload.server.ts'
import type { ApiDefinition } from '#app/http/api-route.server.ts'

/**
 * POST /api/v1/dataset/upload's definition. Both `routes/api.v1.dataset.upload.ts` (bearer) and the browser page's
 * upload endpoint `routes/_app.datasets_.upload.tsx` (session) serve it. It lives in a .server module: a route module
 * may export only loader/action/… that the client build strips, so a shared definition exported from a route would
 * drag the database into the client bundle.
 */
export const uploadEndpoint: ApiDefinition<typeof uploadQuery> = {
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
  query: uploadQuery,
  handler: async ({ caller, request, query }) => uploadDataset(await getDb(), caller, request, query),
}
