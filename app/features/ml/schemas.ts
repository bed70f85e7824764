import { z } from 'zod'
import { intId, withoutNul } from '#app/http/schemas.ts'

/*
  The Train API's inputs (ML spec module 8), shared by the routes, the UI's form handling and the OpenAPI document.
  Field names are the spec's; hyperparameters, validation and the engine are our documented extensions.
*/

const name = (max: number) =>
  z.string('must be a string').trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`).refine(withoutNul, 'must not contain NUL characters')

/** Column roles. Timestamp and UniqueId (the series id, `unique_id`) are for Forecast trainings. */
export const ATTRIBUTES = ['Id', 'Target', 'Feature', 'Ignore', 'Timestamp', 'UniqueId'] as const
export type Attribute = (typeof ATTRIBUTES)[number]
const ATTRIBUTE_SPELLING: Record<string, Attribute> = {
  id: 'Id', target: 'Target', feature: 'Feature', ignore: 'Ignore',
  timestamp: 'Timestamp', date: 'Timestamp', datetime: 'Timestamp', time: 'Timestamp', ds: 'Timestamp',
  uniqueid: 'UniqueId', seriesid: 'UniqueId', series: 'UniqueId',
}

export type ProblemType = 'Classification' | 'Regression' | 'Forecast'
/** Problem types, spelled as the spec does; other casings are accepted and normalised. */
export const problemType = z
  .string('must be a string')
  .trim()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['classification', 'regression', 'forecast'], 'must be Classification, Regression or Forecast'))
  .transform((s) => (s.charAt(0).toUpperCase() + s.slice(1)) as ProblemType)

export const algorithmInput = z
  .string('must be a string')
  .trim()
  .transform((s) => s.toLowerCase().replace(/[\s_-]+/g, ''))
  .pipe(
    z.enum(
      ['auto', 'xgboost', 'xgboostclassifier', 'xgboostregressor', 'linear', 'logisticregression', 'linearregression', 'seasonalnaive', 'naive', 'ets', 'holtwinters', 'exponentialsmoothing', 'arima', 'autoarima', 'sarima'],
      'must be auto, XGBoost or Linear (Forecast: auto, SeasonalNaive, ETS or ARIMA)',
    ),
  )
  .transform(
    (s) =>
      (s === 'auto'
        ? 'auto'
        : s.startsWith('xgboost')
          ? 'xgboost'
          : s.includes('naive')
            ? 'seasonal_naive'
            : s === 'ets' || s === 'holtwinters' || s === 'exponentialsmoothing'
              ? 'ets'
              : s.includes('arima')
                ? 'arima'
                : 'linear') as Algorithm,
  )
export type Algorithm = 'auto' | 'xgboost' | 'linear' | 'seasonal_naive' | 'ets' | 'arima'
export const FORECAST_ALGORITHMS: readonly Algorithm[] = ['auto', 'seasonal_naive', 'ets', 'arima']

export const trainColumn = z.object({
  column_name: name(63),
  data_type: z.string('must be a string').trim().max(40).optional(),
  attribute_name: z
    .string('must be a string')
    .trim()
    .transform((s) => ATTRIBUTE_SPELLING[s.toLowerCase().replace(/[\s_-]+/g, '')] ?? s)
    .pipe(z.enum(ATTRIBUTES, 'must be Id, Target, Feature or Ignore (Forecast also: Timestamp, UniqueId)')),
})

/** Forecast trainings' settings (our extension of the spec's train body). */
export const forecastSettings = z
  .object({
    frequency: z.string('must be a string').trim().min(1).max(20),
    horizon: z.number('must be an integer').int('must be an integer').min(1, 'must be at least 1').max(400, 'must be at most 400'),
    origins: z.number('must be an integer').int('must be an integer').min(1, 'must be at least 1').max(10, 'must be at most 10'),
    season_length: z.number('must be an integer').int('must be an integer').min(1, 'must be at least 1').max(400, 'must be at most 400'),
    selection: z.enum(['per_series', 'global'], 'must be per_series or global'),
  })
  .partial()
  .strict()

const number = (min: number, max: number, msg: string) => z.number(`must be a number (${msg})`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`)
const integer = (min: number, max: number) => z.number('must be an integer').int('must be an integer').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`)

export const hyperparameters = z
  .object({
    max_depth: integer(1, 16),
    learning_rate: number(0.001, 1, 'the shrinkage per round'),
    n_estimators: integer(1, 2000),
    subsample: number(0.1, 1, 'share of rows per tree'),
    colsample_bytree: number(0.1, 1, 'share of columns per tree'),
    min_child_weight: number(0, 1000, 'minimum hessian in a leaf'),
    scale_pos_weight: number(0.001, 1000, 'weight of the positive class'),
    reg_lambda: number(0, 1000, 'L2 penalty'),
    reg_alpha: number(0, 1000, 'L1 penalty'),
    gamma: number(0, 1000, 'minimum loss reduction to split'),
    max_bin: integer(8, 1024),
    early_stopping_rounds: integer(1, 500),
    C: number(0.0001, 10000, 'inverse L2 strength of the linear baseline'),
    max_iter: integer(10, 5000),
  })
  .partial()
  .strict()

export const trainInput = z
  .object({
    dataset_id: intId,
    predictor_name: name(200),
    domain: name(100),
    problem_type: problemType,
    columns: z.array(trainColumn, 'must be an array of { column_name, attribute_name }').min(1, 'must name at least the Target column').max(1000, 'at most 1000 columns'),
    is_incremental: z.boolean('must be true or false').optional().default(false),
    algorithm: algorithmInput.optional().default('auto'),
    shap_enabled: z.boolean('must be true or false').optional().default(true),
    hyperparameters: hyperparameters.optional().default({}),
    validation_split: number(0.05, 0.5, 'the held-out share').optional().default(0.2),
    cv_folds: z.union([z.literal(0), integer(2, 10)], 'must be 0 (none) or 2-10').optional().default(0),
    seed: integer(0, 2 ** 31 - 1).optional().default(42),
    /** wasm (in-process XGBoost, default), python (native XGBoost in a local process), ray (RAY_ADDRESS). */
    engine: z.enum(['auto', 'wasm', 'python', 'ray'], 'must be auto, wasm, python or ray').optional().default('auto'),
    /** Forecast: the frequency (Hour, Day, Week, Month, Quarter, Year; inferred from the timestamps when left out). */
    frequency: z.string('must be a string').trim().min(1).max(20).optional(),
    forecast: forecastSettings.optional().default({}),
  })
  .strict()
export type TrainInput = z.output<typeof trainInput>

export const detailsInput = z.object({
  dataset_id: intId,
  predictor_name: name(200),
  domain: name(100),
  problem_type: problemType,
})

export const trainIdQuery = z.object({ train_id: intId })
export const trainIdParam = z.object({ train_id: intId })
export const idParam = z.object({ id: intId })

export const updateInput = z.object({ train_id: intId, preprocess_id: intId })

// ---------------------------------------------------------------- callbacks (external trainers)

const finite = z.number('must be a number').refine(Number.isFinite, 'must be a finite number')
const unit = finite.refine((v) => v >= 0 && v <= 1, 'must be between 0 and 1')

/** Metrics an external trainer reports; ours are recomputed from its model where we can. */
export const callbackMetrics = z
  .object({
    accuracy: unit,
    precision: unit,
    recall: unit,
    f1_score: unit,
    roc_auc: unit,
    log_loss: finite.refine((v) => v >= 0, 'must be 0 or more'),
    rmse: finite.refine((v) => v >= 0, 'must be 0 or more'),
    mae: finite.refine((v) => v >= 0, 'must be 0 or more'),
    r2: finite,
  })
  .partial()
  .catchall(finite)

export const trainResultInput = z.object({
  result: z.object(
    {
      metrics: callbackMetrics.optional().default({}),
      checkpoint: z.string().max(1000).nullish(),
      error: z.string().max(4000).nullish(),
      path: z.string().max(1000).nullish(),
      /** The model itself: native XGBoost's JSON model (save_model('model.json')), base64 of its bytes. */
      model_base64: z.string().max(64 * 1024 * 1024).nullish(),
      model_format: z.enum(['xgboost-json'], 'must be xgboost-json').nullish(),
      best_iteration: z.number().int().min(0).nullish(),
      duration_ms: z.number().int().min(0).nullish(),
    },
    'must be an object',
  ),
  train_id: intId,
  preprocess_id: z.union([z.string().max(200), z.number()]).nullish(),
  /** The per-job token given to the external trainer (instead of a service_role token). */
  token: z.string().max(2000).optional(),
})

export const shapResultInput = z.object({
  training_id: intId,
  result: z.record(z.string().min(1).max(200), unit, 'must map column names to importances').refine((r) => Object.keys(r).length > 0, 'must name at least one column'),
  token: z.string().max(2000).optional(),
})

export const terminateQuery = z.object({
  ray_job_id: z.string('must be a string').min(1, 'must not be empty').max(200),
  usage: z.string('must be a string').min(1, 'must not be empty').max(100).optional(),
})

// POST /inference/forecast's body (defined in the forecast room, public here)
export { forecastInput, type ForecastInput } from './forecast/schemas.ts'
