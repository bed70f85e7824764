import { z } from 'zod'
import { intId, withoutNul } from '#app/http/schemas.ts'

/** The datasets area's inputs, shared by its routes (validation) and the OpenAPI document. */

const int = () => z.coerce.number().int('must be an integer')
const pageOf = (max: number, dflt: number) => ({
  skip: int().min(0, 'must be 0 or more').default(0),
  limit: int().min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(dflt),
})

export const datasetIdQuery = z.object({ dataset_id: intId })
export const datasetIdParams = z.object({ dataset_id: intId })
export const fileIdQuery = z.object({ file_id: intId })
export const fileIdParams = z.object({ file_id: intId })

/** GET /api/v1/dataset/view */
export const viewQuery = z.object({
  dataset_id: intId,
  ...pageOf(1000, 100),
  layer: z.enum(['silver', 'bronze'], 'must be silver or bronze').default('silver'),
})

/** GET /api/v1/files/view */
export const fileViewQuery = z.object({
  file_id: intId,
  lines: int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(10),
})

/** GET /api/v1/files/download */
export const downloadQuery = z.object({ file_path: z.string().max(1000, 'is too long').optional(), file_id: intId.optional() })

/** GET /api/v1/files/error_report */
export const errorReportQuery = z.object({
  file_id: intId,
  format: z.enum(['json', 'csv'], 'must be json or csv').default('json'),
  ...pageOf(1000, 100),
})

/**
 * POST /api/v1/dataset/upload, as the query string carries it: strings, checked together with the form fields sent
 * before the files (uploadParams) once the upload knows them.
 */
export const uploadQuery = z.object({
  dataset_name: z.string().optional(),
  usage: z.string().optional(),
  template_id: z.string().optional(),
  iceberg_table_name: z.string().optional(),
})

/** An upload's parameters, from the query string and the form fields (the query string wins). */
export const uploadParams = z.object({
  dataset_name: z.string('is required').trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(withoutNul, 'must not contain NUL characters'),
  usage: z.string('is required').trim().min(1, 'must not be empty'),
  template_id: z.coerce.number('must be an integer id').int('must be an integer id').positive('must be a positive id').optional(),
  iceberg_table_name: z.string().trim().optional(),
})
