import { z } from 'zod'
import { intId, page, withoutNul } from '#app/http/schemas.ts'

/*
  The Inference API's inputs (ML spec module 9), shared by the routes, the pages and the OpenAPI document. Field
  names are the spec's; `unseen`, `top_k`, `explanations` and the list filters are our documented extensions.
*/

const featureName = z.string().min(1).max(200).refine(withoutNul, 'must not contain NUL characters')

export const predictBody = z
  .object({
    train_id: intId,
    preprocess_id: intId,
    features: z.record(featureName, z.unknown(), 'must be an object of column name → value').refine((f) => Object.keys(f).length <= 2000, 'at most 2000 features'),
    target: z.string('must be a string').trim().min(1, 'must not be empty').max(200),
    /** A category not seen in training: scored through the preprocess's unseen bucket (accept, default) or refused. */
    unseen: z.enum(['accept', 'reject'], 'must be accept or reject').optional().default('accept'),
    /** How many column contributions to return, largest first (default every column). */
    top_k: z.number('must be an integer').int('must be an integer').min(0).max(2000).optional(),
  })
  .strict()
export type PredictBody = z.output<typeof predictBody>

export const batchBody = z
  .object({
    train_id: intId,
    dataset_id: intId,
    /** Top-3 reasons (SHAP) per row in the gold table and the CSV (default true). */
    explanations: z.boolean('must be true or false').optional().default(true),
  })
  .strict()
export type BatchBody = z.output<typeof batchBody>

export const formQuery = z.object({ id: intId })
export const resultQuery = z.object({ prediction_id: intId })
export const previewQuery = z.object({ prediction_id: intId, limit: z.coerce.number().int().min(1).max(500).default(20) })

export const predictionsQuery = z.object({
  /** The spec's filter (required there); the Predictions page lists every model's when it is left out. */
  train_id: intId.optional(),
  prediction_type: z.enum(['realtime', 'batch'], 'must be realtime or batch').optional(),
  status: z.enum(['completed', 'failed', 'cancelled', 'running', 'submitted'], 'must be completed, failed, cancelled, running or submitted').optional(),
  from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).or(z.iso.date('must be a date (YYYY-MM-DD)')).optional(),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).or(z.iso.date('must be a date (YYYY-MM-DD)')).optional(),
  format: z.enum(['json', 'csv'], 'must be json or csv').optional().default('json'),
  ...page,
})
export type PredictionsQuery = z.output<typeof predictionsQuery>
