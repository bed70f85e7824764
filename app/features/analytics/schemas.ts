import { z } from 'zod'
import { withoutNul } from '#app/http/schemas.ts'

/**
 * Request bodies of the analytics service (AS spec), shared by the routes, the UI actions and the OpenAPI document.
 * Objects are strict: an unknown key is a 400 that names it, not a silently ignored typo.
 */

/** The spec writes dataset ids as strings; ours are integers. Anything else is an INVALID_DATASET 404, as the spec shows. */
export const datasetId = z.union([z.number(), z.string().trim().min(1).max(100)], 'must be a dataset id')

export const columnName = z.string('must be a column name').min(1, 'must be a column name').max(128).refine(withoutNul, 'must not contain NUL characters')

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO date (YYYY-MM-DD)')
const scalar = z.union([z.string().max(1000).refine(withoutNul, 'must not contain NUL characters'), z.number(), z.boolean()])

export const filtersSchema = z.strictObject({
  /** On the dataset's date column (its first Date/DateTime column, or `date_column`); both ends inclusive. */
  date_range: z.strictObject({ start: isoDate.optional(), end: isoDate.optional() }).optional(),
  date_column: columnName.optional(),
  /** column → value, or a list of values (IN). */
  equals: z.record(columnName, z.union([scalar, z.array(scalar).min(1).max(1000)])).optional(),
  /** column → { min, max }, inclusive; numbers or dates. */
  range: z.record(columnName, z.strictObject({ min: z.union([z.number(), isoDate]).optional(), max: z.union([z.number(), isoDate]).optional() })).optional(),
})
export type Filters = z.infer<typeof filtersSchema>

// ---------------------------------------------------------------- descriptive

export const DESCRIPTIVE_METRICS = [
  'count', 'sum', 'mean', 'median', 'std', 'var', 'min', 'max', 'quartiles', 'percentiles', 'skewness', 'kurtosis', 'missing', 'distinct',
] as const
export type DescriptiveMetric = (typeof DESCRIPTIVE_METRICS)[number]
const METRIC_ALIASES: Record<string, DescriptiveMetric> = {
  average: 'mean', avg: 'mean', stddev: 'std', std_dev: 'std', variance: 'var', missing_count: 'missing', null_count: 'missing',
  distinct_count: 'distinct', nunique: 'distinct', skew: 'skewness', kurt: 'kurtosis', total: 'sum', minimum: 'min', maximum: 'max',
}
const metric = z.preprocess(
  (v) => (typeof v === 'string' ? (METRIC_ALIASES[v.trim().toLowerCase()] ?? v.trim().toLowerCase()) : v),
  z.enum(DESCRIPTIVE_METRICS, `must be one of ${DESCRIPTIVE_METRICS.join(', ')}`),
)
const oneOrMany = (s: z.ZodType<string>) => z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(s))

export const descriptiveBody = z.strictObject({
  dataset_id: datasetId,
  metrics: z.array(metric).min(1, 'name at least one metric').max(20).default(['count', 'mean', 'median', 'std', 'quartiles']),
  /** The measured columns; default: every numeric column. The first is the one `summary` describes. */
  columns: oneOrMany(columnName).pipe(z.array(columnName).min(1).max(50)).optional(),
  column: columnName.optional(),
  group_by: oneOrMany(columnName).pipe(z.array(columnName).max(5, 'at most 5 columns')).default([]),
  /** Percentiles to report, 0–100 (with the `percentiles` metric; default 5, 25, 50, 75, 95). */
  percentiles: z.array(z.number().min(0, 'must be 0–100').max(100, 'must be 0–100')).min(1).max(25).optional(),
  filters: filtersSchema.optional(),
  /** Largest groups kept per by_<column> list (ordered by count). */
  max_groups: z.number().int().min(1).max(10_000).default(1000),
})
export type DescriptiveInput = z.infer<typeof descriptiveBody>

// ---------------------------------------------------------------- predictive

export const INTERVALS = ['hour', 'day', 'week', 'month', 'quarter', 'year'] as const
export type Interval = (typeof INTERVALS)[number]

export const predictiveBody = z.strictObject({
  model_type: z.enum(['linear_regression', 'ridge'], 'must be linear_regression or ridge').default('linear_regression'),
  training_data: z.strictObject({
    dataset_id: datasetId,
    /** Numeric columns, and `trend` (periods since the first date) for time-indexed data. */
    features: z.array(columnName).max(30, 'at most 30 features').default([]),
    target: columnName,
    date_column: columnName.optional(),
    filters: filtersSchema.optional(),
    /** Rows per `interval` bucket: 'none' keeps the rows; 'sum' / 'mean' aggregate the target (features are averaged). */
    aggregation: z.enum(['none', 'sum', 'mean']).default('none'),
  }),
  prediction_config: z
    .strictObject({
      horizon: z.number().int().min(1).max(1000).default(30),
      interval: z.enum(INTERVALS, `must be one of ${INTERVALS.join(', ')}`).default('day'),
      confidence_level: z.number().gt(0, 'must be between 0 and 1').lt(1, 'must be between 0 and 1').default(0.95),
      /** Feature values per future period (else each feature is projected by its own linear trend), or per row without dates. */
      future_features: z.array(z.record(columnName, z.number())).min(1).max(1000).optional(),
    })
    .default({ horizon: 30, interval: 'day', confidence_level: 0.95 }),
  model_config: z
    .strictObject({
      /** Ridge penalty (scikit-learn's alpha). */
      alpha: z.number().min(0).max(1e12).default(1),
      /** Share of rows held out to measure r2/rmse/mae: the latest ones for time-indexed data, every k-th row otherwise. */
      holdout_fraction: z.number().min(0.05).max(0.5).default(0.2),
    })
    .default({ alpha: 1, holdout_fraction: 0.2 }),
})
export type PredictiveInput = z.infer<typeof predictiveBody>

// ---------------------------------------------------------------- diagnostic

/** Factors derived from the date column instead of read from a column. */
export const DERIVED_FACTORS = ['seasonality', 'day_of_week', 'month', 'trend'] as const

export const diagnosticBody = z.strictObject({
  dataset_id: datasetId,
  target_metric: columnName,
  potential_factors: z.array(columnName).min(1, 'name at least one factor').max(12, 'at most 12 factors (an exact Shapley decomposition)'),
  analysis_type: z.enum(['correlation'], 'must be correlation').default('correlation'),
  date_column: columnName.optional(),
  filters: filtersSchema.optional(),
  /** The false-discovery rate the adjusted p-values are judged at. */
  significance_level: z.number().gt(0).lt(1).default(0.05),
})
export type DiagnosticInput = z.infer<typeof diagnosticBody>

// ---------------------------------------------------------------- prescriptive

const lpName = z.string().min(1).max(100).regex(/^[A-Za-z_][A-Za-z0-9_.\-[\]]*$/, 'must be a name (letters, digits, _ . - [ ])')
const finite = z.number().refine(Number.isFinite, 'must be a finite number')

export const linearProgramSchema = z.strictObject({
  sense: z.enum(['maximize', 'minimize'], 'must be maximize or minimize'),
  objective: z.record(lpName, finite).refine((o) => Object.keys(o).length > 0, 'needs at least one variable'),
  constraints: z
    .array(
      z.strictObject({
        name: lpName,
        coefficients: z.record(lpName, finite),
        min: finite.optional(),
        max: finite.optional(),
        equals: finite.optional(),
      }),
    )
    .max(10_000)
    .default([]),
  /** Per variable; null is unbounded on that side. A variable without an entry is in [0, ∞). */
  bounds: z.record(lpName, z.strictObject({ min: finite.nullable().optional(), max: finite.nullable().optional() })).default({}),
  integers: z.array(lpName).max(10_000).default([]),
})
export type LinearProgramInput = z.infer<typeof linearProgramSchema>

const resource = z.union([
  columnName,
  z.strictObject({ name: columnName, limit: finite, usage: z.record(columnName, finite) }),
])

export const prescriptiveBody = z.strictObject({
  dataset_id: datasetId.optional(),
  /** maximize_<column> or minimize_<column> (the column the response model predicts), unless `target` names it. */
  objective: z.string().regex(/^(maximize|minimize)_.+$/, 'must be maximize_<metric> or minimize_<metric>').optional(),
  target: columnName.optional(),
  variables: z.array(columnName).min(1).max(20, 'at most 20 variables').optional(),
  constraints: z
    .strictObject({
      /** Σ cost·x over `budget_variables` (default: every variable, cost 1) stays within it. */
      budget: finite.optional(),
      budget_variables: z.array(columnName).min(1).optional(),
      costs: z.record(columnName, z.number().min(0, 'must be 0 or more')).optional(),
      /** Per variable; default: the range seen in the data (the response model is not extrapolated). */
      bounds: z.record(columnName, z.strictObject({ min: finite.optional(), max: finite.optional() })).optional(),
      /**
       * A variable's name: it may not rise above its current level. Another column's name: its use, fitted as a
       * linear function of the variables, may not exceed the most seen in the data. Or { name, limit, usage }.
       */
      resources: z.array(resource).max(20).optional(),
      /** Variables that take whole values. */
      integer: z.array(columnName).optional(),
      linear: z.array(z.strictObject({ name: lpName, coefficients: z.record(columnName, finite), min: finite.optional(), max: finite.optional() })).max(100).optional(),
    })
    .default({}),
  response_curve: z.enum(['quadratic', 'log', 'linear'], 'must be quadratic, log or linear').default('quadratic'),
  date_column: columnName.optional(),
  filters: filtersSchema.optional(),
  /** The current level of each variable: its mean over the latest this-many rows (by date), or over all rows. */
  baseline_rows: z.number().int().min(1).max(100_000).default(30),
  segments: z.number().int().min(2).max(200).default(24),
  /** An explicit program instead of a fitted one: HiGHS's solution is returned as is. */
  lp: linearProgramSchema.optional(),
})
export type PrescriptiveInput = z.infer<typeof prescriptiveBody>

// ---------------------------------------------------------------- segmentation

export const clusterBody = z.strictObject({
  dataset_id: datasetId,
  algorithm: z.enum(['kmeans'], 'must be kmeans').default('kmeans'),
  n_clusters: z.union([z.number().int('must be an integer').min(2, 'must be at least 2').max(50, 'must be at most 50'), z.literal('auto')], 'must be 2–50 or "auto"').default('auto'),
  features: z.array(columnName).min(1, 'name at least one feature').max(20, 'at most 20 features'),
  filters: filtersSchema.optional(),
  random_state: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  n_init: z.number().int().min(1).max(50).default(10),
  max_iterations: z.number().int().min(1).max(1000).default(300),
  /** Write each row's cluster to a gold table (registered to the tenant's datalake). */
  save_assignments: z.boolean().default(true),
})
export type ClusterInput = z.infer<typeof clusterBody>
