import { z } from 'zod'
import { algorithmInput, hyperparameters } from '#app/features/ml/schemas.ts'
import { withoutNul } from '#app/http/schemas.ts'

/**
 * Requests of the analytics assets marketplace (MK spec), shared by the routes, the pages and the OpenAPI document.
 * Objects are strict: an unknown key is a 400 naming it. `input_schema` / `output_schema` are never accepted: they are
 * derived from what the asset is (a model's preprocess, a query's parameters).
 */

const text = (max: number) => z.string().max(max).refine(withoutNul, 'must not contain NUL characters')
const slug = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be lower_snake_case (a-z, 0-9, _), at most 64 characters')
export const assetIdParam = z.object({ asset_id: z.string().regex(/^asset_[0-9a-z]{12,32}$/, 'must be an asset id (asset_…)') })
export const sourceIdParam = z.object({ source_id: z.string().regex(/^src_[0-9a-z]{12,32}$/, 'must be a data source id (src_…)') })
export const batchIdParam = z.object({ batch_id: z.string().regex(/^batch_[0-9a-z]{12,32}$/, 'must be a batch id (batch_…)') })
export const trainingJobIdParam = z.object({ job_id: z.string().regex(/^job_[0-9a-z]{12,32}$/, 'must be a training job id (job_…)') })
export const versionParam = assetIdParam.extend({ version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version (1.2.3)') })

// ---------------------------------------------------------------- pricing

export const freeTier = z.strictObject({
  requests: z.number().int('must be an integer').min(0).max(100_000_000),
  period: z.enum(['daily', 'monthly']).default('monthly'),
})
export const pricing = z.strictObject({
  model: z.enum(['per_request', 'free']).default('per_request'),
  price: z.number().min(0, 'must be 0 or more').max(1_000_000).default(0),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code (USD)').default('USD'),
  free_tier: freeTier.optional(),
})
export type Pricing = z.output<typeof pricing>
/** PATCH may change any one field of the pricing; the rest is kept. */
export const pricingPatch = z.strictObject({
  model: z.enum(['per_request', 'free']).optional(),
  price: z.number().min(0).max(1_000_000).optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code (USD)').optional(),
  free_tier: z.strictObject({ requests: z.number().int().min(0).max(100_000_000).optional(), period: z.enum(['daily', 'monthly']).optional() }).optional(),
})

// ---------------------------------------------------------------- the asset's definition

/** A typed parameter of a SQL asset's query (`:name` in the query text). */
export const sqlParameter = z.strictObject({
  name: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower_snake_case name'),
  type: z.enum(['string', 'integer', 'number', 'boolean', 'date']),
  required: z.boolean().default(true),
  default: z.union([z.string().max(1000), z.number(), z.boolean()]).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  enum: z.array(z.union([z.string().max(200), z.number()])).min(1).max(200).optional(),
  max_length: z.number().int().min(1).max(10_000).optional(),
  description: text(500).optional(),
})
export type SqlParameter = z.output<typeof sqlParameter>

export const riskThresholds = z
  .strictObject({ medium: z.number().min(0).max(1), high: z.number().min(0).max(1) })
  .refine((t) => t.medium <= t.high, { message: 'medium must not exceed high', path: ['medium'] })

export const configuration = z.strictObject({
  // model assets: the training (POST /train) whose chosen model the asset serves, or one model version of it
  train_id: z.number().int().positive().optional(),
  model_id: z.number().int().positive().optional(),
  model_type: text(100).optional(),
  algorithms: z.array(text(50)).max(20).optional(),
  features: z.array(text(128)).max(500).optional(),
  additional_features: z.array(text(128)).max(500).optional(),
  target_variable: text(128).optional(),
  validation_split: z.number().gt(0).lt(1).optional(),
  performance_threshold: z.number().min(0).max(1).optional(),
  /** P(positive) from which the risk is medium / high (default 0.33 / 0.66). */
  risk_thresholds: riskThresholds.optional(),
  output_format: z.enum(['json']).optional(),
  batch_processing: z.boolean().optional(),
  // sql assets
  query: z.string().min(1).max(20_000).refine(withoutNul, 'must not contain NUL characters').optional(),
  parameters: z.array(sqlParameter).max(50).optional(),
  max_rows: z.number().int().min(1).max(10_000).optional(),
  timeout_ms: z.number().int().min(100).max(60_000).optional(),
})
export type Configuration = z.output<typeof configuration>

export const assetDataSource = z.strictObject({
  source_id: z.string().regex(/^src_[0-9a-z]{12,32}$/, 'must be a data source id (src_…)'),
  tables: z.array(text(200)).max(100).default([]),
  access_level: z.literal('read_only').default('read_only'),
})

export const validationRules = z.strictObject({
  min_data_points: z.number().int().min(0).optional(),
  required_columns: z.array(text(128)).max(200).optional(),
  date_range_validation: z.boolean().optional(),
})

export const createAssetBody = z.strictObject({
  name: text(200).trim().min(1, 'must not be empty'),
  description: text(5000).default(''),
  category: slug,
  subcategory: slug.optional(),
  data_sources: z.array(assetDataSource).max(20).default([]),
  configuration: configuration.default({}),
  validation_rules: validationRules.default({}),
  pricing: pricing.default({ model: 'free', price: 0, currency: 'USD' }),
})
export type CreateAssetInput = z.output<typeof createAssetBody>

export const patchAssetBody = z.strictObject({
  name: text(200).trim().min(1, 'must not be empty').optional(),
  description: text(5000).optional(),
  category: slug.optional(),
  subcategory: slug.nullable().optional(),
  status: z.enum(['draft', 'published', 'archived']).optional(),
  configuration: configuration.partial().optional(),
  validation_rules: validationRules.optional(),
  pricing: pricingPatch.optional(),
  version_notes: text(5000).optional(),
})
export type PatchAssetInput = z.output<typeof patchAssetBody>

export const listAssetsQuery = z.object({
  status: z.enum(['draft', 'published', 'archived']).optional(),
  category: slug.optional(),
  data_source: z.string().max(100).optional(),
  /** `company` (default): your tenant's assets, as the spec lists them; `marketplace`: every tenant's published assets. */
  scope: z.enum(['company', 'marketplace']).default('company'),
  q: z.string().max(200).optional(),
  sort: z.enum(['created_at', 'updated_at', 'name', '-created_at', '-updated_at', '-name']).default('-created_at'),
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50),
  offset: z.coerce.number().int('must be an integer').min(0, 'must be 0 or more').default(0),
})

export const deleteAssetQuery = z.object({
  permanent: z.enum(['true', 'false'], 'must be true or false').default('false').transform((v) => v === 'true'),
})

// ---------------------------------------------------------------- data sources

export const SOURCE_TYPES = ['postgres', 'mysql', 'datalake', 'bigquery', 'snowflake'] as const
export type SourceType = (typeof SOURCE_TYPES)[number]

/** Every value a connector may take; which are required depends on the type (checked by the connector). */
const connectionConfig = z.strictObject({
  host: z.string().min(1).max(253).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  database: text(128).optional(),
  schema: text(128).optional(),
  username: text(128).optional(),
  user: text(128).optional(),
  password: text(1024).optional(),
  ssl: z.boolean().optional(),
  // bigquery / snowflake
  project_id: text(128).optional(),
  dataset: text(128).optional(),
  region: text(64).optional(),
  credentials: text(20_000).optional(),
  account: text(253).optional(),
  warehouse: text(128).optional(),
  role: text(128).optional(),
  // datalake: limit to these tables (default: every silver/gold table of the tenant)
  tables: z.array(text(200)).max(500).optional(),
})
export type ConnectionConfig = z.output<typeof connectionConfig>
/** Values kept encrypted, never returned. */
export const SECRET_KEYS = ['password', 'credentials'] as const

export const createSourceBody = z.strictObject({
  name: text(200).trim().min(1, 'must not be empty'),
  type: z.enum(SOURCE_TYPES),
  connection_config: connectionConfig.default({}),
  access_level: z.literal('read_only', 'only read_only connections are offered').default('read_only'),
  validation_query: z.string().max(10_000).refine(withoutNul, 'must not contain NUL characters').optional(),
})
export type CreateSourceInput = z.output<typeof createSourceBody>

export const listSourcesQuery = z.object({
  type: z.enum(SOURCE_TYPES).optional(),
  status: z.enum(['connecting', 'connected', 'disconnected', 'error', 'not_installed']).optional(),
  asset_id: z.string().max(100).optional(),
})

// ---------------------------------------------------------------- execution

export const executeBody = z.strictObject({
  input_data: z.record(z.string(), z.unknown()).default({}),
  parameters: z
    .strictObject({
      prediction_horizon: z.number().int().min(1).max(3650).optional(),
      include_confidence_interval: z.boolean().default(true),
      include_feature_importance: z.boolean().default(true),
      confidence_level: z.number().gt(0).lt(1).default(0.95),
      top_factors: z.number().int().min(1).max(50).default(5),
    })
    .default({ include_confidence_interval: true, include_feature_importance: true, confidence_level: 0.95, top_factors: 5 }),
  output_options: z.strictObject({ format: z.enum(['detailed', 'compact']).default('detailed'), include_metadata: z.boolean().default(true) }).default({ format: 'detailed', include_metadata: true }),
})
export type ExecuteInput = z.output<typeof executeBody>

export const subscribeBody = z.strictObject({
  /** Accepting the pricing is the billing agreement: executions past the free tier are then billed, not refused. */
  accept_pricing: z.boolean().default(false),
})

export const batchBody = z.strictObject({
  batch_data: z
    .array(
      z.strictObject({
        id: z.string().max(200).optional(),
        customer_id: z.string().max(200).optional(),
        input_data: z.record(z.string(), z.unknown()),
      }),
    )
    .min(1, 'must hold at least one record')
    .max(10_000, 'at most 10000 records per batch'),
  parameters: executeBody.shape.parameters.unwrap().extend({ parallel_processing: z.boolean().optional() }).optional(),
  callback_url: z.string().url('must be a URL').max(2000).optional(),
})
export type BatchInput = z.output<typeof batchBody>

export const batchResultsQuery = z.object({
  status: z.enum(['pending', 'success', 'error']).optional(),
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
  offset: z.coerce.number().int('must be an integer').min(0, 'must be 0 or more').default(0),
})
export type BatchResultsQuery = z.output<typeof batchResultsQuery>

// ---------------------------------------------------------------- deploys and training (decision 063)

export const deploymentIdParam = z.object({ deployment_id: z.string().regex(/^deploy_[0-9a-z]{12,32}$/, 'must be a deployment id (deploy_…)') })

export const rollbackThreshold = z
  .strictObject({
    /** errors / (successes + errors) of the new version's live executions; bad input and quota refusals do not count */
    error_rate: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
    /** the mean latency (ms) of the new version's successful live executions */
    response_time: z.number().positive('must be more than 0 ms').max(600_000).optional(),
  })
  .refine((t) => t.error_rate !== undefined || t.response_time !== undefined, 'name error_rate, response_time or both')
export type RollbackThreshold = z.output<typeof rollbackThreshold>

/** The settings of a deploy; also what a training's deployment_config may carry for its auto-deploy. */
const deployFields = z.strictObject({
    deployment_strategy: z.enum(['blue_green', 'canary'], 'must be blue_green or canary').default('blue_green'),
    rollback_threshold: rollbackThreshold.optional(),
    notification_webhooks: z.array(z.string().url('must be a URL').max(2000)).max(10, 'at most 10 webhooks').default([]),
    /** canary: the shares of executions the new version takes, step by step; after the last it takes all traffic */
    canary: z
      .strictObject({
        steps: z
          .array(z.number().gt(0, 'a share must be more than 0').lt(1, 'a share must be less than 1 (after the last step the version takes all traffic)'))
          .min(1, 'name at least one share')
          .max(10, 'at most 10 steps')
          .refine((s) => s.every((x, i) => i === 0 || x > s[i - 1]), 'shares must grow step by step')
          .default([0.05, 0.25, 0.5]),
        step_interval_seconds: z.number().int('must be an integer').min(1, 'must be at least 1').max(86_400).default(300),
      })
      .optional(),
    /** executions of the new version needed before the threshold is judged, and per canary step before it grows */
    min_executions: z.number().int('must be an integer').min(1, 'must be at least 1').max(100_000).default(20),
    /** blue_green: how long after the switch the rollback threshold is watched (0: not watched) */
    monitor_seconds: z.number().int('must be an integer').min(0).max(86_400).default(300),
    /** blue_green: how many recorded inputs the health check runs the new version on */
    health_check: z.strictObject({ sample_size: z.number().int('must be an integer').min(1).max(100).default(20) }).default({ sample_size: 20 }),
})
const canaryNeedsCanary = (b: { canary?: unknown; deployment_strategy: string }, ctx: z.RefinementCtx) => {
  if (b.canary && b.deployment_strategy !== 'canary') ctx.addIssue({ code: 'custom', path: ['canary'], message: 'canary settings need deployment_strategy canary' })
}
export const deployBody = deployFields.superRefine(canaryNeedsCanary)
export type DeployInput = z.output<typeof deployBody>

/** 2024-02-30 parses (as March 1st) in JavaScript: a real date reads back the same. */
const realDate = (d: string) => {
  const t = Date.parse(`${d}T00:00:00Z`)
  return !Number.isNaN(t) && new Date(t).toISOString().startsWith(d)
}
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)').refine((d) => realDate(d), 'must be a real date')

/** POST /assets/{asset_id}/train: the spec's three parts; what is left out is the asset's current training's. */
export const trainAssetBody = z.strictObject({
  training_config: z
    .strictObject({
      algorithm: algorithmInput.optional(),
      hyperparameters: hyperparameters.optional(),
      validation_split: z.number('must be a number').min(0.05, 'must be at least 0.05').max(0.5, 'must be at most 0.5').optional(),
      cross_validation_folds: z.union([z.literal(0), z.number().int().min(2).max(10)], 'must be 0 (none) or 2-10').optional(),
      seed: z.number().int('must be an integer').min(0).max(2 ** 31 - 1).optional(),
    })
    .prefault({}),
  data_config: z
    .strictObject({
      /** another validated dataset of the tenant with the same columns (default: the current training's) */
      dataset_id: z.number('must be an integer id').int('must be an integer id').positive().optional(),
      training_period: z
        .strictObject({ start_date: isoDate.optional(), end_date: isoDate.optional(), date_column: text(63).optional() })
        .refine((p) => !p.start_date || !p.end_date || p.start_date <= p.end_date, { message: 'start_date must not be after end_date', path: ['end_date'] })
        .optional(),
      /** auto: the current training's features; all: every column but the ids and the target; or the columns named */
      feature_selection: z.union([z.enum(['auto', 'all']), z.array(text(63)).min(1, 'name at least one feature').max(1000)], 'must be auto, all or a list of columns').default('auto'),
      target_variable: text(63).optional(),
    })
    .prefault({}),
  deployment_config: deployFields
    .extend({
      auto_deploy: z.boolean('must be true or false').default(false),
      /** the metric the new model must reach to be deployed (0–1) */
      performance_threshold: z.number('must be a number').min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
      /** which metric performance_threshold is compared with (default: accuracy for classification, r2 for regression) */
      metric: z.enum(['accuracy', 'precision', 'recall', 'f1_score', 'roc_auc', 'r2'], 'must be accuracy, precision, recall, f1_score, roc_auc or r2').optional(),
      /** the deployment watches rollback_threshold (default error_rate 0.05) and switches back on a breach */
      rollback_on_failure: z.boolean('must be true or false').default(true),
    })
    .superRefine(canaryNeedsCanary)
    .prefault({}),
})
export type TrainAssetInput = z.output<typeof trainAssetBody>
